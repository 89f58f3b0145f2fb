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
//    fixed rate (target p99 < 10 ms), by three loaders: the loader of `ml-server loadtest` in a
//    process of its own (latency timed from when each request was due), the same with the server
//    pinned to CPU 0 and the loader to CPU 1 (taskset, where there is one), and wrk paced by a Lua
//    schedule (an independent C loader). Each row also shows the loader's own lag and the
//    server's GC pauses and event-loop delay during the run (bench/server-probe.mjs), to tell
//    where a tail comes from.
// 3. The per-request cost of the Effect runtime: in process (Hono's app.request, no sockets), a
//    bare Hono route against the same answer through Mount, with a handler that completes at once
//    and one that runs on the app's ManagedRuntime.
import { Effect, Layer, ManagedRuntime } from "effect"
import { Hono } from "hono"
import { Redis } from "ioredis"
import { execFileSync, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { makeMount } from "../apps/server/dist/routes/Mount.js"
import { metricBody, newUserBody, startedExperiment } from "./hot-fixture.mjs"
import {
  deleteKeysWithPrefix,
  median,
  processCpuMs,
  runWrk,
  startServerProcess,
  wrkPacing,
  wrkPostScript
} from "./lib.mjs"

const here = path.dirname(fileURLToPath(import.meta.url))
const redisUrl = process.env.ML_TEST_REDIS_URL ?? "redis://127.0.0.1:6379"
const seconds = Number(process.argv[2] ?? 8)
const run = `h${Date.now().toString(36)}`
const ms = (x) => x.toFixed(2)

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ml-hot-bench-"))
const prefix = `bench-hot:${process.pid}:${Date.now()}:`
const probeFile = path.join(dataDir, "server-probe.jsonl")
const ours = await startServerProcess(
  {
    ML_MODEL_STORAGE_DIR: dataDir,
    ML_REDIS_URL: redisUrl,
    ML_REDIS_PREFIX: prefix,
    ML_BENCH_PROBE_FILE: probeFile
  },
  undefined,
  { nodeArgs: ["--import", path.join(here, "server-probe.mjs")] }
)
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
      key: "assignments"
    },
    {
      name: "metrics (one observation)",
      ours: `${ours.url}/v1/experiments/${experiment.id}/metrics`,
      minimal: `${minimal.url}/metrics`,
      body: () => metricBody(experiment),
      key: "metrics"
    }
  ]

  /** The run's result with the server's CPU time per request (µs): less sensitive to a busy machine than req/s. */
  const withCpu = async (server, load) => {
    const before = processCpuMs(server.child.pid)
    const result = await load()
    const cpuUs = ((processCpuMs(server.child.pid) - before) * 1000) / (result.reqPerSec * seconds)
    return { ...result, cpuUs }
  }
  // Part 2's instruments. The server's own GC pauses and event-loop delay during each run come from
  // bench/server-probe.mjs (a SIGUSR2 opens a window, the next closes it).
  const duringProbeWindow = async (run) => {
    const before = fs.existsSync(probeFile) ? fs.readFileSync(probeFile, "utf8").split("\n").length : 1
    ours.child.kill("SIGUSR2")
    const result = await run()
    ours.child.kill("SIGUSR2")
    for (let waited = 0; waited < 5000; waited += 20) {
      const lines = fs.existsSync(probeFile) ? fs.readFileSync(probeFile, "utf8").split("\n") : [""]
      if (lines.length > before) return { result, server: JSON.parse(lines[lines.length - 2]) }
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    throw new Error("the server probe wrote nothing")
  }
  const serverGc = ({ gc }) => {
    const all = Object.values(gc)
    return all.length === 0
      ? "none"
      : `${ms(Math.max(...all.map((k) => k.maxMs)))} (${all.reduce((n, k) => n + k.count, 0)})`
  }
  // The loader of `ml-server loadtest` in a process of its own (bench/paced-loader.mjs); pinned: the
  // server on CPU 0 and the loader on CPU 1, so neither takes the other's core (Redis and anything
  // else on the machine still run anywhere).
  const canPin = os.cpus().length >= 2 && spawnSync("taskset", ["-V"]).status === 0
  const setServerCpus = (cpus) => execFileSync("taskset", ["-a", "-p", "-c", cpus, String(ours.child.pid)])
  const nodeLoader = (pinned) => async (route, rate) => {
    const settings = JSON.stringify({
      base: ours.url,
      route: route.key,
      experiment: experiment.id,
      models: experiment.variants.map((v) => v.modelId),
      rate,
      seconds,
      connections: 32,
      tag: `${run}-paced-${route.key}-${pinned ? "pinned" : "free"}`
    })
    const loader = path.join(here, "paced-loader.mjs")
    if (pinned) setServerCpus("0")
    try {
      const out = execFileSync(
        pinned ? "taskset" : process.execPath,
        pinned ? ["-c", "1", process.execPath, loader, settings] : [loader, settings],
        { encoding: "utf8" }
      )
      const result = JSON.parse(out)
      return { ...result, loaderLag: ms(result.loaderLagP99Ms) }
    } finally {
      if (pinned) setServerCpus(`0-${os.cpus().length - 1}`)
    }
  }
  const wrkPaced = async (route, rate) => {
    const r = await runWrk(route.ours, wrkPostScript(route.body(`paced-wrk-${rate}`)) + wrkPacing(rate), {
      seconds,
      connections: 128
    })
    const [, late, lateMaxMs] = /paced: (\d+) ([\d.]+)/.exec(r.output)
    return { ...r, loaderLag: `${late} late (${lateMaxMs})` }
  }
  const pacedLoaders = [
    { name: "loadtest loader, -c32", run: nodeLoader(false) },
    ...(canPin ? [{ name: "same, pinned", run: nodeLoader(true) }] : []),
    { name: "wrk -c128, Lua pacing", run: wrkPaced }
  ]

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

  console.log(
    `\nLatency at 50% of the measured peak, fixed rate, ${seconds} s per run (target p99 < 10 ms); ` +
      `load average ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`
  )
  const paced = []
  const loaders = []
  for (const { o, route } of peak) {
    const rate = Math.round(o.reqPerSec / 2)
    for (const loader of pacedLoaders) {
      const { result, server } = await duringProbeWindow(() => loader.run(route, rate))
      paced.push({
        route: route.name,
        loader: loader.name,
        rate,
        "achieved": Math.round(result.reqPerSec),
        "p50 ms": ms(result.p50Ms),
        "p99 ms": ms(result.p99Ms),
        "max ms": ms(result.maxMs),
        "loader lag": result.loaderLag,
        "server GC max ms (n)": serverGc(server),
        "server loop delay p99/max": `${ms(server.loopDelayMs.p99)} / ${ms(server.loopDelayMs.max)}`
      })
      if (result.loaderCpuUsPerRequest !== undefined) {
        loaders.push({
          route: route.name,
          loader: loader.name,
          "loader CPU µs/req": Math.round(result.loaderCpuUsPerRequest),
          "loader loop delay p99/max ms": `${ms(result.loaderLoopDelayMs.p99)} / ${ms(result.loaderLoopDelayMs.max)}`,
          "loader GC max ms": ms(result.loaderGcMaxMs)
        })
      }
    }
  }
  console.table(paced)
  console.table(loaders)
  console.log(
    "loadtest loader: the fixed-rate loader of ml-server loadtest in its own process, latencies from the due " +
      "time; pinned: server on CPU 0, loader on CPU 1. Loader lag: its p99 of how late its timer noticed a " +
      "request was due (part of its latencies); for wrk (latencies from the send), slots taken > 1 ms late " +
      "(count, most late ms). Server GC and loop delay: the server's own process during the run " +
      "(bench/server-probe.mjs). Second table: the node loader's own CPU per request, event-loop delay and " +
      "longest GC pause (perf_hooks), to tell a slow loader from a slow server."
  )
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
