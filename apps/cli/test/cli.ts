/**
 * Runs the built `ml` (dist/main.js) as a user would, as a child process: argv in, exit code,
 * stdout and stderr out. The server side is the real server process (apps/server/test/serverProcess.ts,
 * imported by path: a package dependency on the server would make a cycle).
 */
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { expect } from "vitest"

export { killHard, type ListeningServer, startServer } from "../../server/test/serverProcess.js"

export const mainJs = path.join(path.dirname(fileURLToPath(import.meta.url)), "../dist/main.js")

export interface Ran {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

export interface RunOptions {
  readonly env?: Record<string, string | undefined>
  readonly cwd?: string
}

/** `ml ...args` with ML_SERVER_URL / ML_API_TOKEN from `env` only (the caller's environment does not leak in). */
export const runMl = (args: ReadonlyArray<string>, options: RunOptions = {}): Promise<Ran> => {
  const env: Record<string, string> = { PATH: process.env["PATH"] ?? "" }
  for (const [key, value] of Object.entries(options.env ?? {})) if (value !== undefined) env[key] = value
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [mainJs, ...args],
      { env, cwd: options.cwd, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0
        resolve({ code, stdout, stderr })
      }
    )
  })
}

/** A client of one server: `ml(...)` runs against it; `json(...)` adds --json, expects exit 0 and parses stdout. */
export const mlAgainst = (url: string, token?: string) => {
  const ml = (args: ReadonlyArray<string>, options: RunOptions = {}) =>
    runMl(args, { ...options, env: { ML_SERVER_URL: url, ML_API_TOKEN: token, ...options.env } })
  const json = async <A = any>(args: ReadonlyArray<string>, options: RunOptions = {}): Promise<A> => {
    const ran = await ml([...args, "--json"], options)
    if (ran.code !== 0) throw new Error(`ml ${args.join(" ")} exited ${ran.code}:\n${ran.stderr}`)
    return JSON.parse(ran.stdout) as A
  }
  return { ml, json }
}

export const tempDirectory = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), `ml-cli-${prefix}-`))

/** An error as the CLI must print it: the problem's words, never a stack trace. */
export const expectCleanError = (ran: Ran, code: number, ...fragments: ReadonlyArray<string>) => {
  expect({ code: ran.code, stderr: ran.stderr }).toMatchObject({ code })
  for (const fragment of fragments) expect(ran.stderr).toContain(fragment)
  expect(ran.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m)
}
