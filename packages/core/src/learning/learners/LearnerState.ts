/**
 * What a learner is and how it is stored: its configuration (kind, optimizer, feature mapping,
 * standardization) and its serialized state (formatVersion 1), as schemas, decoded with the one
 * check that every way of loading a state goes through (LearnerChecks.ts, free of Effect for the
 * learners' edge entry). A stored state can hold 2^24-slot arrays, so
 * its schema decodes with that check (configuration and envelope, not element by element);
 * makeLearner copies the arrays into typed arrays, where a non-number becomes NaN.
 */
import { Schema } from "effect"
import { checkedSchema } from "../../shared/CheckedSchema.js"
import { StatsInputError } from "../../stats/StatsError.js"
import { checkConfig, checkStateEnvelope, LEARNER_FORMAT_VERSION } from "./LearnerChecks.js"

export {
  checkConfig,
  checkStateEnvelope,
  LEARNER_FORMAT_VERSION,
  type RestorableState,
  slotCount,
  withStepScale
} from "./LearnerChecks.js"

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
