/**
 * The SDK installs outside this repository: core, contract and SDK are packed with pnpm (which
 * turns `workspace:*` into their real versions), installed into a fresh project with plain npm,
 * a user's app (test/packed-app) is compiled with strict tsc and run against a real server.
 */
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { afterAll, describe, expect, it } from "vitest"
import { useServer } from "./serverFixture.js"

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.join(here, "../../..")
const pnpmVersion = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).packageManager.split("@")[1]
const packed = ["packages/core", "packages/api", "apps/sdk"]
const server = useServer()
const work = fs.mkdtempSync(path.join(os.tmpdir(), "ml-sdk-packing-"))
afterAll(() => fs.rmSync(work, { recursive: true, force: true }))

// Asynchronous: the server answering the app runs in this process, so a blocking call would stall it.
const run = async (command: string, args: ReadonlyArray<string>, cwd: string, env: Record<string, string> = {}) =>
  (await promisify(execFile)(command, [...args], { cwd, encoding: "utf8", env: { ...process.env, ...env } })).stdout

describe("the packed SDK in a fresh npm project", () => {
  it("installs with plain npm, typechecks a strict app, and runs it against a server", async () => {
    const tarballs = path.join(work, "tarballs")
    for (const directory of packed) {
      // Built already (turbo runs build first); skip prepack so a test never rewrites another suite's dist.
      await run(
        "npx",
        ["-y", `pnpm@${pnpmVersion}`, "pack", "--pack-destination", tarballs],
        path.join(root, directory),
        {
          npm_config_ignore_scripts: "true"
        }
      )
    }
    for (const directory of packed) {
      const manifest = JSON.parse(fs.readFileSync(path.join(root, directory, "package.json"), "utf8"))
      expect(manifest.scripts.prepack, `${directory} builds before packing`).toBeDefined()
    }
    const files = fs.readdirSync(tarballs).map((name) => path.join(tarballs, name))
    expect(files).toHaveLength(3)

    const app = path.join(work, "app")
    fs.mkdirSync(app)
    fs.writeFileSync(
      path.join(app, "package.json"),
      JSON.stringify({ name: "user-app", private: true, type: "module" })
    )
    await run("npm", ["install", "--no-audit", "--no-fund", ...files, "typescript@5.9.3", "@types/node@20.19.43"], app)
    for (const name of ["app.ts", "tsconfig.json"]) {
      fs.copyFileSync(path.join(here, "packed-app", name), path.join(app, name))
    }
    // No workspace protocol left anywhere in what npm installed.
    for (const name of ["ml-core", "ml-api", "ml-sdk"]) {
      const manifest = fs.readFileSync(path.join(app, "node_modules/@org", name, "package.json"), "utf8")
      expect(manifest).not.toContain("workspace:")
    }
    await run(process.execPath, [path.join(app, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"], app)
    const output = JSON.parse(await run(process.execPath, [path.join(app, "dist/app.js"), server.url], app))
    expect(output).toEqual({
      uploaded: "a serialized model".length,
      downloaded: "a serialized model",
      assigned: true,
      variants: 2,
      notFound: true,
      receiver: "function",
      describe: "function"
    })
  }, 240_000)
})
