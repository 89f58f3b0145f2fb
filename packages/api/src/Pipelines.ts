/**
 * The online-learning endpoints: pipelines (create, list, status), labelled samples, updates and
 * their records, rollbacks and predictions with the live learner. Bodies, answers and path
 * parameters are the core's learning schemas. Sample and prediction bodies check only their
 * envelope here: each value is checked once, by the use case (naming the field), so a batch of
 * 100,000 samples is not walked twice.
 */
import {
  AddSamplesResult,
  CreatePipelineInput,
  Pipeline,
  PipelineList,
  PipelineParams,
  PipelineStatus,
  PredictRequest,
  PredictResult,
  RollbackRequest,
  SamplesRequest,
  TriggerUpdateResult,
  UpdateRecord,
  UpdateRecordList
} from "@org/ml-core"
import { Schema } from "effect"
import { endpoint } from "./Endpoint.js"

const baseModelId = "01J9Z8K2W4X6Y8A0B2C4D6E8FG"
const publishedModelId = "01J9ZC3M5P7R9T1V3X5Z7B9D1F"

const exampleInput: typeof CreatePipelineInput.Encoded = {
  id: "fraud-online",
  name: "fraud",
  modelId: baseModelId,
  strategy: "mini-batch",
  batchSize: 500,
  holdoutShare: 0.2,
  monitorId: "fraud-inputs",
  publish: { precision: "float32" }
}

const examplePipeline: Pipeline = {
  id: "fraud-online",
  name: "fraud",
  baseModelId,
  liveModelId: publishedModelId,
  kind: "logistic",
  strategy: "mini-batch",
  updateFrequencySeconds: 3600,
  batchSize: 500,
  minSamples: 10,
  maxBufferSize: 10000,
  learningRate: null,
  holdoutShare: 0.2,
  validationMetric: "log_loss",
  degradationTolerance: 0.01,
  monitorId: "fraud-inputs",
  publish: { precision: "float32" },
  adaptive: { batchSize: 500, learningRateScale: 1, referenceMetric: null },
  driftSignal: false,
  acceptedUpdates: 1,
  rejectedUpdates: 0,
  lastUpdateAt: "2025-06-02T08:30:00.000Z",
  lastError: null,
  retryCount: 0,
  nextRetryAt: null,
  createdAt: "2025-06-01T10:00:00.000Z",
  updatedAt: "2025-06-02T08:30:00.000Z",
  revision: 3
}

const exampleUpdate: UpdateRecord = {
  id: "upd-m0q3x1k0-4f9k2a",
  pipelineId: "fraud-online",
  at: "2025-06-02T08:30:00.000Z",
  kind: "update",
  accepted: true,
  reason: "log_loss 0.412 -> 0.398 on 100 held-out samples",
  trigger: "samples",
  samples: 400,
  metricBefore: 0.412,
  metricAfter: 0.398,
  modelId: publishedModelId,
  previousModelId: baseModelId,
  progressive: { window: 400, accuracy: 0.89, logLoss: 0.29, rmse: null }
}

const exampleRollback: UpdateRecord = {
  ...exampleUpdate,
  id: "upd-m0q4a2b1-7c1d3e",
  at: "2025-06-02T09:00:00.000Z",
  kind: "rollback",
  reason: "rolled back by request",
  trigger: "manual",
  samples: 0,
  metricBefore: null,
  metricAfter: null,
  modelId: baseModelId,
  previousModelId: publishedModelId,
  progressive: { window: 420, accuracy: 0.91, logLoss: 0.27, rmse: null }
}

const exampleStatus: PipelineStatus = {
  pipeline: examplePipeline,
  counters: { received: 520, duplicates: 12, dropped: 0, processed: 500, buffered: 8 },
  progressive: { window: 120, accuracy: 0.91, logLoss: 0.27, rmse: null },
  updates: [exampleUpdate]
}

/** What an operation on a pipeline's learner can fail with besides its input (the use cases' error union). */
const learnerErrors = [
  "PipelineNotFoundError",
  "ModelNotFoundError",
  "ArtifactStateError",
  "IntegrityError",
  "StorageError"
] as const

export const createPipeline = endpoint({
  operationId: "createPipeline",
  method: "POST",
  path: "/v1/pipelines",
  resource: "Pipelines",
  summary: "Create an online-learning pipeline for a registered learner model",
  description: "Strategies: incremental, mini-batch, periodic or adaptive. Settings not given are the server's " +
    "defaults (ML_ONLINE_*); batchSize and minSamples must not exceed maxBufferSize.",
  permission: "pipelines:write",
  body: { schema: CreatePipelineInput, description: "pipeline", example: exampleInput },
  success: {
    status: 201,
    description: "Created",
    schema: Pipeline,
    example: { ...examplePipeline, liveModelId: baseModelId, acceptedUpdates: 0, lastUpdateAt: null, revision: 1 },
    headers: [{ name: "location", description: "Path of the pipeline: /v1/pipelines/{id}", schema: Schema.String }]
  },
  errors: ["PipelineConflictError", ...learnerErrors]
})

export const listPipelines = endpoint({
  operationId: "listPipelines",
  method: "GET",
  path: "/v1/pipelines",
  resource: "Pipelines",
  summary: "List pipelines",
  permission: "pipelines:read",
  success: { status: 200, description: "Every pipeline", schema: PipelineList, example: { items: [examplePipeline] } },
  errors: ["StorageError"]
})

export const getPipelineStatus = endpoint({
  operationId: "getPipelineStatus",
  method: "GET",
  path: "/v1/pipelines/{id}",
  resource: "Pipelines",
  summary: "A pipeline's status: counters, progressive metrics and update records",
  permission: "pipelines:read",
  params: PipelineParams,
  success: { status: 200, description: "The pipeline's status", schema: PipelineStatus, example: exampleStatus },
  errors: learnerErrors
})

export const addSamples = endpoint({
  operationId: "addSamples",
  method: "POST",
  path: "/v1/pipelines/{id}/samples",
  resource: "Pipelines",
  summary: "Add labelled samples (at most 100000); may trigger an update",
  description: "Duplicates by sampleId are counted and ignored. Labels are 0 or 1 for a classifier (kind " +
    "logistic); weights default to 1. A batch with any bad value is refused whole, naming each field.",
  permission: "pipelines:ingest",
  params: PipelineParams,
  body: {
    schema: SamplesRequest,
    description: "samples",
    example: {
      samples: [
        { sampleId: "tx-1001", features: { amount: 12.5, hour: 3 }, label: 0 },
        { sampleId: "tx-1002", features: { amount: 930, hour: 4 }, label: 1, weight: 2 }
      ]
    }
  },
  success: {
    status: 202,
    description: "Accepted: new, duplicate and dropped samples, and the update they caused",
    schema: AddSamplesResult,
    example: { added: 2, duplicates: 0, dropped: 0, update: null }
  },
  errors: learnerErrors
})

export const listUpdates = endpoint({
  operationId: "listUpdates",
  method: "GET",
  path: "/v1/pipelines/{id}/updates",
  resource: "Pipelines",
  summary: "Update and rollback records, oldest first",
  permission: "pipelines:read",
  params: PipelineParams,
  success: {
    status: 200,
    description: "The pipeline's records",
    schema: UpdateRecordList,
    example: { items: [exampleUpdate, exampleRollback] }
  },
  errors: ["PipelineNotFoundError", "StorageError"]
})

export const triggerUpdate = endpoint({
  operationId: "triggerUpdate",
  method: "POST",
  path: "/v1/pipelines/{id}/update",
  resource: "Pipelines",
  summary: "Update now from the buffered samples (validated, published only if not worse)",
  permission: "pipelines:write",
  params: PipelineParams,
  success: {
    status: 200,
    description: "The update made, or null when nothing was buffered",
    schema: TriggerUpdateResult,
    example: { update: exampleUpdate }
  },
  errors: learnerErrors
})

export const rollbackPipeline = endpoint({
  operationId: "rollbackPipeline",
  method: "POST",
  path: "/v1/pipelines/{id}/rollback",
  resource: "Pipelines",
  summary: "Serve a previous version again (default: the live version's parent)",
  permission: "pipelines:write",
  params: PipelineParams,
  body: { schema: RollbackRequest, description: "rollback", example: { toModelId: baseModelId }, optional: true },
  success: { status: 200, description: "The rollback record", schema: UpdateRecord, example: exampleRollback },
  errors: learnerErrors
})

export const predict = endpoint({
  operationId: "predict",
  method: "POST",
  path: "/v1/pipelines/{id}/predict",
  resource: "Pipelines",
  summary: "Predict with the live learner: { features } -> { prediction }, { rows } -> { predictions }",
  description: "A prediction is the probability of label 1 for a classifier, the predicted value for a " +
    "regressor. At most 100000 rows; a feature value that is not a finite number is refused, naming it.",
  permission: "pipelines:predict",
  params: PipelineParams,
  body: { schema: PredictRequest, description: "prediction request", example: { rows: [{ amount: 12.5, hour: 3 }] } },
  success: {
    status: 200,
    description: "The predictions, in the order of the rows",
    schema: PredictResult,
    example: { predictions: [0.07] }
  },
  errors: learnerErrors
})

/** Every online-learning endpoint, in the order the docs list them. */
export const endpoints = [
  createPipeline,
  listPipelines,
  getPipelineStatus,
  addSamples,
  listUpdates,
  triggerUpdate,
  rollbackPipeline,
  predict
] as const
