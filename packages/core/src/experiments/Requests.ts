/**
 * Request bodies of the A/B test endpoints besides creation (CreateExperimentInput lives with the
 * record it makes): traffic and description changes, completion, assignment of one or many
 * users, exposures counted elsewhere, and metric observations. Each is the shape the server
 * decodes, with its limits and messages; what needs the stored experiment (is the model a
 * variant, is the metric name valid) is checked by the use case, once.
 */
import { Schema } from "effect"
import { MAX_DESCRIPTION_LENGTH, ModelId } from "../registry/Model.js"
import { BoundedNumber } from "../shared/InputLimits.js"
import { OnBehalfOf, SafeLabel, SafeText } from "../shared/SafeText.js"
import { MAX_VARIANTS } from "./Experiment.js"

export const UpdateExperimentInput = Schema.Struct({
  /** New share per variant, in variant order. */
  trafficPct: Schema.optionalKey(
    Schema.Array(Schema.Finite).check(
      Schema.isMaxLength(MAX_VARIANTS, { message: `must hold at most ${MAX_VARIANTS} entries, one per variant` })
    )
  ),
  description: Schema.optionalKey(SafeText(MAX_DESCRIPTION_LENGTH)),
  /** Deprecated alias of onBehalfOf: the traffic history records the authenticated principal as the actor. */
  actor: Schema.optionalKey(OnBehalfOf),
  onBehalfOf: Schema.optionalKey(OnBehalfOf)
})
export type UpdateExperimentInput = typeof UpdateExperimentInput.Type

export const CompleteExperimentInput = Schema.Struct({
  /** Promote the winner (if any) step by step to production. */
  promoteWinner: Schema.optionalKey(Schema.Boolean),
  /** Deprecated alias of onBehalfOf: promotions record the authenticated principal as the actor. */
  actor: Schema.optionalKey(OnBehalfOf),
  onBehalfOf: Schema.optionalKey(OnBehalfOf)
})
export type CompleteExperimentInput = typeof CompleteExperimentInput.Type

/** The user a model is assigned to, as the caller names them. */
export const AssignmentUserId = SafeLabel(256, { minLength: 1 })

/** One user, or up to 10,000 at once. */
export const AssignmentRequest = Schema.Union([
  Schema.Struct({ userId: AssignmentUserId }),
  Schema.Struct({
    userIds: Schema.Array(AssignmentUserId).check(
      Schema.isMaxLength(10_000, { message: "must hold at most 10000 users" })
    )
  })
])
export type AssignmentRequest = typeof AssignmentRequest.Type

/** The most exposures one entry may report: far beyond any real batch, far below where counts lose precision. */
export const MAX_EXPOSURES_PER_ENTRY = 1_000_000_000
/** The most entries one exposures request may hold. */
export const MAX_EXPOSURE_ENTRIES = 10_000

export const ExposureCount = Schema.Struct({
  modelId: ModelId,
  count: Schema.Int.check(
    Schema.isBetween({ minimum: 0, maximum: MAX_EXPOSURES_PER_ENTRY }, {
      message: `must be an integer from 0 to ${MAX_EXPOSURES_PER_ENTRY}`
    })
  )
})
export type ExposureCount = typeof ExposureCount.Type

/** Exposures counted elsewhere (the SDK's local evaluation), per model. */
export const RecordExposuresInput = Schema.Struct({
  exposures: Schema.Array(ExposureCount).check(
    Schema.isMaxLength(MAX_EXPOSURE_ENTRIES, { message: `must hold at most ${MAX_EXPOSURE_ENTRIES} entries` })
  )
})
export type RecordExposuresInput = typeof RecordExposuresInput.Type

/**
 * One value of one metric for the model that served it. The value is bounded (|x| <= 1e120, see
 * InputLimits) so summaries stay finite; the metric name is checked by the use case, which names
 * the observation's index.
 */
export const MetricObservation = Schema.Struct({ modelId: ModelId, metric: Schema.String, value: BoundedNumber })
export type MetricObservation = typeof MetricObservation.Type

/** One observation, or up to 100,000 at once. */
export const RecordMetricsInput = Schema.Union([
  MetricObservation,
  Schema.Struct({
    observations: Schema.Array(MetricObservation).check(
      Schema.isMaxLength(100_000, { message: "must hold at most 100000 observations" })
    )
  })
])
export type RecordMetricsInput = typeof RecordMetricsInput.Type
