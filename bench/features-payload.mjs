// The GrowthBook features payload, GET /api/features/{clientKey}, served from its per-connection
// cache (built once per experiments version) against a minimal node:http route serving the same
// bytes and ETag from memory, both driven by wrk in one run, one after the other, in this process
// (the server runs in-process so its payload builds can be counted). Then the builds: before the
// cache every request listed the experiments and built the payload, its JSON and SHA-256, so the
// old route built as many payloads per second as it answered; the bench times that work alone
// (the most builds per second the old route could reach, the ceiling of its request rate), and
// counts the builds the cached route made under load while the experiments were re-split once a
// second (one build per change). Last, the change feed's tick on Redis with as many experiments:
// a full list (what every tick read before) against the definitions token (what a tick reads now
// unless the token moved).
//
//   node bench/features-payload.mjs     (after a build; EXPERIMENTS=100 SECONDS=8 CONNECTIONS=32;
//                                        Redis at ML_TEST_REDIS_URL or 127.0.0.1:6379)
import { ExperimentStore, growthBookPayload, makeUlid, newExperiment } from "@org/ml-core"
import { loadConfig, makeStorageLayer, startServer } from "@org/ml-server"
import { Effect, ManagedRuntime } from "effect"
import { Redis } from "ioredis"
import { createHash } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:http"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { deleteKeysWithPrefix, median, runWrk } from "./lib.mjs"

const here = path.dirname(fileURLToPath(import.meta.url))
// The counter lives in the server's build, the module startServer loaded.
const { payloadBuildsSoFar } = await import(
  pathToFileURL(path.join(here, "../apps/server/dist/routes/sdk.js")).href
)
const experimentCount = Number(process.env.EXPERIMENTS ?? 100)
const seconds = Number(process.env.SECONDS ?? 8)
const connections = Number(process.env.CONNECTIONS ?? 32)

const directory = mkdtempSync(path.join(tmpdir(), "ml-bench-features-"))
const server = await startServer(
  loadConfig({ ML_MODEL_STORAGE_DIR: directory, ML_PORT: "0", ML_HOST: "127.0.0.1" }),
  () => undefined
)
const send = async (route, body, method = "POST") => {
  const response = await fetch(`${server.url}${route}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${await response.text()}`)
  return response.json()
}
const getScript = (route) => `wrk.method = "GET"\nwrk.path = "${route}"\n`

try {
  const ids = []
  for (const version of ["1", "2", "3"]) {
    const model = await send("/v1/models", { name: "features-bench", version, algorithm: "a", framework: "f" })
    await fetch(`${server.url}/v1/models/${model.id}/artifact`, { method: "PUT", body: new Uint8Array([1]) })
    ids.push(model.id)
  }
  const experiments = []
  for (let i = 0; i < experimentCount; i++) {
    const experiment = await send("/v1/experiments", {
      name: `features ${i}`,
      targetMetric: "ctr",
      coverage: 0.9,
      condition: { country: { $in: ["DE", "FR", "US"] } },
      variants: ids.map((modelId, v) => ({ modelId, isControl: v === 0, trafficPct: v === 0 ? 34 : 33 }))
    })
    await send(`/v1/experiments/${experiment.id}/start`)
    experiments.push(experiment.id)
  }
  const { clientKey } = await send("/v1/sdk-connections", { name: "bench" })
  const route = `/api/features/${clientKey}`
  const first = await fetch(`${server.url}${route}`)
  const bytes = Buffer.from(await first.arrayBuffer())
  const etag = first.headers.get("etag")

  // The cached route under load, re-split once a second: each change is one build.
  let resplits = 0
  const resplitting = setInterval(() => {
    const id = experiments[resplits++ % experiments.length]
    send(`/v1/experiments/${id}`, { trafficPct: resplits % 2 ? [50, 25, 25] : [34, 33, 33] }, "PATCH").catch(
      console.error
    )
  }, 1_000)
  const buildsBefore = payloadBuildsSoFar()
  const cached = await runWrk(`${server.url}${route}`, getScript(route), { connections, seconds })
  clearInterval(resplitting)
  const buildsUnderLoad = payloadBuildsSoFar() - buildsBefore

  // The minimal route: the same bytes and ETag from memory, node:http, no framework.
  const minimal = createServer((req, res) => {
    if (req.headers["if-none-match"] === etag) {
      res.writeHead(304, { etag })
      return res.end()
    }
    res.writeHead(200, { "content-type": "application/json", etag, "access-control-allow-origin": "*" })
    res.end(bytes)
  })
  await new Promise((resolve) => minimal.listen(0, "127.0.0.1", resolve))
  const minimalUrl = `http://127.0.0.1:${minimal.address().port}`
  const baseline = await runWrk(`${minimalUrl}${route}`, getScript(route), { connections, seconds })
  await new Promise((resolve) => minimal.close(resolve))

  // The old route's per-request work, timed alone: list (the server's own list, through HTTP here
  // once, then reused: the store read is left out, so this is a ceiling), payload, JSON, SHA-256.
  const { items } = await send("/v1/experiments", undefined, "GET")
  let builds = 0
  const started = performance.now()
  while (performance.now() - started < 2_000) {
    const plain = JSON.stringify(growthBookPayload(items))
    createHash("sha256").update(plain).digest("base64url")
    builds++
  }
  const uncachedBuildsPerSecond = builds / ((performance.now() - started) / 1000)

  const fmt = (n) => Math.round(n).toLocaleString("en-US")
  console.log(`GET /api/features/{clientKey}: ${experimentCount} running experiments, ${bytes.length} bytes`)
  console.log(`  cached route (Hono + Effect, server):  ${fmt(cached.reqPerSec)} req/s  p99 ${cached.p99Ms} ms`)
  console.log(`  minimal node:http, same bytes + ETag:   ${fmt(baseline.reqPerSec)} req/s  p99 ${baseline.p99Ms} ms`)
  console.log(`  ratio cached / minimal:                 ${(cached.reqPerSec / baseline.reqPerSec).toFixed(2)}`)
  console.log(
    `  payload builds before (one per request): at most ${fmt(uncachedBuildsPerSecond)}/s ` +
      "(the build alone, store read left out: the old route's ceiling)"
  )
  console.log(
    `  payload builds after (one per change):  ${buildsUnderLoad} in ${seconds} s ` +
      `(${(buildsUnderLoad / seconds).toFixed(2)}/s) while serving ${
        fmt(cached.requests)
      } requests and ${resplits} re-splits`
  )
} finally {
  await server.close()
  rmSync(directory, { recursive: true, force: true })
}

// The feed's tick on Redis: the experiments seeded through the store port, then each read timed.
const redisUrl = process.env.ML_TEST_REDIS_URL ?? "redis://127.0.0.1:6379"
const prefix = `bench-features-${process.pid}:`
const redisDirectory = mkdtempSync(path.join(tmpdir(), "ml-bench-features-redis-"))
const runtime = ManagedRuntime.make(
  makeStorageLayer(
    loadConfig({ ML_MODEL_STORAGE_DIR: redisDirectory, ML_REDIS_URL: redisUrl, ML_REDIS_PREFIX: prefix })
  )
)
try {
  const at = new Date().toISOString()
  const variants = [
    { modelId: makeUlid(Date.now()), isControl: true, trafficPct: 50 },
    { modelId: makeUlid(Date.now()), isControl: false, trafficPct: 50 }
  ]
  await runtime.runPromise(ExperimentStore.ExperimentStore.use((store) =>
    Effect.forEach(
      Array.from({ length: experimentCount }, (_, i) => i),
      (i) =>
        store.insert({
          ...newExperiment({ name: `tick ${i}`, targetMetric: "ctr", variants }, {
            id: `tick-${i}`,
            at,
            actor: "bench",
            defaults: { stickyAssignment: true, minSamplesPerVariant: 1000 }
          }),
          status: "running",
          startedAt: at
        }),
      { concurrency: 16 }
    )
  ))
  const timedTicks = async (read) => {
    const times = []
    for (let i = 0; i < 50; i++) {
      const started = performance.now()
      await runtime.runPromise(ExperimentStore.ExperimentStore.use(read))
      times.push(performance.now() - started)
    }
    return median(times)
  }
  const listMs = await timedTicks((store) => store.list())
  const tokenMs = await timedTicks((store) => store.definitionsToken())
  console.log(`Change feed tick on Redis, ${experimentCount} experiments (median of 50):`)
  console.log(`  full list (every tick before):  ${listMs.toFixed(2)} ms`)
  console.log(`  definitions token (every tick now, a list only when it moved): ${tokenMs.toFixed(2)} ms`)
} finally {
  await runtime.dispose()
  const redis = new Redis(redisUrl)
  await deleteKeysWithPrefix(redis, prefix)
  await redis.quit()
  rmSync(redisDirectory, { recursive: true, force: true })
}
