/**
 * The SDK and the CLI install outside this repository: core, contract, SDK and CLI are packed with
 * pnpm (which turns `workspace:*` into their real versions) and installed into a fresh project with
 * plain npm; a user's app (test/packed-app) is compiled with strict tsc and run against a real
 * server, and so is the installed `ml` command, through npx.
 */
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { killHard, type ListeningServer, startServer, tempDirectory } from "./cli.js"

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.join(here, "../../..")
const pnpmVersion = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).packageManager.split("@")[1]
const packed = ["packages/core", "packages/api", "apps/sdk", "apps/cli"]
const work = fs.mkdtempSync(path.join(os.tmpdir(), "ml-packing-"))
let server: ListeningServer
beforeAll(async () => {
  server = await startServer(tempDirectory("packing-server"))
})
afterAll(async () => {
  if (server) await killHard(server.child)
  fs.rmSync(work, { recursive: true, force: true })
})

const run = async (command: string, args: ReadonlyArray<string>, cwd: string, env: Record<string, string> = {}) =>
  (await promisify(execFile)(command, [...args], { cwd, encoding: "utf8", env: { ...process.env, ...env } })).stdout

describe("the packed SDK and CLI in a fresh npm project", () => {
  it("install with plain npm; a strict app typechecks and runs, and so does npx ml", async () => {
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
    expect(files).toHaveLength(packed.length)

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
    for (const name of ["ml-core", "ml-api", "ml-sdk", "ml-cli"]) {
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

    const version = await run("npx", ["--no-install", "ml", "--version"], app)
    expect(version.trim()).toBe(JSON.parse(fs.readFileSync(path.join(root, "apps/cli/package.json"), "utf8")).version)
    const listed = JSON.parse(
      await run("npx", ["--no-install", "ml", "models", "list", "--json"], app, {
        ML_SERVER_URL: server.url
      })
    )
    expect(JSON.stringify(listed)).toContain("packed-app")
  }, 300_000)
})
