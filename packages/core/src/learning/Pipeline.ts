/**
 * Domain of online-learning pipelines: a pipeline keeps one registry model current from
 * production feedback, with one of four update strategies.
 */
import { Schema } from "effect"

export const PipelineStrategy = Schema.Literals(["incremental", "mini-batch", "periodic", "adaptive"])
export type PipelineStrategy = typeof PipelineStrategy.Type

export const ValidationMetric = Schema.Literals(["accuracy", "log_loss", "rmse"])
export type ValidationMetric = typeof ValidationMetric.Type

const Positive = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1, { message: "must be an integer >= 1" }))

export const CreatePipelineInput = Schema.Struct({
  id: Schema.optionalKey(
    Schema.String.check(
      Schema.isPattern(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/u, {
        message: "must be 1-128 letters, digits, '.', '_' or '-'"
      })
    )
  ),
  name: Schema.String.check(Schema.isMinLength(1, { message: "must not be empty" }), Schema.isMaxLength(128)),
  modelId: Schema.String,
  strategy: Schema.optionalKey(PipelineStrategy),
  updateFrequencySeconds: Schema.optionalKey(Positive),
  batchSize: Schema.optionalKey(Positive),
  minSamples: Schema.optionalKey(Positive),
  maxBufferSize: Schema.optionalKey(Positive),
  learningRate: Schema.optionalKey(Schema.Finite.check(Schema.isGreaterThan(0, { message: "must be > 0" }))),
  holdoutShare: Schema.optionalKey(
    Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 0.9 }, { message: "must be between 0 and 0.9" }))
  ),
  validationMetric: Schema.optionalKey(ValidationMetric),
  degradationTolerance: Schema.optionalKey(
    Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0, { message: "must be >= 0" }))
  ),
  monitorId: Schema.optionalKey(Schema.NullOr(Schema.String))
})
export type CreatePipelineInput = typeof CreatePipelineInput.Type

export interface Pipeline {
  readonly id: string
  readonly name: string
  readonly baseModelId: string
  readonly liveModelId: string
  readonly kind: "logistic" | "linear"
  readonly strategy: PipelineStrategy
  readonly updateFrequencySeconds: number
  readonly batchSize: number
  readonly minSamples: number
  readonly maxBufferSize: number
  readonly learningRate: number | null
  readonly holdoutShare: number
  readonly validationMetric: ValidationMetric
  readonly degradationTolerance: number
  readonly monitorId: string | null
  /** Adaptive strategy: the batch size and learning-rate scale it currently uses. */
  readonly adaptive: {
    readonly batchSize: number
    readonly learningRateScale: number
    readonly referenceMetric: number | null
  }
  readonly driftSignal: boolean
  readonly acceptedUpdates: number
  readonly rejectedUpdates: number
  readonly lastUpdateAt: string | null
  readonly lastError: string | null
  readonly retryCount: number
  readonly nextRetryAt: string | null
  readonly createdAt: string
  readonly updatedAt: string
  readonly revision: number
}
