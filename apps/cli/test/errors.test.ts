/**
 * Exit codes and error messages against a real server that requires a token: each problem class
 * has its code (ExitCodes.ts), and the message carries the problem's title, detail and field
 * paths, never a stack trace.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ExitCode } from "../src/ExitCodes.js"
import {
  expectCleanError,
  killHard,
  type ListeningServer,
  mlAgainst,
  runMl,
  startServer,
  tempDirectory
} from "./cli.js"

const token = "cli-test-bootstrap-token-0123456789"
let server: ListeningServer
let data: string
let admin: ReturnType<typeof mlAgainst>
const work = tempDirectory("errors")
const register = ["--algorithm", "a", "--framework", "f"]

beforeAll(async () => {
  data = tempDirectory("errors-data")
  server = await startServer(data, { ML_API_TOKEN: token })
  admin = mlAgainst(server.url, token)
})
afterAll(async () => {
  await killHard(server.child)
  fs.rmSync(work, { recursive: true, force: true })
})

describe("exit codes", () => {
  it("401 without a token or with a wrong one, 403 for a role without the permission: 6", async () => {
    const anonymous = await mlAgainst(server.url).ml(["models", "list"])
    expectCleanError(anonymous, ExitCode.unauthorized, "401 Unauthorized")
    const wrong = await admin.ml(["models", "list", "--token", "wrong-token-wrong-token"])
    expectCleanError(wrong, ExitCode.unauthorized, "401 Unauthorized")

    // Global options may also come before the command name (and override the environment).
    const globalsFirst = await runMl(["--server", server.url, "--token", token, "--json", "models", "list"], {
      env: { ML_SERVER_URL: "http://127.0.0.1:9", ML_API_TOKEN: "wrong-token-wrong-token" }
    })
    expect({ code: globalsFirst.code, body: JSON.parse(globalsFirst.stdout) }).toEqual({ code: 0, body: { items: [] } })

    const viewer = await admin.json(["keys", "create", "--name", "reader", "--role", "viewer"])
    const asViewer = mlAgainst(server.url, viewer.token)
    expect((await asViewer.json(["models", "list"])).items).toEqual([])
    const forbidden = await asViewer.ml(["models", "register", "--name", "x", "--version", "1", ...register])
    expectCleanError(forbidden, ExitCode.unauthorized, "403 Forbidden", "models:write")
  })

  it("404: 3, naming what is missing", async () => {
    expectCleanError(
      await admin.ml(["models", "get", "01J9Z8K2W4X6Y8A0B2C4D6E8FG"]),
      ExitCode.notFound,
      "404 ModelNotFoundError",
      "01J9Z8K2W4X6Y8A0B2C4D6E8FG"
    )
    expectCleanError(await admin.ml(["experiments", "get", "nope"]), ExitCode.notFound, "404")
    expectCleanError(await admin.ml(["drift", "check", "nope"]), ExitCode.notFound, "404")
    expectCleanError(await admin.ml(["pipelines", "status", "nope"]), ExitCode.notFound, "404")
    expectCleanError(await admin.ml(["models", "production", "nothing-in-production"]), ExitCode.notFound, "404")
  })

  it("409 (duplicate version, invalid transition): 4; with --json the problem is on stdout too", async () => {
    const model = await admin.json(["models", "register", "--name", "dup", "--version", "1", ...register])
    expectCleanError(
      await admin.ml(["models", "register", "--name", "dup", "--version", "1", ...register]),
      ExitCode.conflict,
      "409 ModelConflictError",
      "dup version 1 is already registered"
    )
    const transition = await admin.ml(["models", "promote", model.id, "production", "--json"])
    expectCleanError(transition, ExitCode.conflict, "409 InvalidTransitionError")
    expect(JSON.parse(transition.stdout).error).toMatchObject({ status: 409, code: "InvalidTransitionError" })
  })

  it("400 with field paths and 422 (a stored artifact that no longer matches its digest): 5", async () => {
    const invalid = await admin.ml(["models", "register", "--name", "bad name!", "--version", "1", ...register])
    expectCleanError(invalid, ExitCode.invalid, "400 ValidationError", "  name: must start with a letter or digit")
    // Each field message once: the detail's summary, then one line per field (not the detail repeating them).
    expect(invalid.stderr.split("must start with a letter or digit").length - 1).toBe(1)
    expect(invalid.stderr).toContain("  Invalid model metadata\n")

    const artifact = path.join(work, "model.bin")
    fs.writeFileSync(artifact, "weights ".repeat(1000))
    const model = await admin.json([
      "models",
      "register",
      "--name",
      "corrupt",
      "--version",
      "1",
      ...register,
      "--artifact",
      artifact
    ])
    const stored = path.join(data, "artifacts", model.id, model.artifact.sha256)
    const bytes = fs.readFileSync(stored)
    bytes[10] = bytes[10]! ^ 0xff
    fs.writeFileSync(stored, bytes)

    const downloads = path.join(work, "downloads")
    fs.mkdirSync(downloads)
    const out = path.join(downloads, "model.bin")
    const failed = await admin.ml(["models", "download", model.id, "--out", out])
    expectCleanError(failed, ExitCode.invalid, "422 IntegrityError")
    expect(fs.readdirSync(downloads)).toEqual([]) // neither the target nor a temporary file
  })

  it("usage errors: 2, before any request", async () => {
    expectCleanError(await runMl(["modles", "list"]), ExitCode.usage, "unknown command 'modles'")
    expectCleanError(await admin.ml(["models", "register", "--name", "x"]), ExitCode.usage, "--version")
    expectCleanError(await admin.ml(["models", "list", "--limit", "ten"]), ExitCode.usage, "--limit must be an integer")
    expectCleanError(await admin.ml(["models", "list", "--status", "live"]), ExitCode.usage, "live")
    expectCleanError(await admin.ml(["drift", "reports", "--since", "yesterday"]), ExitCode.usage, "ISO 8601")
    expectCleanError(
      await admin.ml(["learner", "init", "--kind", "logistic", "--hashing", "30"]),
      ExitCode.usage,
      "features.bits: must be an integer from 1 to 24"
    )
    const notJson = path.join(work, "experiment.json")
    fs.writeFileSync(notJson, "{name:")
    expectCleanError(
      await admin.ml(["experiments", "create", "--file", notJson]),
      ExitCode.usage,
      "experiment.json is not JSON"
    )
    expect((await runMl(["models"])).code).toBe(ExitCode.usage) // a group without a command: its help
  })

  it("an unreadable or empty artifact fails before registering, so no draft is left behind", async () => {
    const missing = await admin.ml([
      "models",
      "register",
      "--name",
      "orphan",
      "--version",
      "1",
      ...register,
      "--artifact",
      path.join(work, "missing.bin")
    ])
    expectCleanError(missing, ExitCode.failure, "missing.bin: no such file")
    const empty = path.join(work, "empty.bin")
    fs.writeFileSync(empty, "")
    const refused = await admin.ml([
      "models",
      "register",
      "--name",
      "orphan",
      "--version",
      "1",
      ...register,
      "--artifact",
      empty
    ])
    expectCleanError(refused, ExitCode.usage, "empty", "--allow-empty")
    expect((await admin.json(["models", "list", "--name", "orphan"])).items).toEqual([])
  })

  it("no server: 7, naming the URL and how to change it", async () => {
    const ran = await runMl(["models", "list"], { env: { ML_SERVER_URL: "http://127.0.0.1:9" } })
    expectCleanError(ran, ExitCode.unavailable, "cannot reach the server at http://127.0.0.1:9", "ML_SERVER_URL")
  })
})
