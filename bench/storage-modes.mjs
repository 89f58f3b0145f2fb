// The storage modes side by side in one run: the same HTTP workload against a server on the data
// directory (fs), on Redis, on PostgreSQL, and on PostgreSQL with Redis for the hot paths
// (composed), each on fresh storage. Registry operations (register, promote through testing,
// staging and production, list everything in pages of 500) and the hot paths (sticky assignments,
// experiment metrics, drift observations, pipeline samples); rates and each mode's ratio to the
// fastest. Every mode's server runs for the whole bench and each operation is measured on every
// mode in turn before the next, so a change in the machine's load between operations does not
// skew one mode's ratios.
//
//   node bench/storage-modes.mjs   (after a build; Redis and PostgreSQL as for the tests)
//   BENCH_MODELS=2000 node bench/storage-modes.mjs   (quicker on a busy machine)
//
// BENCH_MODELS (default 10000: about 90 s for the whole run on a quiet 2-core machine) models are registered and listed; BENCH_REQUESTS (default 400) of
// each hot-path call and of promotions, BENCH_IN_FLIGHT (default 16) at a time. BENCH_MODES
// (default fs,redis,postgres,composed) picks the modes.
import { freshDatabase } from "@org/ml-adapter-postgres/testing"
import { makeLearner } from "@org/ml-core"
import { Redis } from "ioredis"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { callsPerSecond, jsonPoster, startServerProcess } from "./lib.mjs"

const inFlight = Number(process.env.BENCH_IN_FLIGHT ?? 16)
const requests = Number(process.env.BENCH_REQUESTS ?? 400)
const modelCount = Number(process.env.BENCH_MODELS ?? 10_000)
const modes = (process.env.BENCH_MODES ?? "fs,redis,postgres,composed").split(",")
const redisUrl = process.env.ML_TEST_REDIS_URL ?? "redis://127.0.0.1:6379"

const rate = (count, make) => callsPerSecond(count, inFlight, make)

/**
 * The operations in order, each `(server) => rate per second` (`null` for set-up steps, not
 * timed); `server` has its `url`, `post`, and the ids earlier steps kept.
 */
const operations = [
  ["register", (server) =>
    rate(
      modelCount,
      (i) => server.post("/v1/models", { name: `bench-${i % 50}`, version: `1.0.${i}`, algorithm: "x", framework: "y" })
    )],
  ["promotion set-up", async (server) => {
    // Versions with names of their own (no contention on a production pointer) and artifacts.
    server.promotable = []
    for (let i = 0; i < requests; i++) {
      const { id } = await server.post("/v1/models", {
        name: `promote-${i}`,
        version: "1",
        algorithm: "x",
        framework: "y"
      })
      const uploaded = await fetch(`${server.url}/v1/models/${id}/artifact`, { method: "PUT", body: `weights ${i}` })
      if (uploaded.status !== 200) throw new Error(`artifact upload: ${uploaded.status}`)
      server.promotable.push(id)
    }
    return null
  }],
  // Each version goes testing, staging, production: the rate counts promotions.
  ["promote", async (server) =>
    3 * await rate(requests, async (i) => {
      for (const status of ["testing", "staging", "production"]) {
        await server.post(`/v1/models/${server.promotable[i]}/promote`, { status })
      }
    })],
  ["list models (pages of 500)", async (server) => {
    let listed = 0
    const start = performance.now()
    for (let cursor;;) {
      const page = await (await fetch(`${server.url}/v1/models?limit=500${cursor ? `&cursor=${cursor}` : ""}`)).json()
      listed += page.items.length
      if (page.nextCursor === null) break
      cursor = page.nextCursor
    }
    if (listed !== modelCount + requests) throw new Error(`listed ${listed} of ${modelCount + requests}`)
    return listed / ((performance.now() - start) / 1000)
  }],
  ["experiment set-up", async (server) => {
    const { post } = server
    server.model = await post("/v1/models", {
      name: "live",
      version: "1",
      algorithm: "logistic_regression",
      framework: "ml-pipeline"
    })
    server.variant = await post("/v1/models", { name: "live-b", version: "1", algorithm: "x", framework: "y" })
    server.experiment = await post("/v1/experiments", {
      name: "bench",
      targetMetric: "ctr",
      variants: [{ modelId: server.model.id, isControl: true, trafficPct: 50 }, {
        modelId: server.variant.id,
        isControl: false,
        trafficPct: 50
      }]
    })
    await post(`/v1/experiments/${server.experiment.id}/start`, {})
    return null
  }],
  ["sticky assignments", (server) =>
    rate(
      requests,
      (i) => server.post(`/v1/experiments/${server.experiment.id}/assignments`, { userId: `u${i}` })
    )],
  ["metric observations", async (server) => {
    const observations = Array.from(
      { length: 100 },
      (_, i) => ({ modelId: i % 2 ? server.variant.id : server.model.id, metric: "ctr", value: i % 3 })
    )
    return 100 * await rate(
      requests,
      () => server.post(`/v1/experiments/${server.experiment.id}/metrics`, { observations })
    )
  }],
  ["drift set-up", async (server) => {
    await server.post("/v1/drift/monitors", {
      id: "bench",
      features: [{ name: "x", kind: "feature", type: "numeric" }],
      settings: { windowSize: 100_000 }
    })
    return null
  }],
  ["drift values", async (server) => {
    const values = Array.from({ length: 100 }, (_, i) => Math.sin(i))
    return 100 * await rate(
      requests,
      () => server.post("/v1/drift/monitors/bench/observations", { values: { x: values } })
    )
  }],
  ["pipeline set-up", async (server) => {
    const learner = makeLearner({
      kind: "logistic",
      optimizer: { type: "sgd", learningRate: 0.1 },
      features: { type: "schema", names: ["a", "b"] }
    })
    await fetch(`${server.url}/v1/models/${server.model.id}/artifact`, {
      method: "PUT",
      body: JSON.stringify(learner.state())
    })
    await server.post("/v1/pipelines", {
      id: "bench",
      name: "bench",
      modelId: server.model.id,
      strategy: "periodic",
      updateFrequencySeconds: 86400
    })
    return null
  }],
  ["pipeline samples", async (server) => {
    let sample = 0
    return 100 * await rate(requests, () =>
      server.post("/v1/pipelines/bench/samples", {
        samples: Array.from({ length: 100 }, () => {
          const i = sample++
          return { sampleId: `s${i}`, features: { a: Math.sin(i), b: Math.cos(i) }, label: i % 2 }
        })
      }))
  }]
]

/** Deletes the keys under `prefix` (never the whole Redis: it may be shared). */
const deleteRedisPrefix = async (prefix) => {
  const redis = new Redis(redisUrl)
  let cursor = "0"
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000)
    cursor = next
    if (keys.length > 0) await redis.del(...keys)
  } while (cursor !== "0")
  await redis.quit()
}

/** Each mode's storage: the server's environment and what removes the storage afterwards. */
const storageOf = {
  fs: async () => ({ env: {} }),
  redis: async () => {
    const prefix = `mlbench:${Date.now().toString(36)}:redis:`
    return { env: { ML_REDIS_URL: redisUrl, ML_REDIS_PREFIX: prefix }, cleanup: () => deleteRedisPrefix(prefix) }
  },
  postgres: async () => {
    const database = await freshDatabase("bench")
    return { env: { ML_DATABASE_URL: database.url }, cleanup: () => database.drop() }
  },
  composed: async () => {
    const database = await freshDatabase("bench_composed")
    const prefix = `mlbench:${Date.now().toString(36)}:composed:`
    return {
      env: { ML_DATABASE_URL: database.url, ML_REDIS_URL: redisUrl, ML_REDIS_PREFIX: prefix },
      cleanup: async () => {
        await database.drop()
        await deleteRedisPrefix(prefix)
      }
    }
  }
}

const servers = {}
const benchStart = performance.now()
const results = {}
try {
  for (const mode of modes) {
    if (!(mode in storageOf)) {
      throw new Error(`BENCH_MODES: unknown mode ${mode} (${Object.keys(storageOf).join(", ")})`)
    }
    const storage = await storageOf[mode]()
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ml-storage-modes-"))
    const started = await startServerProcess({
      ML_MODEL_STORAGE_DIR: dataDir,
      ML_AB_REWEIGHT_INTERVAL: "0",
      ...storage.env
    })
    servers[mode] = { ...storage, dataDir, child: started, url: started.url, post: jsonPoster(started.url) }
  }
  for (const [name, operation] of operations) {
    for (const mode of modes) {
      const perSecond = await operation(servers[mode])
      if (perSecond !== null) (results[name] ??= {})[mode] = perSecond
    }
  }
} finally {
  for (const server of Object.values(servers)) {
    await server.child.stop()
    fs.rmSync(server.dataDir, { recursive: true, force: true })
    await server.cleanup?.()
  }
}

const table = {}
for (const [name, byMode] of Object.entries(results)) {
  const fastest = Math.max(...Object.values(byMode))
  table[name] = Object.fromEntries(
    Object.entries(byMode).map(([mode, perSecond]) => [
      mode,
      `${Math.round(perSecond)} (${(perSecond / fastest).toFixed(2)}x)`
    ])
  )
}
console.log(
  `in flight ${inFlight}, ${requests} requests per hot path and promotions, ${modelCount} models listed; ` +
    `per second (ratio to the fastest); ${Math.round((performance.now() - benchStart) / 1000)} s`
)
console.table(table)
