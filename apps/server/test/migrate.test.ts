// `ml-server migrate`: a deployment seeded through a real server process on files is copied to
// PostgreSQL and to Redis, and the Redis copy on to a second PostgreSQL database; a server started
// on each target then serves the same models, audit history, production version and verified
// artifacts, the API keys made on the source work (a revoked one stays refused), experiments give
// the same results and dimension breakdowns and every user the same variant, drift monitors the
// same reports and windows, pipelines the same buffers and update records, SDK connections the same
// client keys, encryption keys, audit trail and features payload, and new metrics, checks and
// updates work there.
// Refusals: a non-empty target; --models-only leaves the other records behind, named.
import { freshDatabase } from "@org/ml-adapter-postgres/testing"
import { connectOrFail, deleteKeysWithPrefix, redisUrl, uniquePrefix } from "@org/ml-adapter-redis/testing"
import { type LearnerConfig, makeLearner } from "@org/ml-core"
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
const secondDatabase = await freshDatabase("migrate-from-redis")
const redis = await connectOrFail()
const prefix = uniquePrefix("migrate")
const viaPrefix = uniquePrefix("migrate-via")
afterAll(async () => {
  await database.drop()
  await secondDatabase.drop()
  await deleteKeysWithPrefix(redis, prefix)
  await deleteKeysWithPrefix(redis, viaPrefix)
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
// Private webhook URLs allowed: the test's webhook points at a closed local port.
const auth = { ML_API_TOKEN: bootstrapToken, ML_WEBHOOK_ALLOW_PRIVATE: "true" }
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
  experiment: string
  variants: { control: string; treatment: string }
  users: Array<string>
  assignments: unknown
  results: unknown
  breakdowns: Array<unknown>
  reports: { items: Array<unknown> }
  webhooks: unknown
  check: { features: unknown }
  pipeline: { counters: unknown; progressive: unknown; updates: Array<unknown> }
  registered: unknown
  aliasBetween: string
  sdkConnections: { items: Array<{ clientKey: string; decryptionKey?: string }> }
  sdkConnectionEvents: unknown
  features: Array<{ etag: string | null; body: unknown }>
}

/** The breakdowns the seeded experiment records (metrics and exposures carry them). */
const breakdownDimensions = ["country", "device"]

/** Each connection's features payload: its ETag and body (an encrypted body decrypted by its key's holder only). */
const featuresOf = (url: string, connections: ReadonlyArray<{ clientKey: string; decryptionKey?: string }>) =>
  Promise.all(connections.map(async ({ clientKey, decryptionKey }) => {
    const response = await fetch(`${url}/api/features/${clientKey}`)
    expect(response.status).toBe(200)
    const body = (await response.json()) as { encryptedFeatures?: string }
    return { etag: response.headers.get("etag"), body: decryptionKey === undefined ? body : "encrypted" }
  }))

const learnerConfig: LearnerConfig = {
  kind: "logistic",
  optimizer: { type: "sgd", learningRate: 0.1 },
  features: { type: "schema", names: ["a", "b"] }
}
/** Deterministic values: the same on every run. */
const valueOf = (i: number) => createHash("sha256").update(String(i)).digest()[0]! / 255
const samplesFrom = (first: number, count: number) =>
  Array.from({ length: count }, (_, k) => {
    const i = first + k
    const [a, b] = [Math.sin(i * 1.7) * 2, Math.cos(i * 0.9) * 2]
    return { sampleId: `s${i}`, features: { a, b }, label: a + b > 0 ? 1 : 0 }
  })

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
    // Aliases: a protected one moved twice (the time between is asked on the target), one deleted.
    const registeredPath = `/v1/registered-models/${name}`
    expect((await call("PATCH", registeredPath, { owner: "ml-team", protectedAliases: ["champion"] })).status).toBe(200)
    expect((await call("PUT", `${registeredPath}/aliases/champion`, { version: "0.0.0" })).status).toBe(200)
    expect((await call("PUT", `${registeredPath}/aliases/challenger`, { version: "2.0.0" })).status).toBe(200)
    await new Promise((resolve) => setTimeout(resolve, 5))
    const aliasBetween = new Date().toISOString()
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect((await call("PUT", `${registeredPath}/aliases/champion`, { version: "1.0.0" })).status).toBe(200)
    expect((await call("DELETE", `${registeredPath}/aliases/challenger`)).status).toBe(204)
    // An experiment with sticky assignments, exposures and metric summaries.
    const register = (variant: string) => call("POST", "/v1/models", metadata({ name: variant, version: "1.0.0" }))
    const { control, experiment, treatment } = await startedExperiment(call, register, "checkout-test")
    const users = Array.from({ length: 40 }, (_, i) => `user-${i}`)
    expect((await call("POST", `/v1/experiments/${experiment}/assignments`, { userIds: users })).status).toBe(200)
    const observations = Array.from({ length: 60 }, (_, i) => ({
      modelId: i % 2 ? treatment : control,
      metric: "ctr",
      value: valueOf(i) / 3,
      dimensions: { country: ["de", "fr", "us"][i % 3]!, ...(i % 4 === 0 ? { device: "ios" } : {}) }
    }))
    expect((await call("POST", `/v1/experiments/${experiment}/metrics`, { observations })).status).toBeLessThan(300)
    // Exposures counted by local evaluation, with a breakdown value no metric carries.
    const exposures = [
      { modelId: control, count: 7, dimensions: { country: "de" } },
      { modelId: treatment, count: 5, dimensions: { country: "at", device: "android" } }
    ]
    expect((await call("POST", `/v1/experiments/${experiment}/exposures`, { exposures })).status).toBeLessThan(300)
    // A drift monitor with a baseline, a window and a report (scheduled checks far apart: none during the test).
    expect(
      (await call("POST", "/v1/drift/monitors", {
        id: "latency",
        features: [{ name: "x", kind: "feature", type: "numeric" }],
        settings: { windowSize: 500, minWindow: 10, checkIntervalSeconds: 86_400 }
      })).status
    ).toBe(201)
    const webhook = { url: "http://127.0.0.1:9/drift", secret: "a-long-enough-webhook-secret", monitorId: "latency" }
    expect((await call("POST", "/v1/drift/webhooks", webhook)).status).toBe(201)
    const baseline = Array.from({ length: 200 }, (_, i) => i / 200)
    expect((await call("PUT", "/v1/drift/monitors/latency/baseline", { x: baseline })).status).toBeLessThan(300)
    const window = Array.from({ length: 300 }, (_, i) => valueOf(i) * 1.3)
    expect((await call("POST", "/v1/drift/monitors/latency/observations", { values: { x: window } })).status)
      .toBeLessThan(300)
    const check = (await call("POST", "/v1/drift/monitors/latency/check")).body
    // A pipeline with an update made and samples still buffered (periodic, a day apart: no update of its own).
    const base = (await register("learner")).body.id as string
    const state = JSON.stringify(makeLearner(learnerConfig).state())
    expect((await call("PUT", `/v1/models/${base}/artifact`, state)).status).toBe(200)
    expect(
      (await call("POST", "/v1/pipelines", {
        id: "churn",
        name: "churn",
        modelId: base,
        strategy: "periodic",
        updateFrequencySeconds: 86_400,
        minSamples: 5,
        holdoutShare: 0.25
      })).status
    ).toBe(201)
    expect((await call("POST", "/v1/pipelines/churn/samples", { samples: samplesFrom(0, 40) })).status).toBeLessThan(
      300
    )
    expect((await call("POST", "/v1/pipelines/churn/update")).status).toBe(200)
    const late = [...samplesFrom(40, 6), ...samplesFrom(0, 2)]
    expect((await call("POST", "/v1/pipelines/churn/samples", { samples: late })).status).toBeLessThan(300)
    const pipeline = (await call("GET", "/v1/pipelines/churn")).body
    expect(pipeline.counters).toMatchObject({ buffered: expect.any(Number), duplicates: 2 })
    // SDK connections: a plain one, an encrypted one confined to some experiments, a deleted one.
    expect((await call("POST", "/v1/sdk-connections", { name: "web" })).status).toBe(201)
    const mobile = { name: "mobile", encrypt: true, projectFilter: ["checkout-*"] }
    expect((await call("POST", "/v1/sdk-connections", mobile)).status).toBe(201)
    const gone = await call("POST", "/v1/sdk-connections", { name: "old-web" })
    expect((await call("DELETE", `/v1/sdk-connections/${gone.body.id}`)).status).toBe(204)
    const sdkConnections = (await call("GET", "/v1/sdk-connections")).body
    const models = (await call("GET", "/v1/models?limit=100")).body.items as Array<{ id: string }>
    expected = {
      sdkConnections,
      sdkConnectionEvents: (await call("GET", "/v1/sdk-connections/events")).body,
      features: await featuresOf(server.url, sdkConnections.items),
      keyEvents: (await call("GET", "/v1/keys/events")).body,
      editorToken: editor.body.token as string,
      revokedToken: revoked.body.token as string,
      ids,
      models: models.sort((a, b) => a.id.localeCompare(b.id)),
      histories: await Promise.all(models.map(async (m) => (await call("GET", `/v1/models/${m.id}/history`)).body)),
      production: (await call("GET", `/v1/registry/${name}/production`)).body,
      digests: ids.map((_, i) => createHash("sha256").update(weights(i)).digest("hex")),
      experiment,
      variants: { control, treatment },
      users,
      assignments: (await call("POST", `/v1/experiments/${experiment}/assignments`, { userIds: users })).body,
      results: (await call("GET", `/v1/experiments/${experiment}/results`)).body,
      breakdowns: await Promise.all(
        breakdownDimensions.map(async (d) =>
          (await call("GET", `/v1/experiments/${experiment}/results/breakdown?dimension=${d}`)).body
        )
      ),
      reports: (await call("GET", "/v1/drift/reports?monitorId=latency")).body,
      webhooks: (await call("GET", "/v1/drift/webhooks")).body,
      check,
      pipeline,
      registered: (await call("GET", registeredPath)).body,
      aliasBetween
    }
    // Every value is seeded: de, fr, us (metrics), at (exposures only); ios (metrics), android (exposures).
    expect(expected.breakdowns.map((b) => (b as { values: Array<unknown> }).values.length)).toEqual([4, 2])
  } finally {
    await killHard(server.child)
  }
}, 60_000)

const filesSource = () => ({ ML_MODEL_STORAGE_DIR: sourceDir })
// A migration is a batch job: a Redis busy with the other suites may take longer than the server's 2 s per command.
const patientRedis = { ML_REDIS_COMMAND_TIMEOUT_MS: "30000" }
const targets: Array<{
  readonly label: string
  /** A store the source is first copied to, which is then the source of the migration checked. */
  readonly via?: () => Record<string, string>
  readonly to: () => Record<string, string> & { readonly ML_MODEL_STORAGE_DIR: string }
}> = [
  {
    label: "files to PostgreSQL",
    to: () => ({ ML_MODEL_STORAGE_DIR: path.join(work, "to-postgres"), ML_DATABASE_URL: database.url })
  },
  {
    label: "files to Redis",
    to: () => ({
      ML_MODEL_STORAGE_DIR: path.join(work, "to-redis"),
      ML_REDIS_URL: redisUrl,
      ML_REDIS_PREFIX: prefix,
      ...patientRedis
    })
  },
  {
    label: "Redis to PostgreSQL",
    via: () => ({
      ML_MODEL_STORAGE_DIR: path.join(work, "via-redis"),
      ML_REDIS_URL: redisUrl,
      ML_REDIS_PREFIX: viaPrefix,
      ...patientRedis
    }),
    to: () => ({ ML_MODEL_STORAGE_DIR: path.join(work, "redis-to-postgres"), ML_DATABASE_URL: secondDatabase.url })
  }
]

describe("ml-server migrate --models-only", () => {
  it("copies models, artifacts and keys alone, naming what it left behind", async () => {
    const from = await envFile("models-only-from.env", filesSource())
    const to = await envFile("models-only-to.env", { ML_MODEL_STORAGE_DIR: path.join(work, "models-only") })
    const done = await migrate("--from-env", from, "--to-env", to, "--models-only")
    expect(done.code, done.output).toBe(0)
    expect(done.output).toMatch(/Verified: \d+ models, \d+ audit events, production pointers and \d+ artifacts/)
    expect(done.output).toContain(
      "Not copied (--models-only): 1 experiments, 1 drift monitors, 1 drift webhooks, 1 pipelines, 2 SDK connections"
    )
  }, 60_000)
})

describe.each(targets)("ml-server migrate from $label", ({ label, to: toEnv, via }) => {
  it("copies everything and verifies it; a server on the target serves the same and keeps working", async () => {
    let from = await envFile(`from-${label}.env`, filesSource())
    const to = await envFile(`to-${label}.env`, toEnv())
    if (via !== undefined) {
      const middle = await envFile(`via-${label}.env`, via())
      const first = await migrate("--from-env", from, "--to-env", middle)
      expect(first.code, first.output).toBe(0)
      from = middle
    }

    const done = await migrate("--from-env", from, "--to-env", to)
    expect(done.code, done.output).toBe(0)
    expect(done.output).toMatch(
      /Verified: \d+ models, \d+ audit events, production pointers and \d+ artifacts \(\d+ bytes\) and 2 API keys/
    )
    expect(done.output).toMatch(/Verified: \d+ registered models with their aliases match the source/)
    expect(done.output).toMatch(/Verified: 1 experiments \(40 sticky assignments, counters, summaries\)/)
    expect(done.output).toMatch(/, 1 drift monitors \(\d+ reports, windows, baselines\), 1 webhooks \(\d+ deliveries\)/)
    expect(done.output).toMatch(/and 1 pipelines \(\d+ buffered samples, 1 updates\) and 2 SDK connections/)

    const again = await migrate("--from-env", from, "--to-env", to)
    expect(again.code, again.output).toBe(1)
    expect(again.output).toContain("the target is not empty: it holds models")

    const { ML_MODEL_STORAGE_DIR: targetDir, ...env } = toEnv()
    const server = await startServer(targetDir, { ...auth, ...env })
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
      // The registered model with its owner, protection and alias pointers; the alias's past is answered too.
      expect((await call("GET", `/v1/registered-models/${name}`)).body).toEqual(expected.registered)
      expect((expected.registered as { aliases: unknown }).aliases).toEqual({ champion: expected.ids[1] })
      const championThen = await call(
        "GET",
        `/v1/registered-models/${name}/aliases/champion?at=${encodeURIComponent(expected.aliasBetween)}`
      )
      expect(championThen.body.id).toBe(expected.ids[0])
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

      // Experiments: the same results to the last digit, every user the same variant, and it records on.
      const experiment = `/v1/experiments/${expected.experiment}`
      expect((await call("GET", `${experiment}/results`)).body).toEqual(expected.results)
      expect((await call("POST", `${experiment}/assignments`, { userIds: expected.users })).body)
        .toEqual(expected.assignments)
      for (const [i, dimension] of breakdownDimensions.entries()) {
        const breakdown = await call("GET", `${experiment}/results/breakdown?dimension=${dimension}`)
        expect(breakdown.body, dimension).toEqual(expected.breakdowns[i])
      }
      const more = [{ modelId: expected.variants.control, metric: "ctr", value: 0.5 }]
      expect((await call("POST", `${experiment}/metrics`, { observations: more })).status).toBeLessThan(300)
      const ctrCount = (results: unknown) =>
        (results as { variants: Array<{ modelId: string; metrics: { ctr: { n: number } } }> }).variants
          .find((v) => v.modelId === expected.variants.control)!.metrics.ctr.n
      expect(ctrCount((await call("GET", `${experiment}/results`)).body)).toBe(ctrCount(expected.results) + 1)

      // SDK connections: the same client and encryption keys and trail; the keys read the same payload.
      const admin = bearer(bootstrapToken)
      expect((await anonymous("GET", "/v1/sdk-connections", undefined, admin)).body).toEqual(expected.sdkConnections)
      expect((await anonymous("GET", "/v1/sdk-connections/events", undefined, admin)).body).toEqual(
        expected.sdkConnectionEvents
      )
      expect(await featuresOf(server.url, expected.sdkConnections.items)).toEqual(expected.features)

      // Drift: the same reports, and a check on the target sees the same window against the same baseline.
      // The copied reports come first; a server checks its monitors once at start, which may add one.
      const reports = (await call("GET", "/v1/drift/reports?monitorId=latency")).body.items as Array<unknown>
      expect(reports.slice(0, expected.reports.items.length)).toEqual(expected.reports.items)
      expect((await call("GET", "/v1/drift/webhooks")).body).toEqual(expected.webhooks)
      const check = await call("POST", "/v1/drift/monitors/latency/check")
      expect(check.status).toBe(200)
      expect(check.body.features).toEqual(expected.check.features)

      // Pipelines: the same counters, progressive metrics and updates; the copied buffer trains an update.
      const pipeline = (await call("GET", "/v1/pipelines/churn")).body
      expect(pipeline.counters).toEqual(expected.pipeline.counters)
      expect(pipeline.progressive).toEqual(expected.pipeline.progressive)
      expect(pipeline.updates).toEqual(expected.pipeline.updates)
      // Ids seen on the source are still remembered: replays are duplicates, a new one is added.
      const replay = await call("POST", "/v1/pipelines/churn/samples", { samples: samplesFrom(44, 4) })
      expect(replay.status, JSON.stringify(replay.body)).toBeLessThan(300)
      expect(replay.body).toMatchObject({ duplicates: 2 })
      const update = await call("POST", "/v1/pipelines/churn/update")
      expect(update.status).toBe(200)
      expect((await call("GET", "/v1/pipelines/churn")).body.updates).toHaveLength(expected.pipeline.updates.length + 1)
    } finally {
      await killHard(server.child)
    }
  }, 180_000)
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
