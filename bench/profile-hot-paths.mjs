// Where the hot routes spend their time: the real server in Redis mode under `node --cpu-prof`,
// driven by wrk (32 connections) on each hot route in turn, then the profile's self time grouped
// into the stages of a request (cpuprofile-stages.mjs; bench/PROFILE.md has the figures).
//
//   node bench/profile-hot-paths.mjs [seconds per route, default 8]    (after a build; needs Redis and wrk)
//
// Each route gets its own server process, so each profile holds one route's work only. With
// PROFILE_HEAP=1 the servers run V8's sampling heap profiler (bench/heap-sampling.mjs) over the
// wrk run instead, after a 2 s warm-up, and the bytes allocated per request are printed by site.
import { Redis } from "ioredis"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { breakdown, printBreakdown } from "./cpuprofile-stages.mjs"
import { printHeapProfile } from "./heap-sampling.mjs"
import { createdMonitor, metricBody, newUserBody, observationRows, startedExperiment } from "./hot-fixture.mjs"
import { deleteKeysWithPrefix, runWrk, startServerProcess, wrkPostScript } from "./lib.mjs"

const redisUrl = process.env.ML_TEST_REDIS_URL ?? "redis://127.0.0.1:6379"
const seconds = Number(process.argv[2] === "--analyze" ? 0 : process.argv[2] ?? 8)

const here = path.dirname(fileURLToPath(import.meta.url))

/** The route under V8's sampling heap profiler: bytes allocated per request, by allocation site. */
const heapProfileRoute = async (name, route, body) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ml-profile-data-"))
  const profileFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ml-heap-")), "route.heapprofile")
  const prefix = `profile:${process.pid}:${Date.now()}:`
  const server = await startServerProcess(
    {
      ML_MODEL_STORAGE_DIR: dataDir,
      ML_REDIS_URL: redisUrl,
      ML_REDIS_PREFIX: prefix,
      ML_BENCH_HEAP_PROFILE: profileFile
    },
    undefined,
    { nodeArgs: ["--import", path.join(here, "heap-sampling.mjs")] }
  )
  try {
    const experiment = await startedExperiment(server.url)
    await createdMonitor(server.url, "hot")
    const url = `${server.url}${route(experiment)}`
    await runWrk(url, wrkPostScript(body(experiment, "warm")), { connections: 32, seconds: 2 })
    server.child.kill("SIGUSR2")
    const result = await runWrk(url, wrkPostScript(body(experiment, "measured")), { connections: 32, seconds })
    server.child.kill("SIGUSR2")
    for (let waited = 0; waited < 10_000 && !fs.existsSync(profileFile); waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    await new Promise((resolve) => setTimeout(resolve, 500)) // the write is one call; let it finish
    console.log(`\n${name}: ${result.requests} requests under the heap profiler (wrk -c32)`)
    printHeapProfile(profileFile, result.requests)
    console.log(`profile kept in ${profileFile}`)
  } finally {
    await server.stop()
    fs.rmSync(dataDir, { recursive: true, force: true })
    const redis = new Redis(redisUrl)
    await deleteKeysWithPrefix(redis, prefix)
    await redis.quit()
  }
}

const profileRoute = async (name, route, body) => {
  const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), "ml-profile-"))
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ml-profile-data-"))
  const prefix = `profile:${process.pid}:${Date.now()}:`
  const previous = process.env.BENCH_SERVER_NODE_ARGS
  process.env.BENCH_SERVER_NODE_ARGS = `--cpu-prof --cpu-prof-dir=${profileDir}`
  const server = await startServerProcess({
    ML_MODEL_STORAGE_DIR: dataDir,
    ML_REDIS_URL: redisUrl,
    ML_REDIS_PREFIX: prefix
  })
  process.env.BENCH_SERVER_NODE_ARGS = previous
  try {
    const experiment = await startedExperiment(server.url)
    await createdMonitor(server.url, "hot")
    const url = `${server.url}${route(experiment)}`
    const result = await runWrk(url, wrkPostScript(body(experiment)), { connections: 32, seconds })
    await server.stop()
    const file = fs.readdirSync(profileDir).find((f) => f.endsWith(".cpuprofile"))
    const { busy, totals } = breakdown(JSON.parse(fs.readFileSync(path.join(profileDir, file), "utf8")))
    const requests = result.reqPerSec * seconds
    console.log(`\n${name}: ${Math.round(result.reqPerSec)} req/s, mean ${result.meanMs.toFixed(2)} ms (wrk -c32)`)
    printBreakdown(totals, busy, requests)
    console.log(`profile kept in ${profileDir}`)
  } finally {
    if (server.child.exitCode === null) await server.stop()
    fs.rmSync(dataDir, { recursive: true, force: true })
    const redis = new Redis(redisUrl)
    await deleteKeysWithPrefix(redis, prefix)
    await redis.quit()
  }
}

if (process.argv[2] === "--analyze") {
  // node bench/profile-hot-paths.mjs --analyze FILE.cpuprofile REQUESTS: the breakdown of a kept profile.
  const { busy, totals } = breakdown(JSON.parse(fs.readFileSync(process.argv[3], "utf8")))
  printBreakdown(totals, busy, Number(process.argv[4]))
  process.exit(0)
}
const run = `p${Date.now().toString(36)}`
const profile = process.env.PROFILE_HEAP === "1" ? heapProfileRoute : profileRoute
const only = process.env.PROFILE_ONLY // assignments, metrics or observations: that route alone
if (only === undefined || only === "assignments") {
  await profile(
    "POST /assignments (new users, sticky)",
    (experiment) => `/v1/experiments/${experiment.id}/assignments`,
    (_, tag = "") => newUserBody(`${run}${tag}`)
  )
}
if (only === undefined || only === "metrics") {
  await profile(
    "POST /metrics (one observation)",
    (experiment) => `/v1/experiments/${experiment.id}/metrics`,
    metricBody
  )
}
if (only === undefined || only === "observations") {
  const body = `'${JSON.stringify({ rows: observationRows })}'`
  await profile("POST /observations (10 rows x 5 features)", () => "/v1/drift/monitors/hot/observations", () => body)
}
