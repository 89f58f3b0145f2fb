// `ml-server migrate`: a deployment seeded through a real server process on files is copied to
// PostgreSQL and to Redis, and a server started on the target then serves the same models, audit
// history, production version and verified artifacts, and the API keys made on the source work
// (a revoked one stays revoked). Refusals: a non-empty target, and a source
// with records migrate does not copy yet unless --models-only.
import { freshDatabase } from "@org/ml-adapter-postgres/testing"
import { connectOrFail, deleteKeysWithPrefix, redisUrl, uniquePrefix } from "@org/ml-adapter-redis/testing"
import { spawn } from "node:child_process"
import { createHash } from "node:crypto"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { metadata } from "./helpers.js"
import { httpClient, killHard, mainJs, startedExperiment, startServer } from "./serverProcess.js"

const work = await fs.mkdtemp(path.join(os.tmpdir(), "ml-migrate-"))
const sourceDir = path.join(work, "source")
const database = await freshDatabase("migrate")
const redis = await connectOrFail()
const prefix = uniquePrefix("migrate")
afterAll(async () => {
  await database.drop()
  await deleteKeysWithPrefix(redis, prefix)
  await redis.quit()
  await fs.rm(work, { recursive: true, force: true })
})

const migrate = (...args: Array<string>) =>
  new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(process.execPath, [mainJs, "migrate", ...args], { stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    child.stdout.on("data", (chunk) => (output += chunk))
    child.stderr.on("data", (chunk) => (output += chunk))
    child.on("exit", (code) => resolve({ code, output }))
  })

const envFile = async (name: string, env: Record<string, string>) => {
  const file = path.join(work, name)
  await fs.writeFile(file, Object.entries(env).map(([k, v]) => `${k}=${v}`).join("\n") + "\n")
  return file
}

const bootstrapToken = "bootstrap-admin-token-0123456789"
const auth = { ML_API_TOKEN: bootstrapToken }
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
const name = "churn-model"
const weights = (i: number) => `weights of version ${i} `.repeat(1000 * (i + 1))
/** What the source server answered, to compare with the target's answers. */
let expected: {
  models: Array<unknown>
  histories: Array<unknown>
  production: unknown
  digests: Array<string>
  ids: Array<string>
  keyEvents: unknown
  editorToken: string
  revokedToken: string
}

beforeAll(async () => {
  const server = await startServer(sourceDir, auth)
  try {
    const asAdmin = httpClient(() => server.url)
    const call: typeof asAdmin = (method, route, body, headers = {}) =>
      asAdmin(method, route, body, { ...bearer(bootstrapToken), ...headers })
    const editor = await call("POST", "/v1/keys", { name: "trainer", role: "editor" })
    expect(editor.status).toBe(201)
    const revoked = await call("POST", "/v1/keys", { name: "old-job", role: "viewer" })
    expect((await call("DELETE", `/v1/keys/${revoked.body.key.id}`)).status).toBe(204)
    const ids: Array<string> = []
    for (let i = 0; i < 3; i++) {
      const created = await call("POST", "/v1/models", metadata({ name, version: `${i}.0.0` }))
      expect(created.status).toBe(201)
      const id = created.body.id as string
      expect((await call("PUT", `/v1/models/${id}/artifact`, weights(i))).status).toBe(200)
      for (const status of ["testing", "staging", "production"]) {
        expect((await call("POST", `/v1/models/${id}/promote`, { status })).status).toBe(200)
      }
      ids.push(id)
    }
    // An experiment: a record migrate does not copy yet.
    await startedExperiment(
      call,
      (variant) => call("POST", "/v1/models", metadata({ name: variant, version: "1.0.0" })),
      "checkout-test"
    )
    const models = (await call("GET", "/v1/models?limit=100")).body.items as Array<{ id: string }>
    expected = {
      keyEvents: (await call("GET", "/v1/keys/events")).body,
      editorToken: editor.body.token as string,
      revokedToken: revoked.body.token as string,
      ids,
      models: models.sort((a, b) => a.id.localeCompare(b.id)),
      histories: await Promise.all(models.map(async (m) => (await call("GET", `/v1/models/${m.id}/history`)).body)),
      production: (await call("GET", `/v1/registry/${name}/production`)).body,
      digests: ids.map((_, i) => createHash("sha256").update(weights(i)).digest("hex"))
    }
  } finally {
    await killHard(server.child)
  }
}, 60_000)

const targets = [
  { label: "PostgreSQL", env: () => ({ ML_DATABASE_URL: database.url }) },
  { label: "Redis", env: () => ({ ML_REDIS_URL: redisUrl, ML_REDIS_PREFIX: prefix }) }
]

describe.each(targets)("ml-server migrate from files to $label", ({ env, label }) => {
  it("copies models, history, production and artifacts; a server on the target serves them", async () => {
    const targetDir = path.join(work, `target-${label}`)
    const from = await envFile(`from-${label}.env`, { ML_MODEL_STORAGE_DIR: sourceDir })
    const to = await envFile(`to-${label}.env`, { ML_MODEL_STORAGE_DIR: targetDir, ...env() })

    const refused = await migrate("--from-env", from, "--to-env", to)
    expect(refused.code, refused.output).toBe(1)
    expect(refused.output).toMatch(/source holds 1 experiments.*--models-only/)

    const done = await migrate("--from-env", from, "--to-env", to, "--models-only")
    expect(done.code, done.output).toBe(0)
    expect(done.output).toMatch(
      /Verified: 5 models, \d+ audit events, production pointers and 3 artifacts \(\d+ bytes\) and 2 API keys/
    )
    expect(done.output).toContain("Not copied (--models-only): 1 experiments")

    const again = await migrate("--from-env", from, "--to-env", to, "--models-only")
    expect(again.code, again.output).toBe(1)
    expect(again.output).toContain("the target is not empty: it holds models")

    const server = await startServer(targetDir, { ...auth, ...env() })
    try {
      const anonymous = httpClient(() => server.url)
      // The key made on the source works on the target; the one revoked there stays refused.
      expect((await anonymous("GET", "/v1/models", undefined, bearer(expected.revokedToken))).status).toBe(401)
      const call: typeof anonymous = (method, route, body, headers = {}) =>
        anonymous(method, route, body, { ...bearer(expected.editorToken), ...headers })
      const models = (await call("GET", "/v1/models?limit=100")).body.items as Array<{ id: string }>
      expect(models.sort((a, b) => a.id.localeCompare(b.id))).toEqual(expected.models)
      for (const [i, model] of models.entries()) {
        expect((await call("GET", `/v1/models/${model.id}/history`)).body).toEqual(expected.histories[i])
      }
      expect((await call("GET", `/v1/registry/${name}/production`)).body).toEqual(expected.production)
      const keyEvents = await anonymous("GET", "/v1/keys/events", undefined, bearer(bootstrapToken))
      expect(keyEvents.body).toEqual(expected.keyEvents)
      expect(keyEvents.body.items.map((e: { action: string }) => e.action)).toEqual(["created", "created", "revoked"])
      for (const [i, id] of expected.ids.entries()) {
        const download = await fetch(`${server.url}/v1/models/${id}/artifact`, {
          headers: bearer(expected.editorToken)
        })
        expect(download.status).toBe(200)
        const bytes = Buffer.from(await download.arrayBuffer())
        expect(createHash("sha256").update(bytes).digest("hex")).toBe(expected.digests[i])
      }
    } finally {
      await killHard(server.child)
    }
  }, 120_000)
})

describe("ml-server migrate usage", () => {
  it("exits 2 naming the missing option or the unreadable file", async () => {
    const missing = await migrate("--from-env", path.join(work, "nope.env"))
    expect(missing.code).toBe(2)
    expect(missing.output).toContain("Usage: ml-server migrate --from-env FILE --to-env FILE")
    const unreadable = await migrate("--from-env", path.join(work, "nope.env"), "--to-env", path.join(work, "x.env"))
    expect(unreadable.code).toBe(2)
    expect(unreadable.output).toContain(`Cannot read ${path.join(work, "nope.env")}`)
  })
})
