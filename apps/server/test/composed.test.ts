// The server on PostgreSQL (durable records) with Redis (hot paths): two server processes on one
// database, one Redis prefix and one shared data directory (for artifacts) serve the whole flow
// (registry, A/B test, drift, online learning), agree on sticky assignments, and after both are
// killed and started again every record and every counter reads the same. Then Redis is emptied:
// the servers refuse to serve from it (readiness included) until `ml-server init-redis` accepts it,
// and PostgreSQL still holds the definitions.
import { freshDatabase, type TestDatabase } from "@org/ml-adapter-postgres/testing"
import { connectOrFail, deleteKeysWithPrefix, redisUrl, uniquePrefix } from "@org/ml-adapter-redis/testing"
import { makeLearner } from "@org/ml-core"
import type { Redis } from "ioredis"
import { spawn } from "node:child_process"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { metadata } from "./helpers.js"
import { httpClient, killHard, type ListeningServer, mainJs, startServer } from "./serverProcess.js"

let database: TestDatabase
let admin: Redis
let directory: string
const prefix = uniquePrefix("composed-server")
let servers: Array<ListeningServer> = []

const environment = () => ({
  ML_DATABASE_URL: database.url,
  ML_REDIS_URL: redisUrl,
  ML_REDIS_PREFIX: prefix,
  ML_REDIS_MARKER_CHECK_MS: "100",
  ML_AB_REWEIGHT_INTERVAL: "0",
  ML_DRIFT_CHECK_INTERVAL: "3600",
  ML_DRIFT_SCHEDULER_TICK_MS: "50"
})
const startBoth = async () => {
  servers = [await startServer(directory, environment()), await startServer(directory, environment())]
}
const stopBoth = () => Promise.all(servers.map((server) => killHard(server.child)))

beforeAll(async () => {
  database = await freshDatabase("composed_server")
  admin = await connectOrFail()
  directory = await fs.mkdtemp(path.join(os.tmpdir(), "ml-composed-server-"))
  await startBoth()
}, 120_000)
afterAll(async () => {
  await stopBoth()
  await deleteKeysWithPrefix(admin, prefix)
  await admin.quit()
  await database?.drop()
  await fs.rm(directory, { recursive: true, force: true })
}, 60_000)

const on = (i: number) => httpClient(() => servers[i]!.url)

// Separable by a + b > 0, from a fixed sequence so the run is repeatable.
const sample = (i: number) => {
  const a = Math.sin(i * 1.7) * 2
  const b = Math.cos(i * 0.9) * 2
  return { sampleId: `s${i}`, features: { a, b }, label: a + b > 0 ? 1 : 0 }
}
/** Values spread over [-1, 1] (a fixed sequence), shifted by `shift`: a shift of 1 is drift. */
const spread = (n: number, shift = 0) => Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) + shift)

/** What must read the same after a restart: records from PostgreSQL, counters from Redis. */
const snapshot = async (ids: { model: string; experiment: string }) => {
  const call = on(1)
  const results = (await call("GET", `/v1/experiments/${ids.experiment}/results`)).body
  return {
    model: (await call("GET", `/v1/models/${ids.model}`)).body.status,
    history: (await call("GET", `/v1/models/${ids.model}/history`)).body,
    experiment: (await call("GET", `/v1/experiments/${ids.experiment}`)).body.status,
    variants: results.variants,
    exposuresByDay: results.exposuresByDay,
    reports: (await call("GET", "/v1/drift/reports?monitorId=payments&since=2000-01-01T00:00:00Z")).body,
    window: (await call("GET", "/v1/drift/monitors/payments")).body,
    pipeline: (await call("GET", "/v1/pipelines/online")).body,
    updates: (await call("GET", "/v1/pipelines/online/updates")).body
  }
}

describe("two servers on PostgreSQL with Redis", () => {
  it("serve the full flow, agree on sticky assignments, and keep everything over a restart", async () => {
    const [a, b] = [on(0), on(1)]
    for (const server of servers) {
      expect(server.output()).toMatch(/postgresql records \(postgres:\/\/.*\), hot paths in redis redis:\/\//)
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200)
    }
    // Registry: register on one instance, upload and promote through the other.
    const name = `composed-${Date.now()}`
    const learner = makeLearner({
      kind: "logistic",
      optimizer: { type: "sgd", learningRate: 0.1 },
      features: { type: "schema", names: ["a", "b"] }
    })
    const register = async (version: string) => {
      const created = await a(
        "POST",
        "/v1/models",
        metadata({ name, version, algorithm: "logistic_regression", framework: "ml-pipeline" })
      )
      expect(created.status).toBe(201)
      const uploaded = await b(
        "PUT",
        `/v1/models/${created.body.id}/artifact`,
        JSON.stringify(learner.state()),
        { "content-type": "application/octet-stream" }
      )
      expect(uploaded.status).toBe(200)
      return created.body.id as string
    }
    const model = await register("1.0.0")
    const challenger = await register("2.0.0")
    for (const status of ["testing", "staging", "production"]) {
      expect((await b("POST", `/v1/models/${model}/promote`, { status })).status).toBe(200)
    }

    // A/B test: users assigned through both instances at once get one answer each.
    const experiment = (await a("POST", "/v1/experiments", {
      name: "composed",
      targetMetric: "ctr",
      variants: [{ modelId: model, isControl: true, trafficPct: 50 }, {
        modelId: challenger,
        isControl: false,
        trafficPct: 50
      }]
    })).body.id as string
    expect((await b("POST", `/v1/experiments/${experiment}/start`)).status).toBe(200)
    const users = Array.from({ length: 40 }, (_, i) => `user-${i}`)
    const answers = await Promise.all(
      [a, b].map((call) =>
        Promise.all(
          users.map(async (userId) =>
            (await call("POST", `/v1/experiments/${experiment}/assignments`, { userId })).body.modelId as string
          )
        )
      )
    )
    expect(answers[1]).toEqual(answers[0])
    expect(new Set(answers[0]).size).toBe(2)
    const observations = users.map((_, i) => ({ modelId: answers[0]![i]!, metric: "ctr", value: i % 2 }))
    expect((await b("POST", `/v1/experiments/${experiment}/metrics`, { observations })).status).toBe(202)
    const results = (await a("GET", `/v1/experiments/${experiment}/results`)).body
    expect(results.variants.map((v: { exposures: number }) => v.exposures).reduce((x: number, y: number) => x + y))
      .toBe(40)
    expect(
      results.variants.map((v: { metrics: { ctr?: { n: number } } }) => v.metrics.ctr?.n ?? 0)
        .reduce((x: number, y: number) => x + y)
    ).toBe(40)

    // Drift: baseline and monitor in PostgreSQL, observations in Redis, the check's report in PostgreSQL.
    expect(
      (await a("POST", "/v1/drift/monitors", {
        id: "payments",
        features: [{ name: "amount", kind: "feature", type: "numeric" }],
        settings: { windowSize: 1000, minWindow: 100 }
      })).status
    ).toBe(201)
    // The scheduler checks a new monitor at its first tick, on one instance only (the lease in Redis).
    const reports = async () =>
      (await a("GET", "/v1/drift/reports?monitorId=payments&since=2000-01-01T00:00:00Z")).body.items as Array<unknown>
    for (let waited = 0; (await reports()).length === 0 && waited < 200; waited++) {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    expect(await reports()).toHaveLength(1)
    expect((await b("PUT", "/v1/drift/monitors/payments/baseline", { amount: spread(2000) })).status).toBe(200)
    for (const [i, call] of [a, b].entries()) {
      expect(
        (await call("POST", "/v1/drift/monitors/payments/observations", { values: { amount: spread(300, 1) } }))
          .status,
        `observations through instance ${i}`
      ).toBe(202)
    }
    const report = await b("POST", "/v1/drift/monitors/payments/check")
    expect(report.status).toBe(200)
    expect(report.body.alerts.map((alert: { feature: string }) => alert.feature)).toContain("amount")

    // Online learning: samples through both instances reach one buffer; the update is recorded.
    expect(
      (await a("POST", "/v1/pipelines", {
        id: "online",
        name: "online",
        modelId: model,
        strategy: "mini-batch",
        batchSize: 40,
        holdoutShare: 0
      })).status
    ).toBe(201)
    expect(
      (await a("POST", "/v1/pipelines/online/samples", { samples: users.slice(0, 20).map((_, i) => sample(i)) }))
        .body
    ).toMatchObject({ added: 20, update: null })
    const fed = await b("POST", "/v1/pipelines/online/samples", {
      samples: Array.from({ length: 21 }, (_, i) => sample(i + 19))
    })
    expect(fed.body).toMatchObject({ added: 20, duplicates: 1, update: { accepted: true, samples: 40 } })

    const before = await snapshot({ model, experiment })
    expect(before.model).toBe("production")
    // The scheduler's check and ours: the lease kept the scheduler to one check per interval over both instances.
    expect(before.reports.items).toHaveLength(2)
    expect(before.pipeline.counters).toMatchObject({ received: 41, duplicates: 1, processed: 40, buffered: 0 })
    expect(before.updates.items).toHaveLength(1)

    await stopBoth()
    await startBoth()
    expect(await snapshot({ model, experiment })).toEqual(before)
    // Sticky: every user keeps the model it was given, through either instance.
    const again = await Promise.all(
      users.map(async (userId, i) =>
        (await on(i % 2)("POST", `/v1/experiments/${experiment}/assignments`, { userId })).body.modelId as string
      )
    )
    expect(again).toEqual(answers[0])
  }, 120_000)

  it("refuses an emptied Redis (readiness too) until init-redis, and PostgreSQL keeps the definitions", async () => {
    await deleteKeysWithPrefix(admin, prefix)
    // Each instance re-reads the marker on its own timer: wait until both have seen it gone.
    const refused = async () => {
      for (let attempt = 0; attempt < 100; attempt++) {
        const states = await Promise.all(servers.map(async (server) => (await fetch(`${server!.url}/readyz`)).status))
        if (states.every((status) => status === 503)) return true
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      return false
    }
    expect(await refused()).toBe(true)
    const experiments = await on(0)("GET", "/v1/experiments")
    expect(experiments.status).toBe(200) // definitions come from PostgreSQL
    expect(experiments.body.items).toHaveLength(1)
    // Hot paths are refused: nothing is written into (or counted from) the emptied Redis.
    const observed = await on(1)("POST", "/v1/drift/monitors/payments/observations", { values: { amount: [1, 2] } })
    expect(observed.status).toBe(503)
    expect(JSON.stringify(observed.body)).toMatch(/instance marker/)
    // An assignment falls back to the deterministic hash, as whenever storage fails, and says it is not stored.
    const assignment = await on(1)("POST", `/v1/experiments/${experiments.body.items[0].id}/assignments`, {
      userId: "user-1"
    })
    expect(assignment.body.sticky).toBe(false)
    // A restart does not get around it (the data directory and PostgreSQL both say Redis lost data).
    await stopBoth()
    const restarted = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(process.execPath, [mainJs], {
        env: { ...process.env, ...environment(), ML_PORT: "0", ML_MODEL_STORAGE_DIR: directory },
        stdio: ["ignore", "pipe", "pipe"]
      })
      let output = ""
      child.stdout.on("data", (chunk) => (output += chunk))
      child.stderr.on("data", (chunk) => (output += chunk))
      child.on("exit", (code) => resolve({ code, output }))
    })
    expect(restarted.code).toBe(1)
    expect(restarted.output).toMatch(/instance marker .* is missing/)
    // The operator accepts the emptied Redis; the servers start and serve, records intact, hot data gone.
    const init = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(process.execPath, [mainJs, "init-redis"], {
        env: { ...process.env, ...environment(), ML_MODEL_STORAGE_DIR: directory },
        stdio: ["ignore", "pipe", "pipe"]
      })
      let output = ""
      child.stdout.on("data", (chunk) => (output += chunk))
      child.stderr.on("data", (chunk) => (output += chunk))
      child.on("exit", (code) => resolve({ code, output }))
    })
    expect(init.code, init.output).toBe(0)
    await startBoth()
    const models = await on(0)("GET", "/v1/models")
    expect(models.body.items.filter((m: { status: string }) => m.status === "production")).toHaveLength(1)
    const pipeline = await on(1)("GET", "/v1/pipelines/online")
    expect(pipeline.body.counters).toMatchObject({ received: 0, processed: 0 })
    expect((await on(1)("GET", "/v1/pipelines/online/updates")).body.items).toHaveLength(1)
  }, 120_000)
})
