// Filesystem-mode ingestion under concurrency: drift values, pipeline samples and experiment
// metrics per second over HTTP into one server on a fresh data directory (what group commit is for).
//
//   node bench/fs-ingestion.mjs   (after a build)
//
// Prints rates; run it on two builds (before and after a change) in the same session to compare.
import { createClient } from "@org/ml-sdk"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { callsPerSecond, jsonPoster, startServerProcess } from "./lib.mjs"

const inFlight = Number(process.env.BENCH_IN_FLIGHT ?? 16)
const requests = Number(process.env.BENCH_REQUESTS ?? 400)
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ml-fs-ingest-bench-"))
const { stop, url } = await startServerProcess({ ML_MODEL_STORAGE_DIR: dataDir })
const post = jsonPoster(url)
/** `requests` calls of `make(i)`, `inFlight` at a time; returns calls per second. */
const rate = (make) => callsPerSecond(requests, inFlight, make)
try {
  const { makeLearner } = await import("@org/ml-core")
  const ml = createClient({ baseUrl: url })
  await ml.drift.createMonitor({
    id: "bench",
    features: [{ name: "x", kind: "feature", type: "numeric" }],
    settings: { windowSize: 100_000 }
  })
  const values = Array.from({ length: 100 }, (_, i) => Math.sin(i))
  const drift = await rate(() => post("/v1/drift/monitors/bench/observations", { values: { x: values } }))
  const model = await post("/v1/models", {
    name: "bench",
    version: "1.0.0",
    algorithm: "logistic_regression",
    framework: "ml-pipeline"
  })
  const config = {
    kind: "logistic",
    optimizer: { type: "sgd", learningRate: 0.1 },
    features: { type: "schema", names: ["a", "b"] }
  }
  await fetch(`${url}/v1/models/${model.id}/artifact`, {
    method: "PUT",
    body: JSON.stringify(makeLearner(config).state()),
    headers: { "content-type": "application/octet-stream" }
  })
  await post("/v1/pipelines", {
    id: "bench",
    name: "bench",
    modelId: model.id,
    strategy: "periodic",
    updateFrequencySeconds: 86400
  })
  let sample = 0
  const samples = await rate(() =>
    post("/v1/pipelines/bench/samples", {
      samples: Array.from({ length: 100 }, () => {
        const i = sample++
        return { sampleId: `s${i}`, features: { a: Math.sin(i), b: Math.cos(i) }, label: i % 2 }
      })
    })
  )
  const variant = (await post("/v1/models", { name: "bench-b", version: "1.0.0", algorithm: "x", framework: "y" })).id
  const experiment = await post("/v1/experiments", {
    name: "bench",
    targetMetric: "ctr",
    variants: [{ modelId: model.id, isControl: true, trafficPct: 50 }, {
      modelId: variant,
      isControl: false,
      trafficPct: 50
    }]
  })
  await post(`/v1/experiments/${experiment.id}/start`, {})
  const observations = Array.from(
    { length: 100 },
    (_, i) => ({ modelId: i % 2 ? variant : model.id, metric: "ctr", value: i % 3 })
  )
  const metrics = await rate(() => post(`/v1/experiments/${experiment.id}/metrics`, { observations }))
  console.log(JSON.stringify({
    inFlight,
    requests,
    driftValuesPerSecond: Math.round(drift * 100),
    samplesPerSecond: Math.round(samples * 100),
    metricObservationsPerSecond: Math.round(metrics * 100)
  }))
} finally {
  await stop()
  fs.rmSync(dataDir, { recursive: true, force: true })
}
