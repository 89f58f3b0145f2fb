// The hot routes at the speed of the storage (issue 16), each against a minimal equivalent in the
// same run:
//
//   node bench/hot-paths.mjs [seconds per run, default 8]    (after a build; needs Redis and wrk)
//
// 1. Peak: wrk -t1 -c32 on POST /v1/experiments/{id}/assignments (a new user per request,
//    sticky) and POST /v1/experiments/{id}/metrics (one observation) of the real server in Redis
//    mode, and on the same routes of bench/minimal-hot-server.mjs (node:http + ioredis, cached
//    definition, the same Lua scripts by EVALSHA). Prints req/s, mean, p99 and ours/minimal
//    (target >= 0.5).
// 2. Latency at half the peak: each route of our server at 50% of the req/s wrk measured, at a
//    fixed rate (the loader of `ml-server loadtest`), p99 timed from when each request was due (target < 10 ms).
// 3. The per-request cost of the Effect runtime: in process (Hono's app.request, no sockets), a
//    bare Hono route against the same answer through Mount, with a handler that completes at once
//    and one that runs on the app's ManagedRuntime.
import { Effect, Layer, ManagedRuntime } from "effect"
import { Hono } from "hono"
import { Redis } from "ioredis"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { pacedLoad } from "../apps/server/dist/LoadTest.js"
import { makeMount } from "../apps/server/dist/routes/Mount.js"
import { metricBody, newUserBody, startedExperiment } from "./hot-fixture.mjs"
import { deleteKeysWithPrefix, median, processCpuMs, runWrk, startServerProcess, wrkPostScript } from "./lib.mjs"

const here = path.dirname(fileURLToPath(import.meta.url))
const redisUrl = process.env.ML_TEST_REDIS_URL ?? "redis://127.0.0.1:6379"
const seconds = Number(process.argv[2] ?? 8)
const run = `h${Date.now().toString(36)}`
const ms = (x) => x.toFixed(2)

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ml-hot-bench-"))
const prefix = `bench-hot:${process.pid}:${Date.now()}:`
const ours = await startServerProcess({
  ML_MODEL_STORAGE_DIR: dataDir,
  ML_REDIS_URL: redisUrl,
  ML_REDIS_PREFIX: prefix
})
let minimal
try {
  const experiment = await startedExperiment(ours.url)
  minimal = await startServerProcess(
    { REDIS_URL: redisUrl, PREFIX: prefix, EXPERIMENT_ID: experiment.id },
    path.join(here, "minimal-hot-server.mjs")
  )
  const routes = [
    {
      name: "assignments (new users, sticky)",
      ours: `${ours.url}/v1/experiments/${experiment.id}/assignments`,
      minimal: `${minimal.url}/assign`,
      body: (tag) => newUserBody(`${run}-${tag}`),
      paced: (i) => ({
        method: "POST",
        path: `/v1/experiments/${experiment.id}/assignments`,
        body: `{"userId":"${run}-paced-${i}"}`
      })
    },
    {
      name: "metrics (one observation)",
      ours: `${ours.url}/v1/experiments/${experiment.id}/metrics`,
      minimal: `${minimal.url}/metrics`,
      body: () => metricBody(experiment),
      paced: (i) => ({
        method: "POST",
        path: `/v1/experiments/${experiment.id}/metrics`,
        body: JSON.stringify({ modelId: experiment.variants[i % 2].modelId, metric: "conversion", value: i % 7 })
      })
    }
  ]

  /** The run's result with the server's CPU time per request (µs): less sensitive to a busy machine than req/s. */
  const withCpu = async (server, load) => {
    const before = processCpuMs(server.child.pid)
    const result = await load()
    const cpuUs = ((processCpuMs(server.child.pid) - before) * 1000) / (result.reqPerSec * seconds)
    return { ...result, cpuUs }
  }
  const peak = []
  for (const route of routes) {
    // Warm both (JIT, script cache, cached definition) before measuring.
    await runWrk(route.ours, wrkPostScript(route.body("warm-ours")), { seconds: 2 })
    await runWrk(route.minimal, wrkPostScript(route.body("warm-minimal")), { seconds: 2 })
    const o = await withCpu(ours, () => runWrk(route.ours, wrkPostScript(route.body("ours")), { seconds }))
    const m = await withCpu(minimal, () => runWrk(route.minimal, wrkPostScript(route.body("minimal")), { seconds }))
    peak.push({ route, o, m })
  }
  console.log(`\nPeak, Redis mode, wrk -t1 -c32 -d${seconds}s (wrk shares the machine's cores)`)
  console.table(peak.flatMap(({ m, o, route }) => [
    {
      route: route.name,
      server: "ML Pipeline",
      "req/s": Math.round(o.reqPerSec),
      "mean ms": ms(o.meanMs),
      "p99 ms": ms(o.p99Ms),
      "server CPU µs/req": Math.round(o.cpuUs)
    },
    {
      route: route.name,
      server: "minimal node:http + ioredis",
      "req/s": Math.round(m.reqPerSec),
      "mean ms": ms(m.meanMs),
      "p99 ms": ms(m.p99Ms),
      "server CPU µs/req": Math.round(m.cpuUs)
    }
  ]))
  for (const { m, o, route } of peak) {
    console.log(`${route.name}: ours/minimal ${(o.reqPerSec / m.reqPerSec).toFixed(2)} (target >= 0.5)`)
  }

  console.log(`\nLatency at 50% of the measured peak, fixed rate, 32 connections, ${seconds} s (target p99 < 10 ms)`)
  const paced = []
  for (const { o, route } of peak) {
    const rate = Math.round(o.reqPerSec / 2)
    const r = await pacedLoad({ base: ours.url, connections: 32, make: route.paced, rate, seconds })
    paced.push({
      route: route.name,
      "rate req/s": rate,
      "achieved req/s": Math.round(r.reqPerSec),
      "p50 ms": ms(r.p50Ms),
      "p99 ms": ms(r.p99Ms),
      "max ms": ms(r.maxMs),
      failures: r.failures
    })
  }
  console.table(paced)
} finally {
  await ours.stop()
  await minimal?.stop()
  fs.rmSync(dataDir, { recursive: true, force: true })
  const redis = new Redis(redisUrl)
  await deleteKeysWithPrefix(redis, prefix)
  await redis.quit()
}

// ---------------------------------------------------------------- the Effect runtime per request
const health = { method: "GET", path: "/healthz", permission: "public", success: { status: 200 } }
const answer = { status: "ok" }
const runtime = ManagedRuntime.make(Layer.empty)
const settings = { maxJsonBytes: 1 << 20, log: console.error, validateResponses: false }
const apps = {
  "bare Hono route": new Hono().get("/healthz", (c) => c.json(answer)),
  "Mount, handler done at once (Effect.succeed)": new Hono(),
  "Mount, handler run on the ManagedRuntime": new Hono(),
  "Mount, handler run with the runtime's services": new Hono()
}
makeMount({ ...settings, run: Effect.runPromiseExit })(
  apps["Mount, handler done at once (Effect.succeed)"],
  health,
  () => Effect.succeed(answer)
)
makeMount({ ...settings, run: (effect) => runtime.runPromiseExit(effect) })(
  apps["Mount, handler run on the ManagedRuntime"],
  health,
  () => Effect.sync(() => answer)
)
const services = await runtime.context()
makeMount({ ...settings, run: Effect.runPromiseExitWith(services) })(
  apps["Mount, handler run with the runtime's services"],
  health,
  () => Effect.sync(() => answer)
)
const perRequestUs = async (app) => {
  const n = 20_000
  const started = performance.now()
  for (let i = 0; i < n; i++) await (await app.request("/healthz")).text()
  return ((performance.now() - started) * 1000) / n
}
const rounds = Object.fromEntries(Object.keys(apps).map((name) => [name, []]))
for (let round = 0; round < 5; round++) {
  for (const [name, app] of Object.entries(apps)) rounds[name].push(await perRequestUs(app))
}
await runtime.dispose()
const bare = median(rounds["bare Hono route"])
console.log("\nPer-request cost of Mount and the Effect runtime, in process (median of 5 rounds of 20,000 GETs)")
console.table(
  Object.entries(rounds).map(([name, us]) => ({
    path: name,
    "µs per request": median(us).toFixed(1),
    "over bare Hono µs": (median(us) - bare).toFixed(1)
  }))
)
