// What the Prometheus gauges cost as storage grows: the latency of starting and completing an
// experiment with 10 and with 10,000 experiments already running, and the time of a /metrics
// scrape with 10 and with 10,000 models (each with an artifact, so each has an
// ml_model_file_size_bytes series), in filesystem and Redis mode, side by side in one run.
//
//   node bench/gauges.mjs [small] [large]   (after a build; defaults 10 and 10000; Redis as for the tests)
//
// The running experiments and the models are seeded in process through the storage ports (the
// server's own layers), so seeding does not depend on the code being measured; the server is a
// child process. Per size: BENCH_ROUNDS (default 20) experiments are started and completed one at
// a time over HTTP (median ms each), each followed by a scrape (the completion invalidated the
// experiment gauges), and /metrics is scraped BENCH_ROUNDS times more (median ms): once right after
// a promotion through the same server and once with nothing changed.
// BENCH_MODES=fs,redis picks the modes (default both); BENCH_SERVER=path/to/main.js runs another
// build's server (e.g. a baseline checkout's apps/server/dist/main.js) on the same seeding.
import { ExperimentStore, MetricsSink, ModelRegistry, newExperiment } from "@org/ml-core"
import { loadConfig, makeStorageLayer } from "@org/ml-server"
import { Effect, Layer, ManagedRuntime } from "effect"
import { Redis } from "ioredis"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { deleteKeysWithPrefix, jsonPoster, median, startServerProcess } from "./lib.mjs"

const sizes = [Number(process.argv[2] ?? 10), Number(process.argv[3] ?? 10_000)]
const rounds = Number(process.env.BENCH_ROUNDS ?? 20)
const redisUrl = process.env.ML_TEST_REDIS_URL ?? "redis://127.0.0.1:6379"

/** `count` models with a small artifact and `count` running experiments between the first two. */
const seed = async (env, count) => {
  const layer = ModelRegistry.layer().pipe(
    Layer.provideMerge(Layer.merge(makeStorageLayer(loadConfig(env)), MetricsSink.layerMemory))
  )
  const runtime = ManagedRuntime.make(layer)
  try {
    const register = (i) =>
      ModelRegistry.ModelRegistry.use((registry) =>
        registry.registerModel(
          { name: `gauge-bench-${i % 100}`, version: `1.0.${i}`, algorithm: "x", framework: "y" },
          new Blob([`artifact ${i}`]).stream(),
          {}
        )
      )
    const models = await runtime.runPromise(Effect.forEach(Array.from({ length: count }, (_, i) => i), register, {
      concurrency: 16
    }))
    const variants = [
      { modelId: models[0].id, isControl: true, trafficPct: 50 },
      { modelId: models[1].id, isControl: false, trafficPct: 50 }
    ]
    const at = new Date().toISOString()
    const insert = (i) =>
      ExperimentStore.ExperimentStore.use((store) =>
        store.insert({
          ...newExperiment({ name: `seeded ${i}`, targetMetric: "ctr", variants }, {
            id: `exp-seeded-${i}`,
            at,
            actor: "bench",
            defaults: { stickyAssignment: true, minSamplesPerVariant: 1000 }
          }),
          status: "running",
          startedAt: at
        })
      )
    await runtime.runPromise(Effect.forEach(Array.from({ length: count }, (_, i) => i), insert, { concurrency: 16 }))
    return { variants, models }
  } finally {
    await runtime.dispose()
  }
}

const timed = async (action) => {
  const start = performance.now()
  await action()
  return performance.now() - start
}

const measure = async (env, count) => {
  const { variants, models } = await seed(env, count)
  const server = await startServerProcess(
    { ...env, ML_AB_REWEIGHT_INTERVAL: "0" },
    process.env.BENCH_SERVER === undefined ? undefined : path.resolve(process.env.BENCH_SERVER)
  )
  try {
    const post = jsonPoster(server.url)
    const scrape = async () => {
      const response = await fetch(`${server.url}/metrics`)
      const text = await response.text()
      if (response.status !== 200) throw new Error(`/metrics: ${response.status} ${text}`)
      return text
    }
    const exposition = await scrape()
    const sizeSeries = exposition.split("\n").filter((l) => l.startsWith("ml_model_file_size_bytes{")).length
    const active = /^ml_experiment_active_total (\d+)/m.exec(exposition)?.[1]
    if (sizeSeries !== count || Number(active) !== count) {
      throw new Error(`seeded ${count}, /metrics shows ${sizeSeries} artifact sizes and ${active} running`)
    }
    const starts = []
    const completes = []
    const afterExperimentChange = []
    for (let i = 0; i < rounds; i++) {
      const experiment = await post("/v1/experiments", { name: `timed ${i}`, targetMetric: "ctr", variants })
      starts.push(await timed(() => post(`/v1/experiments/${experiment.id}/start`, {})))
      completes.push(await timed(() => post(`/v1/experiments/${experiment.id}/complete`, {})))
      // The completion went through this server, so this scrape rebuilds the experiment gauges.
      afterExperimentChange.push(await timed(scrape))
    }
    const afterChange = []
    const unchanged = []
    for (let i = 0; i < rounds; i++) {
      // One promotion per round (a registry change): models from the third on, each walked to archived.
      const steps = ["testing", "staging", "production", "archived"]
      const model = models[2 + Math.floor(i / steps.length)]
      await post(`/v1/models/${model.id}/promote`, { status: steps[i % steps.length], reason: "bench" })
      afterChange.push(await timed(scrape))
      unchanged.push(await timed(scrape))
    }
    return {
      start: median(starts),
      complete: median(completes),
      scrapeAfterExperiment: median(afterExperimentChange),
      scrapeAfterChange: median(afterChange),
      scrapeUnchanged: median(unchanged),
      bytes: Buffer.byteLength(exposition)
    }
  } finally {
    await server.stop()
  }
}

const inFs = async (count) => {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "ml-bench-gauges-"))
  try {
    return await measure({ ML_MODEL_STORAGE_DIR: directory }, count)
  } finally {
    fs.rmSync(directory, { recursive: true, force: true })
  }
}

const inRedis = async (count) => {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "ml-bench-gauges-"))
  const prefix = `bench-gauges-${process.pid}-${count}:`
  const redis = new Redis(redisUrl)
  try {
    return await measure({ ML_MODEL_STORAGE_DIR: directory, ML_REDIS_URL: redisUrl, ML_REDIS_PREFIX: prefix }, count)
  } finally {
    await deleteKeysWithPrefix(redis, prefix)
    await redis.quit()
    fs.rmSync(directory, { recursive: true, force: true })
  }
}

const ms = (x) => x.toFixed(2).padStart(9)
console.log(`start/complete: median of ${rounds} each, one at a time; /metrics: median of ${rounds} scrapes`)
console.log(
  "mode   size    start ms  complete ms  scrape after experiment change ms  after promotion ms  unchanged ms  /metrics bytes"
)
const modes = new Set((process.env.BENCH_MODES ?? "fs,redis").split(","))
for (const [mode, run] of [["fs", inFs], ["redis", inRedis]].filter(([mode]) => modes.has(mode))) {
  const results = []
  for (const size of sizes) {
    const r = await run(size)
    results.push(r)
    console.log(
      `${mode.padEnd(6)} ${String(size).padStart(5)} ${ms(r.start)}   ${ms(r.complete)}                          ${
        ms(r.scrapeAfterExperiment)
      }           ${ms(r.scrapeAfterChange)}     ${ms(r.scrapeUnchanged)}  ${String(r.bytes).padStart(14)}`
    )
  }
  const [a, b] = results
  console.log(
    `${mode.padEnd(6)} ratio ${sizes[1]}/${sizes[0]}: start ${(b.start / a.start).toFixed(2)}x, complete ${
      (b.complete / a.complete).toFixed(2)
    }x; scrape after experiment change ${
      (b.scrapeAfterExperiment / a.scrapeAfterExperiment).toFixed(2)
    }x, after promotion ${(b.scrapeAfterChange / a.scrapeAfterChange).toFixed(2)}x, unchanged ${
      (b.scrapeUnchanged / a.scrapeUnchanged).toFixed(2)
    }x`
  )
}
