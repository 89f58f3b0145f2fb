/**
 * The OpenAPI-driven fuzzer: thousands of requests over every documented operation (fitting,
 * mutated and hostile; see openapi-fuzz.ts) against the in-process app, in filesystem mode and in
 * Redis mode. No request may answer 5xx; afterwards /healthz and /readyz answer 200 and the heap
 * (after GC) has grown by less than `heapGrowthBound`. Each mode runs a fixed seed and a random
 * one; a failure prints the seed: rerun with `ML_FUZZ_SEED=<seed> npx vitest run test/fuzz.test.ts`.
 */
import { connectOrFail, deleteKeysWithPrefix, redisUrl, uniquePrefix } from "@org/ml-adapter-redis/testing"
import { type LearnerConfig, makeLearner } from "@org/ml-core"
import * as fc from "fast-check"
import * as v8 from "node:v8"
import * as vm from "node:vm"
import { afterAll, describe, expect, it } from "vitest"
import { json, makeTestApp, metadata } from "./helpers.js"
import { type EntityPools, type FuzzRequest, type OpenApiDocument, operationsOf, requestsFor } from "./openapi-fuzz.js"

/** Requests per seed and mode: two seeds and two modes make 4 x this per run. */
const requestsPerSeed = Number(process.env.ML_FUZZ_REQUESTS ?? 1000)
const fixedSeed = 20261102
const seeds = process.env.ML_FUZZ_SEED !== undefined
  ? [Number(process.env.ML_FUZZ_SEED)]
  : [fixedSeed, Math.floor(Math.random() * 2 ** 31)]
const chunkSize = 250
/** Requests in flight at once: handlers interleave as they would under load. */
const concurrency = 8
/**
 * What the heap may grow by over one mode's run, after GC. Measured: about 10 MiB of warm-up
 * (compiled code, caches) in the first 1,000 requests, then flat (fs 13 MiB, Redis 6 MiB after
 * 6,000); retention that grows with requests (delivery records, metric series) breaks it.
 */
const heapGrowthBound = 48 * 1024 * 1024
/** Generous: the run is a few seconds on an idle machine, but CI machines are shared. */
const timeoutMillis = Math.max(120_000, requestsPerSeed * seeds.length * 30)

v8.setFlagsFromString("--expose-gc")
const collectGarbage = vm.runInNewContext("gc") as () => void
/** Heap in use after GC; the pause lets finalizers run (request bodies are released through them). */
const heapAfterGc = async () => {
  collectGarbage()
  await new Promise((resolve) => setTimeout(resolve, 50))
  collectGarbage()
  return process.memoryUsage().heapUsed
}

type App = Awaited<ReturnType<typeof makeTestApp>>["app"]

interface Failure {
  readonly request: FuzzRequest
  readonly status: number | string
  readonly answer: string
}

const sample = (text: string, length = 160) => (text.length > length ? `${text.slice(0, length)}...` : text)
const describeBody = (body: FuzzRequest["body"]) =>
  body === undefined ? "(none)" : typeof body === "string" ? sample(body) : `${body.length} bytes`

const learnerConfig: LearnerConfig = {
  kind: "logistic",
  optimizer: { type: "sgd", learningRate: 0.1 },
  features: { type: "schema", names: ["amount", "hour"] }
}

/** Entities for the requests to act on, created through the API itself. */
const createEntities = async (app: App, tag: string): Promise<EntityPools> => {
  const created = async (url: string, init: RequestInit) => {
    const response = await app.request(url, init)
    const text = await response.text()
    expect(response.status, `${init.method} ${url}: ${text}`).toBeLessThan(300)
    return JSON.parse(text) as { id: string }
  }
  const models: Array<string> = []
  for (const version of ["1.0.0", "1.1.0", "2.0.0"]) {
    const model = await created(
      "/v1/models",
      json(metadata({ name: `fuzz-${tag}`, version, algorithm: "logistic_regression", framework: "ml-pipeline" }))
    )
    await created(`/v1/models/${model.id}/artifact`, {
      method: "PUT",
      body: JSON.stringify(makeLearner(learnerConfig).state()),
      headers: { "content-type": "application/octet-stream" }
    })
    models.push(model.id)
  }
  await created(`/v1/models/${models[0]}/promote`, json({ status: "testing" }))
  // Several experiments, so that completing one (which the fuzzer will) leaves others running.
  const experiments: Array<string> = []
  for (const [i, kind] of ["ab", "ab", "bandit", "bandit"].entries()) {
    const experiment = await created(
      "/v1/experiments",
      json({
        id: `fuzz-exp-${tag}-${i}`,
        name: "fuzz",
        targetMetric: "conversion",
        mode: kind,
        variants: [
          { modelId: models[0], isControl: true, trafficPct: 50 },
          { modelId: models[1], isControl: false, trafficPct: 50 }
        ]
      })
    )
    await created(`/v1/experiments/${experiment.id}/start`, { method: "POST" })
    experiments.push(experiment.id)
  }
  const monitor = await created(
    "/v1/drift/monitors",
    json({
      id: `fuzz-mon-${tag}`,
      modelId: models[0],
      features: [
        { name: "amount", kind: "feature", type: "numeric" },
        { name: "country", kind: "feature", type: "categorical" },
        { name: "score", kind: "prediction", type: "numeric" }
      ],
      settings: { windowSize: 200, minWindow: 10 }
    })
  )
  await created(
    `/v1/drift/monitors/${monitor.id}/baseline`,
    json({
      amount: Array.from({ length: 50 }, (_, i) => i),
      country: Array.from({ length: 50 }, (_, i) => ["de", "fr", "es"][i % 3]),
      score: Array.from({ length: 50 }, (_, i) => i / 50)
    }, { method: "PUT" })
  )
  const webhook = await created(
    "/v1/drift/webhooks",
    json({ url: "http://127.0.0.1:9/unreachable", secret: "a-long-enough-webhook-secret", monitorId: monitor.id })
  )
  const pipeline = await created(
    "/v1/pipelines",
    json({ id: `fuzz-pipe-${tag}`, name: "fuzz", modelId: models[2], strategy: "mini-batch", batchSize: 20 })
  )
  return {
    models,
    modelNames: [`fuzz-${tag}`],
    experiments,
    monitors: [monitor.id],
    pipelines: [pipeline.id],
    webhooks: [webhook.id],
    names: ["amount", "country", "score", "hour", "conversion", "latency_ms"]
  }
}

/** Sends every request (a few at a time) and returns those answered 5xx or not answered at all. */
const send = async (
  app: App,
  requests: ReadonlyArray<FuzzRequest>,
  statuses: Map<string, Map<number, number>>
): Promise<Array<Failure>> => {
  const failures: Array<Failure> = []
  let next = 0
  const worker = async () => {
    while (next < requests.length) {
      const request = requests[next++]!
      const started = performance.now()
      try {
        const hasBody = request.body !== undefined && request.method !== "GET"
        const response = await app.request(request.url, {
          method: request.method,
          headers: request.headers,
          ...(hasBody ? { body: request.body as BodyInit } : {})
        })
        // An event stream (GrowthBook's /sub, the experiment stream) stays open: its status and
        // headers are the answer, and cancelling the body ends it as a client leaving does.
        const streaming = response.headers.get("content-type")?.startsWith("text/event-stream") === true
        const answer = streaming ? (await response.body?.cancel(), "") : await response.text()
        const route = `${request.method} ${request.route}`
        const counts = statuses.get(route) ?? new Map<number, number>()
        statuses.set(route, counts.set(response.status, (counts.get(response.status) ?? 0) + 1))
        // Where the run's time goes (printed with ML_FUZZ_VERBOSE), stored under the pseudo-status -1.
        counts.set(-1, (counts.get(-1) ?? 0) + Math.round(performance.now() - started))
        if (response.status >= 500) failures.push({ request, status: response.status, answer })
      } catch (error) {
        failures.push({ request, status: "threw", answer: String(error) })
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return failures
}

/** Failures grouped by route, a few samples each, for a message one can act on. */
const report = (seed: number, failures: ReadonlyArray<Failure>, logs: ReadonlyArray<string>) => {
  const byRoute = new Map<string, Array<Failure>>()
  for (const f of failures) {
    const key = `${f.request.method} ${f.request.route}`
    byRoute.set(key, [...(byRoute.get(key) ?? []), f])
  }
  const lines = [`${failures.length} requests answered 5xx (seed ${seed}; rerun with ML_FUZZ_SEED=${seed})`]
  for (const [route, list] of [...byRoute].sort((a, b) => b[1].length - a[1].length)) {
    lines.push(`  ${route}: ${list.length}`)
    for (const f of list.slice(0, 3)) {
      lines.push(`    ${f.status} ${sample(f.request.url, 100)} body=${describeBody(f.request.body)}`)
      lines.push(`      -> ${sample(f.answer)}`)
    }
  }
  // The server's own account (stack traces of unhandled errors), first lines of a few distinct ones.
  const errors = [...new Set(logs.map((line) => line.split("\n").slice(0, 3).join(" | ")))].slice(0, 8)
  if (errors.length > 0) lines.push("  server log:", ...errors.map((e) => `    ${sample(e, 400)}`))
  return lines.join("\n")
}

const fuzz = async (env: Record<string, string>, tag: string) => {
  // The seeded webhook points at a closed local port: deliveries fail at once, nothing leaves the host.
  const t = await makeTestApp({ ML_WEBHOOK_ALLOW_PRIVATE: "true", ...env })
  try {
    const doc = (await (await t.app.request("/openapi.json")).json()) as OpenApiDocument
    expect(operationsOf(doc).length).toBeGreaterThan(40)
    const pools = await createEntities(t.app, tag)
    const heapBefore = await heapAfterGc()
    const messages: Array<string> = []
    let sent = 0
    const statuses = new Map<string, Map<number, number>>()
    for (const seed of seeds) {
      // Generated a chunk at a time (chunk i from seed + i): a whole run's bodies need not be held at once.
      const failures: Array<Failure> = []
      for (let chunk = 0; chunk * chunkSize < requestsPerSeed; chunk++) {
        const count = Math.min(chunkSize, requestsPerSeed - chunk * chunkSize)
        const requests = fc.sample(requestsFor(doc, pools), { seed: seed + chunk, numRuns: count })
        failures.push(...(await send(t.app, requests, statuses)))
        sent += requests.length
        if (process.env.ML_FUZZ_VERBOSE !== undefined) {
          console.info(`  ${sent} sent: heap growth ${((await heapAfterGc() - heapBefore) / 2 ** 20).toFixed(1)} MiB`)
        }
      }
      if (failures.length > 0) messages.push(report(seed, failures, t.logs.splice(0)))
    }
    const heapGrowth = await heapAfterGc() - heapBefore
    const health = await t.app.request("/healthz")
    const ready = await t.app.request("/readyz")
    console.info(
      `fuzz ${tag}: ${sent} requests, seeds ${seeds.join(", ")}, heap growth after GC ${
        (heapGrowth / 2 ** 20).toFixed(1)
      } MiB`
    )
    if (process.env.ML_FUZZ_VERBOSE !== undefined) {
      for (const [route, counts] of [...statuses].sort()) {
        console.info(`  ${route} ${[...counts].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}:${n}`).join(" ")}`)
      }
    }
    expect(messages.join("\n\n"), "no request answers 5xx").toBe("")
    expect(health.status, await health.text()).toBe(200)
    expect(ready.status, await ready.text()).toBe(200)
    expect(heapGrowth, "heap growth after GC, bytes").toBeLessThan(heapGrowthBound)
  } finally {
    await t.close()
  }
}

describe("OpenAPI-driven fuzzing: no input makes the server answer 5xx", () => {
  it("in filesystem mode", async () => {
    await fuzz({}, "fs")
  }, timeoutMillis)

  describe("in Redis mode", async () => {
    const admin = await connectOrFail()
    const prefix = uniquePrefix("fuzz")
    afterAll(async () => {
      await deleteKeysWithPrefix(admin, prefix)
      await admin.quit()
    })
    it("with a unique key prefix", async () => {
      await fuzz({ ML_REDIS_URL: redisUrl, ML_REDIS_PREFIX: prefix }, "redis")
    }, timeoutMillis)
  })
})
