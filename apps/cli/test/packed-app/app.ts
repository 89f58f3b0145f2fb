// A user's app, compiled with strict tsc against the packed tarballs (test/packing.test.ts): the
// public types are importable from @org/ml-sdk and README's snippets typecheck as written.
import {
  createClient,
  type ExperimentResults,
  type Model,
  type ModelAssignment,
  ModelNotFoundError,
  onAlert,
  type PipelineStatus
} from "@org/ml-sdk"

const baseUrl = process.argv[2]
if (!baseUrl) throw new Error("usage: node app.js <server url>")
const ml = createClient({ baseUrl, token: process.env.ML_API_TOKEN })

const artifact = new TextEncoder().encode("a serialized model")
let lastProgress = 0
const model: Model = await ml.registry.registerModel(
  { name: "packed-app", version: "1.0.0", algorithm: "logistic_regression", framework: "sklearn" },
  artifact,
  { onProgress: (done) => (lastProgress = done) }
)
const downloaded = await (await ml.registry.downloadArtifact(model.id)).bytes()

const treatment = await ml.registry.registerModel({
  name: "packed-app",
  version: "1.1.0",
  algorithm: "logistic_regression",
  framework: "sklearn"
})
const experiment = await ml.experiments.create({
  name: "packed-app",
  targetMetric: "ctr",
  variants: [
    { modelId: model.id, isControl: true, trafficPct: 50 },
    { modelId: treatment.id, isControl: false, trafficPct: 50 }
  ]
})
await ml.experiments.start(experiment.id)
const assignment: ModelAssignment = await ml.experiments.getModelAssignment(experiment.id, "user-1")
const results: ExperimentResults = await ml.experiments.getExperimentResults(experiment.id)

let notFound = false
try {
  await ml.registry.getModel("01J8Z3NDEKTSV4RRFFQ69G5FAV")
} catch (error) {
  notFound = error instanceof ModelNotFoundError
}

// README's webhook receiver, as written there.
const secret = process.env.WEBHOOK_SECRET ?? "a-secret-for-this-check"
const receiver = { fetch: onAlert(secret, (alert) => console.error(alert.recommendation)) }
const describe = (status: PipelineStatus) => `${status.pipeline.id}: ${status.counters.processed} samples`

console.log(JSON.stringify({
  uploaded: lastProgress,
  downloaded: new TextDecoder().decode(downloaded),
  assigned: [model.id, treatment.id].includes(assignment.modelId),
  variants: results.variants.length,
  notFound,
  receiver: typeof receiver.fetch,
  describe: typeof describe
}))
