// A/B assignment benchmarks, each against a baseline in the same run.
//
//   npm run bench -- ab        (or: node bench/ab-assignment.mjs, after a build; needs Redis)
//
// 1. In process: our assignment (GrowthBook-compatible hash, bucket ranges, variation choice)
//    against the @growthbook/growthbook SDK's runInlineExperiment, same users, same splits.
//    Target: ours at least 2x theirs.
// 2. Over HTTP: POST /v1/experiments/:id/assignments on the real server with sticky storage on
//    Redis (every request a new user, so every request writes), against a bare Hono route on
//    the same machine; both driven by the same closed-loop client (64 connections). Reports
//    throughput, p50/p99 latency and the ratio.
import { GrowthBookClient } from "@growthbook/growthbook"
import { serve } from "@hono/node-server"
import { bucketUser, makeAssigner } from "@org/ml-core"
import { createClient, LocalEvaluator } from "@org/ml-sdk"
import { Hono } from "hono"
import { Redis } from "ioredis"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { deleteKeysWithPrefix, median, runWrk, startServerProcess, wrkPostScript } from "./lib.mjs"

const redisUrl = process.env.ML_TEST_REDIS_URL ?? "redis://127.0.0.1:6379"

// ---------------------------------------------------------------- in process
const users = Array.from({ length: 200_000 }, (_, i) => `user-${i}-${(i * 2654435761) % 1000003}`)
const experiment = {
  seed: "bench-seed",
  coverage: 1,
  mode: "ab",
  banditHistory: [],
  variants: [{ modelId: "a", isControl: true, trafficPct: 34 }, { modelId: "b", isControl: false, trafficPct: 33 }, {
    modelId: "c",
    isControl: false,
    trafficPct: 33
  }]
}
const gbExperiment = {
  key: "bench",
  seed: "bench-seed",
  hashVersion: 2,
  variations: [0, 1, 2],
  weights: [0.34, 0.33, 0.33],
  coverage: 1
}
const client = new GrowthBookClient({})
const rate = (fn) => {
  for (let i = 0; i < 20_000; i++) fn(users[i])
  const rounds = []
  for (let r = 0; r < 5; r++) {
    const start = performance.now()
    for (let i = 0; i < users.length; i++) fn(users[i])
    rounds.push(users.length / ((performance.now() - start) / 1000))
  }
  return median(rounds)
}
let agree = 0
for (let i = 0; i < 10_000; i++) {
  if (
    bucketUser(experiment, users[i]) ===
      client.runInlineExperiment(gbExperiment, { attributes: { id: users[i] } }).variationId
  ) agree++
}
// Ranges computed once per experiment version, as the SDK's local evaluation does.
const assign = makeAssigner(experiment)
const ours = rate(assign)
const theirs = rate((u) => client.runInlineExperiment(gbExperiment, { attributes: { id: u } }))
// The SDK's whole local-evaluation call (status check, assignment, exposure counting), no network.
const local = new LocalEvaluator(
  {
    list: async () => [{ ...experiment, id: "bench", status: "running", decision: null }],
    recordExposures: async () => {},
    recordMetrics: async () => {}
  },
  { refreshIntervalMs: 1e9, flushIntervalMs: 1e9 }
)
await local.whenReady()
const localRate = rate((u) => local.assign("bench", u))
await local.close()
console.log("In-process assignment (median of 5 rounds of 200,000 users)")
console.table([
  { implementation: "ours (makeAssigner, as LocalEvaluator uses it)", "assignments/s": Math.round(ours) },
  {
    implementation: "ours (SDK LocalEvaluator.assign, with exposure counting)",
    "assignments/s": Math.round(localRate)
  },
  { implementation: "@growthbook/growthbook runInlineExperiment", "assignments/s": Math.round(theirs) }
])
console.log(
  `ratio ours/theirs: ${(ours / theirs).toFixed(2)} (LocalEvaluator: ${
    (localRate / theirs).toFixed(2)
  }) (target >= 2); same variation for ${agree}/10000 users`
)

// ---------------------------------------------------------------- over HTTP
const load = async (url, body, { connections = 64, seconds = 8 } = {}) => {
  const latencies = []
  let next = 0
  const deadline = performance.now() + seconds * 1000
  const worker = async () => {
    while (performance.now() < deadline) {
      const start = performance.now()
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: body(next++)
      })
      await response.arrayBuffer()
      if (response.status !== 200) throw new Error(`HTTP ${response.status}`)
      latencies.push(performance.now() - start)
    }
  }
  const started = performance.now()
  await Promise.all(Array.from({ length: connections }, worker))
  const elapsed = (performance.now() - started) / 1000
  latencies.sort((a, b) => a - b)
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]
  return {
    "req/s": Math.round(latencies.length / elapsed),
    "p50 ms": at(0.5).toFixed(2),
    "p99 ms": at(0.99).toFixed(2),
    requests: latencies.length
  }
}

/** wrk (Debian's package) as the load generator when installed: a C client that is not the bottleneck. */
const wrkLoad = async (url, tag) => {
  const r = await runWrk(
    url,
    wrkPostScript(`'{"userId":"${tag}-' .. counter .. '-' .. math.random(1000000000) .. '"}'`),
    {
      threads: 2,
      connections: 64,
      seconds: 8
    }
  )
  return { "req/s": Math.round(r.reqPerSec), "p50 ms": r.p50Ms.toFixed(2), "p99 ms": r.p99Ms.toFixed(2), client: "wrk" }
}
const haveWrk = spawnSync("wrk", ["--version"]).error === undefined

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ml-ab-bench-"))
const prefix = `bench:${Date.now()}:`
const { url, stop } = await startServerProcess({
  ML_MODEL_STORAGE_DIR: dataDir,
  ML_REDIS_URL: redisUrl,
  ML_REDIS_PREFIX: prefix
})
const bare = new Hono()
bare.post(
  "/assign",
  async (c) =>
    c.json({ modelId: "a", variant: 0, inExperiment: true, sticky: false, userId: (await c.req.json()).userId })
)
const bareServer = await new Promise((resolve) => {
  const s = serve({ fetch: bare.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s))
})
try {
  const ml = createClient({ baseUrl: url })
  const ids = []
  for (const version of ["1", "2"]) {
    const m = await ml.registry.registerModel(
      { name: "bench", version, algorithm: "a", framework: "f" },
      new Uint8Array([1])
    )
    ids.push(m.id)
  }
  const e = await ml.experiments.create({
    name: "bench",
    targetMetric: "m",
    variants: ids.map((modelId, i) => ({ modelId, isControl: i === 0, trafficPct: 50 }))
  })
  await ml.experiments.start(e.id)
  const body = (i) => JSON.stringify({ userId: `u-${i}` })
  await load(`${url}/v1/experiments/${e.id}/assignments`, body, { seconds: 2 })
  await load(`http://127.0.0.1:${bareServer.address().port}/assign`, body, { seconds: 2 })
  const bareUrl = `http://127.0.0.1:${bareServer.address().port}/assign`
  const ourHttp = haveWrk
    ? await wrkLoad(`${url}/v1/experiments/${e.id}/assignments`, "ours")
    : await load(`${url}/v1/experiments/${e.id}/assignments`, (i) => JSON.stringify({ userId: `v-${i}` }))
  const bareHttp = haveWrk ? await wrkLoad(bareUrl, "bare") : await load(bareUrl, body)
  console.log(
    `\nHTTP assignment, sticky on Redis, 64 connections, 8 s each, client: ${
      haveWrk ? "wrk" : "Node fetch (install wrk for a client that is not the bottleneck)"
    }`
  )
  console.table([{ target: "ML Pipeline POST /assignments", ...ourHttp }, { target: "bare Hono route", ...bareHttp }])
  console.log(
    `throughput ratio ours/bare: ${(ourHttp["req/s"] / bareHttp["req/s"]).toFixed(2)}; p99 ratio: ${
      (ourHttp["p99 ms"] / bareHttp["p99 ms"]).toFixed(2)
    }`
  )
} finally {
  await stop()
  bareServer.close()
  fs.rmSync(dataDir, { recursive: true, force: true })
  const redis = new Redis(redisUrl)
  await deleteKeysWithPrefix(redis, prefix)
  await redis.quit()
}
