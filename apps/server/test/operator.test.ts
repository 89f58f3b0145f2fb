/**
 * The operator's path: `npm start` becomes the server process (SIGTERM reaches it, it shuts down
 * cleanly and releases the data directory), `--help` and `--version` answer, and the start-up
 * problems an operator can fix (a taken port, an unwritable data directory, an unknown option) are
 * one line with exit code 2, never a stack trace.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import { killHard, mainJs, startServer } from "./serverProcess.js"

const repositoryRoot = path.join(path.dirname(fileURLToPath(import.meta.url)), "../../..")
const serverPackage = JSON.parse(fs.readFileSync(path.join(repositoryRoot, "apps/server/package.json"), "utf8"))
const directories: Array<string> = []
const temporary = (name: string) => {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), `ml-operator-${name}-`))
  directories.push(directory)
  return directory
}
afterAll(() => {
  for (const directory of directories) fs.rmSync(directory, { recursive: true, force: true })
})

const runMain = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [mainJs, ...args], {
    env: { ...process.env, ML_HOST: "127.0.0.1", ...env },
    encoding: "utf8",
    timeout: 30_000
  })

describe("ml-server command line", () => {
  it("answers --help and --version without starting", () => {
    const help = runMain(["--help"])
    expect(help.status).toBe(0)
    expect(help.stdout).toContain("Usage:")
    expect(help.stdout).toContain("ml-server repair")
    const version = runMain(["--version"])
    expect(version.status).toBe(0)
    expect(version.stdout.trim()).toBe(serverPackage.version)
  })

  it("refuses an unknown option with exit code 2", () => {
    const result = runMain(["--port=9"])
    expect(result.status).toBe(2)
    expect(result.stderr.trim()).toBe("Unknown command or option: --port=9 (see ml-server --help)")
  })

  it("names a taken port in one line, exit code 2", async () => {
    const first = await startServer(temporary("port-a"))
    try {
      const port = new URL(first.url).port
      const second = runMain([], { ML_PORT: port, ML_MODEL_STORAGE_DIR: temporary("port-b") })
      expect(second.status).toBe(2)
      expect(second.stderr.trim()).toBe(
        `Port ${port} on 127.0.0.1 is already in use: stop the process using it or set ML_PORT to another port`
      )
    } finally {
      await killHard(first.child)
    }
  })

  it("names a read-only data directory in one line, exit code 2", () => {
    const mountPoint = temporary("read-only")
    execFileSync("mount", ["-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", mountPoint])
    try {
      const dataDirectory = mountPoint
      const result = runMain([], { ML_PORT: "0", ML_MODEL_STORAGE_DIR: dataDirectory })
      expect(result.status).toBe(2)
      expect(result.stderr.trim()).toBe(
        `Data directory ${dataDirectory} is not writable (EROFS): set ML_MODEL_STORAGE_DIR to a writable directory`
      )
    } finally {
      execFileSync("umount", [mountPoint])
    }
  })
})

describe("npm start", () => {
  it("is the server process: SIGTERM to npm shuts the server down cleanly and frees the data directory", async () => {
    const dataDirectory = temporary("npm-start")
    const npm = spawn("npm", ["start"], {
      cwd: repositoryRoot,
      env: { ...process.env, ML_PORT: "0", ML_MODEL_STORAGE_DIR: dataDirectory, ML_SKIP_BUILD: "1" },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let output = ""
    npm.stdout!.on("data", (chunk) => (output += chunk))
    npm.stderr!.on("data", (chunk) => (output += chunk))
    const exited = new Promise<number | null>((resolve) => npm.on("exit", (code) => resolve(code)))
    await expect.poll(() => /listening on (http:\/\/[^ ]+)/.exec(output)?.[1], { timeout: 60_000 }).toBeDefined()
    const url = /listening on (http:\/\/[^ ]+)/.exec(output)![1]!
    expect((await fetch(`${url}/healthz`)).status).toBe(200)
    const lockFiles = () => fs.readdirSync(dataDirectory).filter((name) => name.endsWith(".lock"))
    expect(lockFiles().length).toBeGreaterThan(0)

    npm.kill("SIGTERM")
    await exited
    expect(output).toContain("SIGTERM received")
    // Nothing listens any more, and the locks are gone: another server may open the directory.
    await expect(fetch(`${url}/healthz`)).rejects.toThrow()
    expect(lockFiles()).toEqual([])
    const next = await startServer(dataDirectory)
    await killHard(next.child)
  })
})
