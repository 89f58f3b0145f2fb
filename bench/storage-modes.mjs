// The storage modes side by side in one run: the same HTTP workload against a server on the data
// directory (fs), on Redis and on PostgreSQL, each on fresh storage. Registry operations (register,
// list everything in pages of 500) and the hot paths (sticky assignments, experiment metrics, drift
// observations, pipeline samples); rates and each mode's ratio to the fastest.
//
//   node bench/storage-modes.mjs   (after a build; Redis and PostgreSQL as for the tests)
//
// BENCH_MODELS (default 2000) models are registered; BENCH_REQUESTS (default 400) of each hot-path
// call, BENCH_IN_FLIGHT (default 16) at a time.
import { freshDatabase } from "@org/ml-adapter-postgres/testing"
import { makeLearner } from "@org/ml-core"
import { Redis } from "ioredis"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { callsPerSecond, jsonPoster, startServerProcess } from "./lib.mjs"

const inFlight = Number(process.env.BENCH_IN_FLIGHT ?? 16)
const requests = Number(process.env.BENCH_REQUESTS ?? 400)
const modelCount = Number(process.env.BENCH_MODELS ?? 2000)
const redisUrl = process.env.ML_TEST_REDIS_URL ?? "redis://127.0.0.1:6379"

const rate = (count, make) => callsPerSecond(count, inFlight, make)

const workload = async (url) => {
  const post = jsonPoster(url)
  const register = await rate(
    modelCount,
    (i) => post("/v1/models", { name: `bench-${i % 50}`, version: `1.0.${i}`, algorithm: "x", framework: "y" })
  )
  let listed = 0
  const listStart = performance.now()
  for (let cursor;;) {
    const page = await (await fetch(`${url}/v1/models?limit=500${cursor ? `&cursor=${cursor}` : ""}`)).json()
    listed += page.items.length
    if (page.nextCursor === null) break
    cursor = page.nextCursor
  }
  const listSeconds = (performance.now() - listStart) / 1000
  if (listed !== modelCount) throw new Error(`listed ${listed} of ${modelCount}`)

  const model = await post("/v1/models", {
    name: "live",
    version: "1",
    algorithm: "logistic_regression",
    framework: "ml-pipeline"
  })
  const variant = await post("/v1/models", { name: "live-b", version: "1", algorithm: "x", framework: "y" })
  const experiment = await post("/v1/experiments", {
    name: "bench",
    targetMetric: "ctr",
    variants: [{ modelId: model.id, isControl: true, trafficPct: 50 }, {
      modelId: variant.id,
      isControl: false,
      trafficPct: 50
    }]
  })
  await post(`/v1/experiments/${experiment.id}/start`, {})
  const assignments = await rate(
    requests,
    (i) => post(`/v1/experiments/${experiment.id}/assignments`, { userId: `u${i}` })
  )
  const observations = Array.from(
    { length: 100 },
    (_, i) => ({ modelId: i % 2 ? variant.id : model.id, metric: "ctr", value: i % 3 })
  )
  const metrics = await rate(requests, () => post(`/v1/experiments/${experiment.id}/metrics`, { observations }))

  await post("/v1/drift/monitors", {
    id: "bench",
    features: [{ name: "x", kind: "feature", type: "numeric" }],
    settings: { windowSize: 100_000 }
  })
  const values = Array.from({ length: 100 }, (_, i) => Math.sin(i))
  const drift = await rate(requests, () => post("/v1/drift/monitors/bench/observations", { values: { x: values } }))

  const learner = makeLearner({
    kind: "logistic",
    optimizer: { type: "sgd", learningRate: 0.1 },
    features: { type: "schema", names: ["a", "b"] }
  })
  await fetch(`${url}/v1/models/${model.id}/artifact`, { method: "PUT", body: JSON.stringify(learner.state()) })
  await post("/v1/pipelines", {
    id: "bench",
    name: "bench",
    modelId: model.id,
    strategy: "periodic",
    updateFrequencySeconds: 86400
  })
  let sample = 0
  const samples = await rate(requests, () =>
    post("/v1/pipelines/bench/samples", {
      samples: Array.from({ length: 100 }, () => {
        const i = sample++
        return { sampleId: `s${i}`, features: { a: Math.sin(i), b: Math.cos(i) }, label: i % 2 }
      })
    }))
  return {
    registerPerSecond: register,
    listedModelsPerSecond: listed / listSeconds,
    assignmentsPerSecond: assignments,
    metricObservationsPerSecond: metrics * 100,
    driftValuesPerSecond: drift * 100,
    samplesPerSecond: samples * 100
  }
}

const inMode = async (env, cleanup) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ml-storage-modes-"))
  const server = await startServerProcess({ ML_MODEL_STORAGE_DIR: dataDir, ML_AB_REWEIGHT_INTERVAL: "0", ...env })
  try {
    return await workload(server.url)
  } finally {
    await server.stop()
    fs.rmSync(dataDir, { recursive: true, force: true })
    await cleanup?.()
  }
}

const results = {}
results.fs = await inMode({})
const prefix = `mlbench:${Date.now().toString(36)}:`
results.redis = await inMode({ ML_REDIS_URL: redisUrl, ML_REDIS_PREFIX: prefix }, async () => {
  const redis = new Redis(redisUrl)
  let cursor = "0"
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000)
    cursor = next
    if (keys.length > 0) await redis.del(...keys)
  } while (cursor !== "0")
  await redis.quit()
})
const database = await freshDatabase("bench")
results.postgres = await inMode({ ML_DATABASE_URL: database.url }, () => database.drop())

const table = {}
for (const metric of Object.keys(results.fs)) {
  const fastest = Math.max(...Object.values(results).map((r) => r[metric]))
  table[metric] = Object.fromEntries(
    Object.entries(results).map((
      [mode, r]
    ) => [mode, `${Math.round(r[metric])} (${(r[metric] / fastest).toFixed(2)}x)`])
  )
}
console.log(
  `in flight ${inFlight}, ${requests} requests per hot path, ${modelCount} models; rate (ratio to the fastest)`
)
console.table(table)
