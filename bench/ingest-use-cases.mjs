// The ingestion use cases below the HTTP layer, in process on the Redis stores: the CPU time this
// process spends per call of DriftDetector.recordRows (10 rows of 5 features), OnlineLearner
// .addSamples (10 new samples of 10 features, a periodic pipeline) and OnlineLearner.predict (one
// row), 32 calls in flight as a server under wrk -c32 would have them. Redis's own time is not
// counted (another process); ioredis's is. With ROOT=<another checkout>, that checkout's built
// packages run instead, so two builds can be compared alternately on a loaded machine:
//
//   node bench/ingest-use-cases.mjs                      (after a build; Redis at ML_TEST_REDIS_URL)
//   ROOT=/path/to/other/checkout node bench/ingest-use-cases.mjs
import { Redis } from "ioredis"
import { createRequire } from "node:module"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { deleteKeysWithPrefix, seededUniform } from "./lib.mjs"

const root = path.resolve(process.env.ROOT ?? path.join(path.dirname(fileURLToPath(import.meta.url)), ".."))
const core = await import(path.join(root, "packages/core/dist/index.js"))
// The checkout's own effect: its packages' services and fibers must be of the same module.
const { Effect, Layer } = await import(createRequire(path.join(root, "packages/core/package.json")).resolve("effect"))
const { RedisDriftStore, RedisPipelineStore } = await import(path.join(root, "packages/redis/dist/index.js"))
const { DriftDetector, DriftStore, Leases, makeLearner, MetricsSink, ModelRegistry, OnlineLearner, PipelineStore } =
  core

// Auto-pipelined, as the server's client is (RedisClient.ts).
const redis = new Redis(process.env.ML_TEST_REDIS_URL ?? "redis://127.0.0.1:6379", { enableAutoPipelining: true })
const prefix = `bench-ingest-use-cases-${process.pid}-`
const calls = Number(process.env.BENCH_CALLS ?? 5000)
const uniform = seededUniform(11)

const ports = Layer.mergeAll(
  Layer.succeed(PipelineStore.PipelineStore, RedisPipelineStore.make(redis, prefix)),
  Layer.succeed(DriftStore.DriftStore, RedisDriftStore.make(redis, prefix)),
  MetricsSink.layerMemory,
  Leases.layerMemory,
  ModelRegistry.layerMemory()
)
const names = Array.from({ length: 10 }, (_, j) => `f${j}`)
const monitorFeatures = [
  ...["amount", "age", "tenure", "score"].map((name) => ({ name, kind: "feature", type: "numeric" })),
  { name: "country", kind: "feature", type: "categorical" }
]
const { detector, learner, pipelineId } = await Effect.runPromise(Effect.provide(
  Effect.gen(function*() {
    const registry = yield* ModelRegistry.ModelRegistry
    const base = makeLearner({
      kind: "logistic",
      optimizer: { type: "sgd", learningRate: 0.1 },
      features: { type: "schema", names }
    })
    const model = yield* registry.registerModel(
      { name: "use-cases", version: "1.0.0", algorithm: "logistic_regression", framework: "ml" },
      new Blob([JSON.stringify(base.state())]).stream()
    )
    const learner = yield* OnlineLearner.make()
    const pipeline = yield* learner.createPipeline({
      name: "use-cases",
      modelId: model.id,
      strategy: "periodic",
      updateFrequencySeconds: 86_400,
      maxBufferSize: 1_000_000
    })
    const detector = yield* Effect.provide(DriftDetector.DriftDetector, DriftDetector.layer())
    yield* detector.createMonitor({ id: "use-cases", features: monitorFeatures, settings: { windowSize: 10_000 } })
    return { detector, learner, pipelineId: pipeline.id }
  }),
  ports
))

// Each call parses its input from JSON text, as a route would hand it over.
const rowsText = JSON.stringify(Array.from({ length: 10 }, () => ({
  amount: Math.round(uniform() * 10_000) / 100,
  age: Math.round(18 + uniform() * 60),
  tenure: Math.round(uniform() * 1000) / 10,
  score: uniform(),
  country: ["DE", "FR", "US", "JP"][Math.floor(uniform() * 4)]
})))
const featuresText = JSON.stringify(Object.fromEntries(names.map((n) => [n, Math.round(uniform() * 100) / 100])))
let sampleCounter = 0
const samplesText = () =>
  `[${
    Array.from(
      { length: 10 },
      (_, i) => `{"sampleId":"s${sampleCounter++}","features":${featuresText},"label":${i % 2}}`
    ).join(",")
  }]`

const useCases = {
  "recordRows (10 rows x 5 features)": () => detector.recordRows("use-cases", JSON.parse(rowsText)),
  "addSamples (10 samples x 10 features)": () => learner.addSamples(pipelineId, JSON.parse(samplesText())),
  "predict (1 row x 10 features)": () => learner.predict(pipelineId, [JSON.parse(featuresText)], "features")
}

/** CPU µs of this process per call, `calls` calls with 32 in flight. */
const cpuPerCall = async (call) => {
  let next = 0
  const before = process.cpuUsage()
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next++ < calls) await Effect.runPromise(call())
  }))
  const used = process.cpuUsage(before)
  return (used.user + used.system) / calls
}

try {
  console.log(`${root}: CPU per call, this process (median of 3 rounds after a warm-up; ${calls} calls each)`)
  for (const [label, call] of Object.entries(useCases)) {
    await cpuPerCall(call)
    const rounds = [await cpuPerCall(call), await cpuPerCall(call), await cpuPerCall(call)].sort((a, b) => a - b)
    console.log(
      `${label.padEnd(40)} ${rounds[1].toFixed(1).padStart(7)} us  (rounds ${rounds.map((r) => r.toFixed(1))})`
    )
  }
} finally {
  await deleteKeysWithPrefix(redis, prefix)
  redis.disconnect()
}
