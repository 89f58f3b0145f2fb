import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import openapiTS, { astToString } from "openapi-typescript"
import { describe, expect, it } from "vitest"
import { makeOpenApi } from "../../server/dist/index.js"

const typetest = path.join(path.dirname(fileURLToPath(import.meta.url)), "../typetest")
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc")

describe("a client generated from /openapi.json", () => {
  it("agrees with the SDK's own types (typetest/openapi.ts, compiled by tsc)", async () => {
    const types = astToString(await openapiTS(makeOpenApi() as never, { immutable: true }))
    fs.mkdirSync(path.join(typetest, "generated"), { recursive: true })
    fs.writeFileSync(path.join(typetest, "generated/openapi.d.ts"), types)
    const run = spawnSync(process.execPath, [tsc, "-p", path.join(typetest, "tsconfig.json")], { encoding: "utf8" })
    expect(run.stdout + run.stderr).toBe("")
    expect(run.status).toBe(0)
  }, 120_000)
})
