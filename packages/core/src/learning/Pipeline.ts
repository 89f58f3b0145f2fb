/**
 * Domain of online-learning pipelines: a pipeline keeps one registry model current from
 * production feedback, with one of four update strategies (see Strategy.ts). Every record that
 * crosses a boundary is a schema here: the pipeline as stored and served, the input that creates
 * one, update and rollback records, counters and the status view, and the bodies of the update
 * and rollback operations. `newPipeline` is the one place a pipeline record is made.
 */
import { Result, Schema } from "effect"
import { MonitorId } from "../drift/Monitor.js"
import { MetricEstimate } from "../drift/performance/Cbpe.js"
import { Instant, ModelId } from "../registry/Model.js"
import { Signature } from "../registry/Signature.js"
import type { FieldIssue } from "../shared/Errors.js"
import { SafeLabel } from "../shared/SafeText.js"
import { LearnerKind, LearnerPrecision } from "./learners/LearnerState.js"

export const PipelineStrategy = Schema.Literals(["incremental", "mini-batch", "periodic", "adaptive"])
export type PipelineStrategy = typeof PipelineStrategy.Type

export const ValidationMetric = Schema.Literals(["accuracy", "log_loss", "rmse"])
export type ValidationMetric = typeof ValidationMetric.Type

/** What started an update: a batch of samples, a client, the scheduler's clock, or a retry. */
export const UpdateTrigger = Schema.Literals(["samples", "manual", "schedule", "retry"])
export type UpdateTrigger = typeof UpdateTrigger.Type

export const PipelineId = Schema.String.check(
  Schema.isPattern(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/u, {
    message: "must be 1-128 letters, digits, '.', '_' or '-'"
  })
)
/** The path parameters of /v1/pipelines/{id}/... */
export const PipelineParams = Schema.Struct({ id: PipelineId })
export type PipelineParams = typeof PipelineParams.Type

const PipelineName = Schema.String.check(
  Schema.isMinLength(1, { message: "must not be empty" }),
  Schema.isMaxLength(128)
)
/** A pipeline name in a request: that bound, without control or bidi characters (stored names stay lenient). */
const InputPipelineName = SafeLabel(128, { minLength: 1 })
const Positive = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1, { message: "must be an integer >= 1" }))
const Count = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const HoldoutShare = Schema.Finite.check(
  Schema.isBetween({ minimum: 0, maximum: 0.9 }, { message: "must be between 0 and 0.9" })
)
const Tolerance = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0, { message: "must be >= 0" }))

/**
 * How accepted updates publish their artifact: `precision` float64 (exact) or float32 (weights
 * rounded, each within 2^-24 of itself; see LearnerStateBinary.ts). The live state the next update
 * trains from is float64 either way.
 */
export const PublishSettings = Schema.Struct({ precision: LearnerPrecision })
export type PublishSettings = typeof PublishSettings.Type

export const CreatePipelineInput = Schema.Struct({
  id: Schema.optionalKey(PipelineId),
  name: InputPipelineName,
  modelId: ModelId,
  strategy: Schema.optionalKey(PipelineStrategy),
  updateFrequencySeconds: Schema.optionalKey(Positive),
  batchSize: Schema.optionalKey(Positive),
  minSamples: Schema.optionalKey(Positive),
  maxBufferSize: Schema.optionalKey(Positive),
  learningRate: Schema.optionalKey(Schema.Finite.check(Schema.isGreaterThan(0, { message: "must be > 0" }))),
  holdoutShare: Schema.optionalKey(HoldoutShare),
  validationMetric: Schema.optionalKey(ValidationMetric),
  degradationTolerance: Schema.optionalKey(Tolerance),
  monitorId: Schema.optionalKey(Schema.NullOr(MonitorId)),
  /** Default: { precision: "float64" }. */
  publish: Schema.optionalKey(Schema.Struct({ precision: Schema.optionalKey(LearnerPrecision) }))
})
export type CreatePipelineInput = typeof CreatePipelineInput.Type

/** Adaptive strategy: the batch size and learning-rate scale it currently uses. */
export const AdaptiveState = Schema.Struct({
  /** Halved after a degradation or drift, grown while stable (0 when maxBufferSize is 1). */
  batchSize: Count,
  learningRateScale: Schema.Finite,
  /** The metric at the last update (reported; degradation is found by ADWIN, see Strategy.ts). */
  referenceMetric: Schema.NullOr(Schema.Finite)
})
export type AdaptiveState = typeof AdaptiveState.Type

export const Pipeline = Schema.Struct({
  id: PipelineId,
  name: PipelineName,
  baseModelId: ModelId,
  liveModelId: ModelId,
  kind: LearnerKind,
  strategy: PipelineStrategy,
  updateFrequencySeconds: Positive,
  batchSize: Positive,
  minSamples: Positive,
  maxBufferSize: Positive,
  /** The configured step size; null keeps the base model's. */
  learningRate: Schema.NullOr(Schema.Finite),
  holdoutShare: HoldoutShare,
  validationMetric: ValidationMetric,
  degradationTolerance: Tolerance,
  monitorId: Schema.NullOr(Schema.String),
  /** Absent from records of earlier releases, which published float64. */
  publish: Schema.optionalKey(PublishSettings),
  adaptive: AdaptiveState,
  /** A drift alert for monitorId arrived since the last update. */
  driftSignal: Schema.Boolean,
  acceptedUpdates: Count,
  rejectedUpdates: Count,
  lastUpdateAt: Schema.NullOr(Instant),
  lastError: Schema.NullOr(Schema.String),
  retryCount: Count,
  nextRetryAt: Schema.NullOr(Instant),
  createdAt: Instant,
  updatedAt: Instant,
  /** Optimistic-concurrency counter: every stored change increments it. */
  revision: Positive,
  /**
   * The base model's signature when the pipeline was created: its inputs are the pipeline's
   * features, and samples that contradict it are refused (Samples.signatureSampleIssues).
   */
  signature: Schema.optionalKey(Signature)
})
export type Pipeline = typeof Pipeline.Type

/** Progressive validation: the live model's metrics on labels it had not seen (the last 1000). */
export const ProgressiveMetrics = Schema.Struct({
  window: Count,
  accuracy: Schema.NullOr(Schema.Finite),
  logLoss: Schema.NullOr(Schema.Finite),
  rmse: Schema.NullOr(Schema.Finite)
})
export type ProgressiveMetrics = typeof ProgressiveMetrics.Type

export const UpdateRecord = Schema.Struct({
  id: Schema.String,
  pipelineId: PipelineId,
  at: Instant,
  kind: Schema.Literals(["update", "rollback"]),
  accepted: Schema.Boolean,
  reason: Schema.String,
  /** What started it (an UpdateTrigger); a plain string, so that records naming other triggers still read. */
  trigger: Schema.String,
  /** Samples trained on (the buffer minus its holdout share). */
  samples: Count,
  /** The validation metric of the live model and of the candidate on the holdout set. */
  metricBefore: Schema.NullOr(Schema.Finite),
  metricAfter: Schema.NullOr(Schema.Finite),
  /** The version published (update) or served again (rollback); null when rejected. */
  modelId: Schema.NullOr(ModelId),
  previousModelId: Schema.NullOr(ModelId),
  /**
   * The progressive metrics when the record was made (those of the model served until then), so
   * the records are their history over time; records made by earlier releases have none.
   */
  progressive: Schema.optionalKey(ProgressiveMetrics)
})
export type UpdateRecord = typeof UpdateRecord.Type

/** GET /v1/pipelines. */
export const PipelineList = Schema.Struct({ items: Schema.Array(Pipeline) })
export type PipelineList = typeof PipelineList.Type

/** GET /v1/pipelines/{id}/updates: update and rollback records, oldest first. */
export const UpdateRecordList = Schema.Struct({ items: Schema.Array(UpdateRecord) })
export type UpdateRecordList = typeof UpdateRecordList.Type

export const PipelineCounters = Schema.Struct({
  received: Count,
  duplicates: Count,
  dropped: Count,
  processed: Count
})
export type PipelineCounters = typeof PipelineCounters.Type

/** GET /v1/pipelines/{id}. */
export const PipelineStatus = Schema.Struct({
  pipeline: Pipeline,
  counters: Schema.Struct({ ...PipelineCounters.fields, buffered: Count }),
  progressive: ProgressiveMetrics,
  /**
   * A classifier's CBPE estimates over the progressive window (its predictions read as calibrated
   * probabilities, threshold 0.5) with 3-standard-error bands, beside the realized values from the
   * labels; absent for a regressor or an empty window.
   */
  performanceEstimate: Schema.optionalKey(Schema.Array(MetricEstimate)),
  updates: Schema.Array(UpdateRecord)
})
export type PipelineStatus = typeof PipelineStatus.Type

/** What ingesting a batch did: new, duplicate and dropped samples, and the update it caused. */
export const AddSamplesResult = Schema.Struct({
  added: Count,
  duplicates: Count,
  dropped: Count,
  update: Schema.NullOr(UpdateRecord)
})
export type AddSamplesResult = typeof AddSamplesResult.Type

/** POST /v1/pipelines/{id}/update: the update made, or null when nothing was buffered. */
export const TriggerUpdateResult = Schema.Struct({ update: Schema.NullOr(UpdateRecord) })
export type TriggerUpdateResult = typeof TriggerUpdateResult.Type

/** POST /v1/pipelines/{id}/rollback; without toModelId, back to the live version's parent. */
export const RollbackRequest = Schema.Struct({ toModelId: Schema.optionalKey(ModelId) })
export type RollbackRequest = typeof RollbackRequest.Type

/** What a pipeline gets for settings its input leaves out (the server's ML_ONLINE_* settings). */
export interface PipelineDefaults {
  readonly strategy: PipelineStrategy
  readonly batchSize: number
  readonly maxBufferSize: number
}

/**
 * The pipeline that `input` creates for a base model of `kind` at `at` (named `generatedId`
 * unless the input names it), or the issues that refuse it: settings that cannot hold together.
 */
export const newPipeline = (
  input: CreatePipelineInput,
  defaults: PipelineDefaults,
  kind: LearnerKind,
  at: string,
  generatedId: string
): Result.Result<Pipeline, Array<FieldIssue>> => {
  const batchSize = input.batchSize ?? defaults.batchSize
  const maxBufferSize = input.maxBufferSize ?? defaults.maxBufferSize
  const minSamples = input.minSamples ?? Math.min(batchSize, 10)
  const issues: Array<FieldIssue> = []
  if (batchSize > maxBufferSize) {
    issues.push({ path: ["batchSize"], message: `must not exceed maxBufferSize (${maxBufferSize})` })
  }
  if (minSamples > maxBufferSize) {
    issues.push({ path: ["minSamples"], message: `must not exceed maxBufferSize (${maxBufferSize})` })
  }
  if (issues.length > 0) return Result.fail(issues)
  return Result.succeed({
    id: input.id ?? generatedId,
    name: input.name,
    baseModelId: input.modelId,
    liveModelId: input.modelId,
    kind,
    strategy: input.strategy ?? defaults.strategy,
    updateFrequencySeconds: input.updateFrequencySeconds ?? 3600,
    batchSize,
    minSamples,
    maxBufferSize,
    learningRate: input.learningRate ?? null,
    holdoutShare: input.holdoutShare ?? 0.2,
    validationMetric: input.validationMetric ?? (kind === "logistic" ? "log_loss" : "rmse"),
    degradationTolerance: input.degradationTolerance ?? 0.01,
    monitorId: input.monitorId ?? null,
    publish: { precision: input.publish?.precision ?? "float64" },
    adaptive: { batchSize, learningRateScale: 1, referenceMetric: null },
    driftSignal: false,
    acceptedUpdates: 0,
    rejectedUpdates: 0,
    lastUpdateAt: null,
    lastError: null,
    retryCount: 0,
    nextRetryAt: null,
    createdAt: at,
    updatedAt: at,
    revision: 1
  })
}
