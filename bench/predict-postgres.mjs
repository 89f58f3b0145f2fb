// Predictions on the PostgreSQL pipeline store (PostgreSQL and composed modes): OnlineLearner
// .predict with the pipeline kept per instance and its revision checked in PostgreSQL
// (PipelineStore.getIfChanged: one integer compared, no record sent while it stands) against the
// same store without that method (the record read and decoded on every call, as before), in
// alternating rounds in one process, 32 calls in flight. Prints this process's CPU time and the
// wall time per call (PostgreSQL's own time is another process's and not counted as CPU).
//
//   node bench/predict-postgres.mjs [calls per round, default 2000]   (after a build; PostgreSQL as for the tests)
import { PostgresClient, PostgresPipelineStore } from "@org/ml-adapter-postgres"
import { freshDatabase } from "@org/ml-adapter-postgres/testing"
import { Leases, makeLearner, MetricsSink, ModelRegistry, OnlineLearner, PipelineStore } from "@org/ml-core"
import { Effect, Layer, ManagedRuntime } from "effect"
import * as os from "node:os"
import { median } from "./lib.mjs"

const calls = Number(process.argv[2] ?? 2000)
const database = await freshDatabase("bench_predict")
const client = ManagedRuntime.make(PostgresClient.layer({ url: database.url, maxConnections: 8 }))
const runtimes = []
/** The learning use cases over `store` (each its own instance, as two servers would be). */
const learnerOver = (store) => {
  const runtime = ManagedRuntime.make(
    OnlineLearner.layer().pipe(Layer.provideMerge(Layer.mergeAll(
      Layer.succeed(PipelineStore.PipelineStore, store),
      MetricsSink.layerMemory,
      Leases.layerMemory,
      ModelRegistry.layerMemory()
    )))
  )
  runtimes.push(runtime)
  return runtime
}
try {
  const store = PostgresPipelineStore.make(await client.runPromise(PostgresClient.PostgresClient.use(Effect.succeed)))
  const { getIfChanged: _, ...unchecked } = store
  const names = Array.from({ length: 10 }, (_, j) => `f${j}`)
  const base = makeLearner({
    kind: "logistic",
    optimizer: { type: "sgd", learningRate: 0.01 },
    features: { type: "schema", names }
  })
  const pipeline = await learnerOver(store).runPromise(Effect.gen(function*() {
    const model = yield* ModelRegistry.ModelRegistry.use((registry) =>
      registry.registerModel(
        { name: "predict-postgres", version: "1.0.0", algorithm: "logistic_regression", framework: "ml" },
        new Blob([JSON.stringify(base.state())]).stream()
      )
    )
    return yield* OnlineLearner.OnlineLearner.use((learner) =>
      learner.createPipeline({ name: "p", modelId: model.id, strategy: "periodic", updateFrequencySeconds: 86_400 })
    )
  }))
  const row = Object.fromEntries(names.map((name, j) => [name, j / 10]))
  const variants = [
    { name: "revision checked (getIfChanged)", runtime: learnerOver(store), runs: [] },
    { name: "record read every call (before)", runtime: learnerOver(unchecked), runs: [] }
  ]
  const measure = async (runtime, count) => {
    const predict = OnlineLearner.OnlineLearner.use((learner) => learner.predict(pipeline.id, [row]))
    const cpu = process.cpuUsage()
    const start = performance.now()
    let next = 0
    await Promise.all(Array.from({ length: 32 }, async () => {
      while (next++ < count) await runtime.runPromise(predict)
    }))
    const used = process.cpuUsage(cpu)
    return { cpuUs: (used.user + used.system) / count, wallUs: ((performance.now() - start) * 1000) / count }
  }
  for (const variant of variants) await measure(variant.runtime, 500) // JIT, the learner loaded
  for (let round = 0; round < 4; round++) {
    for (const variant of round % 2 === 0 ? variants : [...variants].reverse()) {
      variant.runs.push(await measure(variant.runtime, calls))
    }
  }
  console.log(
    `predict, 1 row x 10 features, 32 in flight, 4 alternating rounds of ${calls} (load average ${
      os.loadavg().map((x) => x.toFixed(1)).join(" ")
    })`
  )
  console.table(variants.map(({ name, runs }) => ({
    store: name,
    "CPU µs/call (median)": Math.round(median(runs.map((r) => r.cpuUs))),
    "CPU µs/call (each)": runs.map((r) => Math.round(r.cpuUs)).join(" "),
    "wall µs/call (median)": Math.round(median(runs.map((r) => r.wallUs)))
  })))
} finally {
  for (const runtime of runtimes) await runtime.dispose()
  await client.dispose()
  await database.drop()
}
