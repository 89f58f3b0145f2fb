// Two builds of the server side by side on the hot routes, for a change that means to make them
// cheaper: the server CPU time and the JavaScript heap bytes allocated per request of a baseline
// build (another checkout, built) and of this one, both in Redis mode, measured in alternating wrk
// runs in one window so a busy machine loads both alike. CPU and bytes per request hardly depend on
// the machine's load; req/s does, so it is printed only for reference.
//
//   node bench/hot-paths-ab.mjs BASELINE_CHECKOUT [rounds, default 3] [seconds per run, default 4]
//   (after building both; needs Redis and wrk)
//   node bench/hot-paths-ab.mjs ML_FAST_PATH=0 [rounds] [seconds]
//   (this build twice: the baseline with the fast path off, every request through Hono)
//   node bench/hot-paths-ab.mjs NODE_ARGS=--max-semi-space-size=64 [rounds] [seconds]
//   (this build twice: the baseline started with those node flags, e.g. another young generation)
//
// BENCH_PACED_RATE=N drives each run at N requests/s (wrk -c128 paced by a Lua schedule, as in
// bench/hot-paths.mjs part 2) instead of as fast as it goes, and adds the latency percentiles,
// the slots wrk took late, and the server's longest scavenge and event-loop delay per run: tails
// of two builds or two settings at one fixed rate, in one window.
//
// Each server loads bench/server-probe.mjs, which counts the bytes its heap allocated during each run.
// BENCH_ROUTES=assignments,metrics,observations picks routes (default: all three; observations are
// 10 rows of 5 features into a drift monitor, as in bench/hot-ingest.mjs).
import { Redis } from "ioredis"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { createdMonitor, metricBody, newUserBody, observationRows, startedExperiment } from "./hot-fixture.mjs"
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
const [baselineArg, roundsArg, secondsArg] = process.argv.slice(2)
if (baselineArg === undefined) {
  console.error("usage: node bench/hot-paths-ab.mjs BASELINE_CHECKOUT [rounds] [seconds]")
  process.exit(2)
}
const rounds = Number(roundsArg ?? 3)
const seconds = Number(secondsArg ?? 4)
const redisUrl = process.env.ML_TEST_REDIS_URL ?? "redis://127.0.0.1:6379"
const run = `ab${Date.now().toString(36)}`

const thisBuild = path.join(here, "../apps/server/dist/main.js")
const pacedRate = process.env.BENCH_PACED_RATE === undefined ? undefined : Number(process.env.BENCH_PACED_RATE)
const baselineNodeArgs = baselineArg.startsWith("NODE_ARGS=")
  ? baselineArg.slice("NODE_ARGS=".length).split(" ").filter((arg) => arg !== "")
  : undefined
const builds = baselineNodeArgs !== undefined
  ? [
    { name: "baseline", main: thisBuild, env: {}, nodeArgs: baselineNodeArgs },
    { name: "this build", main: thisBuild, env: {} }
  ]
  : baselineArg === "ML_FAST_PATH=0"
  ? [
    { name: "baseline", main: thisBuild, env: { ML_FAST_PATH: "0" } },
    { name: "this build", main: thisBuild, env: {} }
  ]
  : [
    { name: "baseline", main: path.join(path.resolve(baselineArg), "apps/server/dist/main.js"), env: {} },
    { name: "this build", main: thisBuild, env: {} }
  ]
const dataDirs = []
const prefixes = []
const servers = []
try {
  for (const build of builds) {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ml-hot-ab-"))
    const prefix = `bench-hot-ab:${process.pid}:${build.name === "baseline" ? "a" : "b"}:`
    dataDirs.push(dataDir)
    prefixes.push(prefix)
    const probeFile = path.join(dataDir, "server-probe.jsonl")
    const server = await startServerProcess(
      {
        ML_MODEL_STORAGE_DIR: dataDir,
        ML_REDIS_URL: redisUrl,
        ML_REDIS_PREFIX: prefix,
        ML_BENCH_PROBE_FILE: probeFile,
        ...build.env
      },
      build.main,
      { nodeArgs: [...(build.nodeArgs ?? []), "--import", path.join(here, "server-probe.mjs")] }
    )
    await createdMonitor(server.url, "hot-ab")
    servers.push({ ...build, ...server, probeFile, experiment: await startedExperiment(server.url) })
  }

  /** One wrk run against `server` inside a probe window: req/s, CPU µs and heap bytes per request, scavenges. */
  const measure = async (server, route, tag) => {
    const lines = () => fs.existsSync(server.probeFile) ? fs.readFileSync(server.probeFile, "utf8").split("\n") : [""]
    const before = lines().length
    const cpuBefore = processCpuMs(server.child.pid)
    server.child.kill("SIGUSR2")
    const script = wrkPostScript(
      route.body(server.experiment, `${run}-${server.name === "baseline" ? "a" : "b"}-${tag}`)
    )
    const result = await runWrk(
      `${server.url}${route.path(server.experiment)}`,
      pacedRate === undefined ? script : script + wrkPacing(pacedRate),
      pacedRate === undefined ? { seconds } : { seconds, connections: 128 }
    )
    server.child.kill("SIGUSR2")
    const cpuMs = processCpuMs(server.child.pid) - cpuBefore
    for (let waited = 0; waited < 5000; waited += 20) {
      const now = lines()
      if (now.length > before) {
        const probe = JSON.parse(now[now.length - 2])
        return {
          p50Ms: result.p50Ms,
          p99Ms: result.p99Ms,
          maxMs: result.maxMs,
          late: /paced: (\d+)/.exec(result.output)?.[1],
          scavengeMaxMs: probe.gc.scavenge?.maxMs ?? 0,
          loopDelayP99Ms: probe.loopDelayMs.p99,
          reqPerSec: result.reqPerSec,
          cpuUs: (cpuMs * 1000) / result.requests,
          bytes: probe.allocatedBytes / result.requests,
          scavengesPer1000: ((probe.gc.scavenge?.count ?? 0) * 1000) / result.requests
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    throw new Error("the server probe wrote nothing")
  }

  const observationsBody = `'${JSON.stringify({ rows: observationRows })}'`
  const chosen = new Set((process.env.BENCH_ROUTES ?? "assignments,metrics,observations").split(","))
  const routes = [
    {
      key: "assignments",
      name: "assignments (new users, sticky)",
      path: (experiment) => `/v1/experiments/${experiment.id}/assignments`,
      body: (_, tag) => newUserBody(tag)
    },
    {
      key: "metrics",
      name: "metrics (one observation)",
      path: (experiment) => `/v1/experiments/${experiment.id}/metrics`,
      body: (experiment) => metricBody(experiment)
    },
    {
      key: "observations",
      name: "observations (10 rows x 5 features)",
      path: () => "/v1/drift/monitors/hot-ab/observations",
      body: () => observationsBody
    }
  ].filter((route) => chosen.has(route.key))
  const results = new Map()
  for (const route of routes) {
    for (const server of servers) await measure(server, route, "warm") // JIT, script cache, cached definition
    for (let round = 0; round < rounds; round++) {
      // Alternate which build goes first, so neither always follows the other.
      const order = round % 2 === 0 ? servers : [...servers].reverse()
      for (const server of order) {
        const key = `${route.name}|${server.name}`
        if (!results.has(key)) results.set(key, [])
        results.get(key).push(await measure(server, route, `r${round}`))
      }
    }
  }

  console.log(
    `\nServer CPU and heap allocation per request, ${
      pacedRate === undefined ? "wrk -t1 -c32" : `wrk -t1 -c128 paced at ${pacedRate} req/s`
    }, ${rounds} alternating runs of ${seconds} s ` +
      `(medians; load average ${os.loadavg().map((x) => x.toFixed(2)).join(" ")})`
  )
  const rows = []
  for (const route of routes) {
    const [a, b] = builds.map((build) => results.get(`${route.name}|${build.name}`))
    const med = (runs, field) => median(runs.map((r) => r[field]))
    for (const [build, runs] of [[builds[0], a], [builds[1], b]]) {
      rows.push({
        route: route.name,
        build: build.name,
        "CPU µs/req": Math.round(med(runs, "cpuUs")),
        "CPU µs/req (each run)": runs.map((r) => Math.round(r.cpuUs)).join(" "),
        "heap bytes/req": Math.round(med(runs, "bytes")),
        "scavenges/1000 req": med(runs, "scavengesPer1000").toFixed(1),
        "req/s": Math.round(med(runs, "reqPerSec")),
        ...(pacedRate === undefined ? {} : {
          "p50 ms": med(runs, "p50Ms").toFixed(2),
          "p99 ms (each run)": runs.map((r) => r.p99Ms.toFixed(1)).join(" "),
          "max ms": med(runs, "maxMs").toFixed(1),
          "late slots": runs.map((r) => r.late).join(" "),
          "longest scavenge ms": runs.map((r) => r.scavengeMaxMs.toFixed(1)).join(" "),
          "loop delay p99 ms": med(runs, "loopDelayP99Ms").toFixed(1)
        })
      })
    }
    console.log(
      `${route.name}: this build / baseline: CPU ${(med(b, "cpuUs") / med(a, "cpuUs")).toFixed(2)}, bytes ${
        (med(b, "bytes") / med(a, "bytes")).toFixed(2)
      }`
    )
  }
  console.table(rows)
} finally {
  for (const server of servers) await server.stop()
  for (const dir of dataDirs) fs.rmSync(dir, { recursive: true, force: true })
  const redis = new Redis(redisUrl)
  for (const prefix of prefixes) await deleteKeysWithPrefix(redis, prefix)
  await redis.quit()
}
