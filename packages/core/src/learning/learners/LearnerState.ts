/**
 * What a learner is and how it is stored: its configuration (kind, optimizer, feature mapping,
 * standardization) and its serialized state (formatVersion 1), as schemas, with the one check
 * that every way of loading a state goes through. A stored state can hold 2^24-slot arrays, so
 * its schema decodes with that check (configuration and envelope, not element by element);
 * makeLearner copies the arrays into typed arrays, where a non-number becomes NaN.
 */
import { Schema } from "effect"
import { checkedSchema } from "../../shared/CheckedSchema.js"
import { invalid, StatsInputError } from "../../stats/StatsError.js"

export const LearnerKind = Schema.Literals(["logistic", "linear"])
export type LearnerKind = typeof LearnerKind.Type

export const Optimizer = Schema.Union([
  Schema.Struct({
    type: Schema.Literal("sgd"),
    learningRate: Schema.Finite,
    schedule: Schema.optionalKey(Schema.Literals(["constant", "invscaling"])),
    powerT: Schema.optionalKey(Schema.Finite)
  }),
  Schema.Struct({
    type: Schema.Literal("adagrad"),
    learningRate: Schema.Finite,
    epsilon: Schema.optionalKey(Schema.Finite)
  }),
  Schema.Struct({
    type: Schema.Literal("ftrl"),
    alpha: Schema.Finite,
    beta: Schema.Finite,
    l1: Schema.Finite,
    l2: Schema.Finite
  }),
  Schema.Struct({ type: Schema.Literal("pa"), variant: Schema.Literals(["PA-I", "PA-II"]), C: Schema.Finite })
])
export type Optimizer = typeof Optimizer.Type

export const FeatureMapSpec = Schema.Union([
  Schema.Struct({ type: Schema.Literal("schema"), names: Schema.Array(Schema.String) }),
  Schema.Struct({ type: Schema.Literal("hashing"), bits: Schema.Int })
])
export type FeatureMapSpec = typeof FeatureMapSpec.Type

export const LearnerConfig = Schema.Struct({
  kind: LearnerKind,
  optimizer: Optimizer,
  features: FeatureMapSpec,
  standardize: Schema.optionalKey(Schema.Boolean)
})
export type LearnerConfig = typeof LearnerConfig.Type

export const LEARNER_FORMAT_VERSION = 1

/**
 * How a format-2 artifact stores the learner's real numbers: float64 keeps them exact; float32
 * rounds the weights and step-size accumulators (each within 2^-24 of its value), for smaller
 * published artifacts. A live state (what the next update trains from) is always float64.
 */
export const LearnerPrecision = Schema.Literals(["float64", "float32"])
export type LearnerPrecision = typeof LearnerPrecision.Type

const Numbers = Schema.Array(Schema.Finite)

/** The serialized form, field by field (documentation and types; decoding is LearnerState's check). */
const LearnerStateFields = Schema.Struct({
  formatVersion: Schema.Literal(LEARNER_FORMAT_VERSION),
  config: LearnerConfig,
  weights: Numbers,
  bias: Schema.Finite,
  steps: Schema.Int,
  /** Optimizer state: AdaGrad sums of squared gradients, FTRL z and n (last entry: the bias). */
  accumulators: Schema.Record(Schema.String, Numbers),
  /** Standardization: per-slot count, mean and M2. */
  standardization: Schema.NullOr(Schema.Struct({ count: Numbers, mean: Numbers, m2: Numbers }))
})
/** The serialized form; loading any other formatVersion is an error. */
export type LearnerState = typeof LearnerStateFields.Type

/**
 * What makeLearner restores a learner from: a LearnerState (format 1, plain arrays), or a binary
 * state (format 2) decoded straight into typed arrays. Arrays shorter than the learner's are
 * zero beyond their end.
 */
export interface RestorableState {
  readonly weights: ArrayLike<number>
  readonly bias: number
  readonly steps: number
  readonly accumulators: Readonly<Record<string, ArrayLike<number>>>
  readonly standardization: {
    readonly count: ArrayLike<number>
    readonly mean: ArrayLike<number>
    readonly m2: ArrayLike<number>
  } | null
}

/** Weight slots of a configuration: the schema's names, or 2^bits hashed slots (the bias comes on top). */
export const slotCount = (config: LearnerConfig): number =>
  config.features.type === "schema" ? config.features.names.length : 2 ** config.features.bits

/** Throws a StatsInputError naming the field when the configuration cannot make a learner. */
export const checkConfig = (config: LearnerConfig): void => {
  if (config.kind !== "logistic" && config.kind !== "linear") {
    invalid("kind", `must be "logistic" or "linear", got ${String(config.kind)}`)
  }
  const o = config.optimizer
  const positive = (v: number | undefined, field: string) => {
    if (!(typeof v === "number" && Number.isFinite(v) && v > 0)) invalid(field, `must be a finite number > 0, got ${v}`)
  }
  if (o.type === "sgd" || o.type === "adagrad") positive(o.learningRate, "optimizer.learningRate")
  else if (o.type === "ftrl") {
    positive(o.alpha, "optimizer.alpha")
    positive(o.beta, "optimizer.beta")
    if (!(o.l1 >= 0)) invalid("optimizer.l1", `must be >= 0, got ${o.l1}`)
    if (!(o.l2 >= 0)) invalid("optimizer.l2", `must be >= 0, got ${o.l2}`)
  } else if (o.type === "pa") {
    if (config.kind !== "logistic") {
      invalid("optimizer.type", "Passive-Aggressive is for classification (kind logistic)")
    }
    positive(o.C, "optimizer.C")
  } else invalid("optimizer.type", `must be sgd, adagrad, ftrl or pa, got ${String((o as { type: unknown }).type)}`)
  const f = config.features
  if (f.type === "hashing") {
    if (!(Number.isInteger(f.bits) && f.bits >= 1 && f.bits <= 24)) {
      invalid("features.bits", `must be an integer from 1 to 24, got ${f.bits}`)
    }
  } else if (f.type === "schema") {
    if (f.names.length === 0) invalid("features.names", "must not be empty")
  } else invalid("features.type", `must be "schema" or "hashing"`)
}

/**
 * The envelope of a serialized state: an object of this format with a config and weights; throws
 * a StatsInputError naming the field otherwise. The configuration is checked by makeLearner.
 */
export const checkStateEnvelope = (state: unknown): LearnerState => {
  const s = state as Partial<LearnerState> | null
  if (typeof s !== "object" || s === null) return invalid("state", "must be a serialized learner object")
  if (s.formatVersion !== LEARNER_FORMAT_VERSION) {
    return invalid(
      "state.formatVersion",
      `unsupported learner format ${
        JSON.stringify(s.formatVersion)
      }; this version reads format ${LEARNER_FORMAT_VERSION}`
    )
  }
  if (!s.config || !Array.isArray(s.weights)) return invalid("state", "is missing config or weights")
  return s as LearnerState
}

/** The message of the first problem that would stop `loadLearner`, or undefined. */
const problemOfState = (input: unknown): string | undefined => {
  try {
    checkConfig(checkStateEnvelope(input).config)
    return undefined
  } catch (error) {
    // A config missing its optimizer or features fails on a property read, not a named check.
    return error instanceof StatsInputError ? error.message : `config: is not a learner configuration`
  }
}

/** A stored learner state: decoded by the checks loadLearner makes, at the cost they have. */
export const LearnerState = checkedSchema(LearnerStateFields, problemOfState, {
  title: "LearnerState",
  description: "A serialized online learner (formatVersion 1): configuration, weights and optimizer state"
})

/**
 * The state with its optimizer's step size (learning rate, FTRL alpha, PA C) set to `base` (null:
 * the state's own) times `scale`: how a pipeline applies its configured rate and adaptive scale.
 */
export const withStepScale = (state: LearnerState, base: number | null, scale: number): LearnerState => {
  const o = state.config.optimizer
  const optimizer = o.type === "sgd" || o.type === "adagrad"
    ? { ...o, learningRate: (base ?? o.learningRate) * scale }
    : o.type === "ftrl"
    ? { ...o, alpha: (base ?? o.alpha) * scale }
    : { ...o, C: (base ?? o.C) * scale }
  return { ...state, config: { ...state.config, optimizer } }
}
