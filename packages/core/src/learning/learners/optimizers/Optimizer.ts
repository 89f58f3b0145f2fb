/**
 * What every optimizer of the online learners provides (one optimizer per file, as River's
 * optim/ does): it owns its weights and optimizer state, computes the margin w·x + b of a
 * sample's active entries and takes one step on them. Learner.ts does everything else (feature
 * mapping, checks, standardization, serialization). A call through this interface happens once
 * per sample; the loops over features stay inside each optimizer.
 */
import type { RestorableState } from "../LearnerState.js"

export interface OptimizerStep {
  /** w·x + b over the k active entries: `values[j]` belongs to slot `slots[j]`. */
  readonly margin: (slots: Int32Array, values: Float64Array, k: number) => number
  /**
   * One step on the k active entries: `m` is their margin, `y` the target, `w` the sample's
   * weight and `step` the learner's step count, this step included.
   */
  readonly update: (
    slots: Int32Array,
    values: Float64Array,
    k: number,
    m: number,
    y: number,
    w: number,
    step: number
  ) => void
  /** The weights and bias to serialize (FTRL derives them from its z and n). */
  readonly weights: () => Array<number>
  readonly bias: () => number
  /** Optimizer state to serialize (AdaGrad g2, FTRL z and n; last entry: the bias). */
  readonly accumulators: () => Record<string, Array<number>>
}

export interface OptimizerSetup {
  /** Weight slots (the bias comes on top). */
  readonly size: number
  /** The model's output for a margin: the probability of label 1, or the margin itself. */
  readonly output: (margin: number) => number
  /** A serialized state to continue from. */
  readonly state?: RestorableState | undefined
}

/** The weights and bias of a linear model, restored from `state` when given. */
export const linearWeights = ({ size, state }: OptimizerSetup) => {
  const weights = new Float64Array(size)
  // The bias lives in a typed array: a double in a closure variable would be boxed on every write.
  const bias = new Float64Array(1)
  if (state) {
    weights.set(state.weights)
    bias[0] = state.bias
  }
  return { weights, bias }
}

/** w·x + b for optimizers that keep their weights. */
export const linearMargin = (
  weights: Float64Array,
  bias: Float64Array,
  slots: Int32Array,
  values: Float64Array,
  k: number
): number => {
  let s = 0
  for (let j = 0; j < k; j++) s += weights[slots[j]!]! * values[j]!
  return s + bias[0]!
}

/**
 * A plain array copy of `values` (what a serialized state holds). Hashed learners are mostly
 * zeros: starting from an array of zeros and writing only the rest takes a fraction of
 * Array.from's time on 2^20 slots. -0 is written too, so the copy is exact.
 */
export const plainArray = (values: Float64Array): Array<number> => {
  const out = new Array<number>(values.length).fill(0)
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!
    if (v !== 0 || 1 / v < 0) out[i] = v
  }
  return out
}
