/**
 * Request bodies of the A/B test endpoints besides creation (CreateExperimentInput lives with the
 * record it makes): traffic, description, condition and metric cap changes, completion, assignment of one or many
 * users, exposures counted elsewhere, and metric observations. Each is the shape the server
 * decodes, with its limits and messages; what needs the stored experiment (is the model a
 * variant, is the metric name valid) is checked by the use case, once.
 */
import { Schema } from "effect"
import { MAX_DESCRIPTION_LENGTH, ModelId } from "../registry/Model.js"
import { checkedSchema } from "../shared/CheckedSchema.js"
import { BoundedNumber, isBoundedNumber } from "../shared/InputLimits.js"
import { isPlainObject, plainKeyCount } from "../shared/PlainJson.js"
import { hasUnsafeCharacter, OnBehalfOf, SafeLabel, SafeText } from "../shared/SafeText.js"
import { ulidPattern } from "../shared/Ulid.js"
import { ExperimentId, MAX_VARIANTS, MetricCaps, TargetingCondition } from "./Experiment.js"

export const UpdateExperimentInput = Schema.Struct({
  /** New share per variant, in variant order. */
  trafficPct: Schema.optionalKey(
    Schema.Array(Schema.Finite).check(
      Schema.isMaxLength(MAX_VARIANTS, { message: `must hold at most ${MAX_VARIANTS} entries, one per variant` })
    )
  ),
  description: Schema.optionalKey(SafeText(MAX_DESCRIPTION_LENGTH)),
  /**
   * A new targeting condition (null removes it): new assignments follow it; users with a sticky
   * assignment keep it (keepsStickyVariant). Recorded in settingChanges.
   */
  condition: Schema.optionalKey(Schema.NullOr(TargetingCondition)),
  /**
   * New metric caps, replacing all of them (null removes them): applied to values recorded from
   * then on (values are capped when they are summarized). Recorded in settingChanges.
   */
  metricCaps: Schema.optionalKey(Schema.NullOr(MetricCaps)),
  /** The feature the GrowthBook payload names after it (unique among unfinished experiments). */
  featureKey: Schema.optionalKey(ExperimentId),
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

/** The most top-level attributes one user may carry. */
export const MAX_ATTRIBUTES = 64
/** The most values (keys and array items, at every level) one user's attributes may hold. */
export const MAX_ATTRIBUTE_VALUES = 512
/** How deeply one user's attributes may nest objects and arrays. */
export const MAX_ATTRIBUTE_DEPTH = 8
/** The longest string an attribute may hold (conditions' regexes run over it). */
export const MAX_ATTRIBUTE_STRING_LENGTH = 1024
/** The most users of one batch. */
export const MAX_ASSIGNMENT_BATCH = 10_000

/** The problem with one user's attributes (a message naming the place and the limit), or undefined. */
export const attributesProblem = (input: unknown): string | undefined => {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return "must be an object"
  if (Object.hasOwn(input, "id")) return "id: is the userId; leave it out (conditions read the userId as \"id\")"
  const keys = Object.keys(input)
  if (keys.length > MAX_ATTRIBUTES) return `must hold at most ${MAX_ATTRIBUTES} attributes, got ${keys.length}`
  let values = 0
  const walk = (value: unknown, path: string, depth: number): string | undefined => {
    if (typeof value === "string") {
      return value.length > MAX_ATTRIBUTE_STRING_LENGTH
        ? `${path}: must be at most ${MAX_ATTRIBUTE_STRING_LENGTH} characters`
        : undefined
    }
    if (typeof value !== "object" || value === null) return undefined
    if (depth > MAX_ATTRIBUTE_DEPTH) return `${path}: nests deeper than ${MAX_ATTRIBUTE_DEPTH} levels`
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value)
    values += entries.length
    if (values > MAX_ATTRIBUTE_VALUES) return `must hold at most ${MAX_ATTRIBUTE_VALUES} values in all`
    for (const [key, item] of entries) {
      const problem = walk(item, path === "" ? key : `${path}.${key}`, depth + 1)
      if (problem !== undefined) return problem
    }
    return undefined
  }
  return walk(input, "", 1)
}

/**
 * One user's attributes, read by targeting conditions and the hash attribute: any JSON object
 * within the limits above. "id" is the userId, so it may not be sent.
 */
export const Attributes = checkedSchema(Schema.Record(Schema.String, Schema.Unknown), attributesProblem, {
  title: "Attributes",
  description: `A user's attributes: at most ${MAX_ATTRIBUTES} keys, ${MAX_ATTRIBUTE_VALUES} values in all, ` +
    `${MAX_ATTRIBUTE_DEPTH} levels, strings of at most ${MAX_ATTRIBUTE_STRING_LENGTH} characters; no "id"`
})
export type Attributes = typeof Attributes.Type

/** One user (with their attributes), or up to 10,000 at once (with attributes by user id). */
export const AssignmentRequest = Schema.Union([
  Schema.Struct({ userId: AssignmentUserId, attributes: Schema.optionalKey(Attributes) }),
  Schema.Struct({
    userIds: Schema.Array(AssignmentUserId).check(
      Schema.isMaxLength(MAX_ASSIGNMENT_BATCH, { message: `must hold at most ${MAX_ASSIGNMENT_BATCH} users` })
    ),
    /** Attributes of the users that have some, by user id. */
    attributesByUser: Schema.optionalKey(
      Schema.Record(Schema.String, Attributes).check(
        Schema.isMaxProperties(MAX_ASSIGNMENT_BATCH, {
          message: `must hold at most ${MAX_ASSIGNMENT_BATCH} users`
        })
      )
    )
  })
])
export type AssignmentRequest = typeof AssignmentRequest.Type

/** The longest user id (AssignmentUserId). */
const MAX_USER_ID_LENGTH = 256

/**
 * Whether a parsed body is `{ userId }` alone as AssignmentRequest accepts it unchanged: the one
 * key, a string of 1 to 256 characters without control or bidi characters. Allocates nothing;
 * any other body (attributes, a batch) goes through the schema (BodySpec.acceptsAsIs;
 * test/hot-bodies.test.ts compares it with the schema).
 */
export const isAssignmentBodyAsIs = (body: unknown): boolean => {
  if (!isPlainObject(body) || plainKeyCount(body) !== 1) return false
  const userId: unknown = (body as { readonly userId?: unknown }).userId
  return typeof userId === "string" && userId.length >= 1 && userId.length <= MAX_USER_ID_LENGTH &&
    !hasUnsafeCharacter(userId)
}

/** The most exposures one entry may report: far beyond any real batch, far below where counts lose precision. */
export const MAX_EXPOSURES_PER_ENTRY = 1_000_000_000
/** The most entries one exposures request may hold. */
export const MAX_EXPOSURE_ENTRIES = 10_000

/**
 * Dimensions of an exposure or observation ({ country: "de" }) for breakdowns; the limits (count,
 * name, value length) are checked by the use case (Dimensions.ts), which names the entry's index.
 */
const RecordDimensions = Schema.optionalKey(Schema.Record(Schema.String, Schema.String))

export const ExposureCount = Schema.Struct({
  modelId: ModelId,
  count: Schema.Int.check(
    Schema.isBetween({ minimum: 0, maximum: MAX_EXPOSURES_PER_ENTRY }, {
      message: `must be an integer from 0 to ${MAX_EXPOSURES_PER_ENTRY}`
    })
  ),
  dimensions: RecordDimensions
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
 * the observation's index. `covariate` is the user's pre-experiment value of the metric (CUPED);
 * `denominator` makes the value the numerator of a ratio metric (at least 0; not with a covariate).
 */
export const MetricObservation = Schema.Struct({
  modelId: ModelId,
  metric: Schema.String,
  value: BoundedNumber,
  covariate: Schema.optionalKey(BoundedNumber),
  denominator: Schema.optionalKey(BoundedNumber),
  dimensions: RecordDimensions
})
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

/**
 * Whether a parsed body is one observation RecordMetricsInput accepts unchanged: modelId (a ULID),
 * metric (a string) and value, with covariate and denominator when present, each a bounded
 * number, and no other key (dimensions and batches go through the schema). Allocates nothing
 * (BodySpec.acceptsAsIs; test/hot-bodies.test.ts compares it with the schema).
 */
export const isMetricBodyAsIs = (body: unknown): boolean => {
  if (!isPlainObject(body)) return false
  let required = 0
  for (const key in body) {
    if (!Object.hasOwn(body, key)) return false
    const value: unknown = (body as Record<string, unknown>)[key]
    if (key === "modelId") {
      if (typeof value !== "string" || !ulidPattern.test(value)) return false
      required++
    } else if (key === "metric") {
      if (typeof value !== "string") return false
      required++
    } else if (key === "value") {
      if (!isBoundedNumber(value)) return false
      required++
    } else if (key === "covariate" || key === "denominator") {
      if (!isBoundedNumber(value)) return false
    } else return false
  }
  return required === 3
}
