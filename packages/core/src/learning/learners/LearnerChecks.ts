/**
 * The checks every way of loading a learner goes through, and the plain operations on a state,
 * without Effect: the learners (`@org/ml-core/learn`) run in edge bundles that hold no Effect
 * code. The schemas of the same shapes (for the API and stores) are in LearnerState.ts; only
 * their types are used here.
 */
import { invalid } from "../../stats/StatsError.js"
import type { LearnerConfig, LearnerState } from "./LearnerState.js"

export const LEARNER_FORMAT_VERSION = 1

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
