/**
 * Online learners over typed arrays: logistic regression (labels 0/1) and linear regression
 * (squared loss), trained one sample at a time by one of the optimizers in optimizers/ (SGD,
 * AdaGrad, FTRL-Proximal, Passive-Aggressive; one per file). Features arrive as { name: number }
 * and map to slots through a fixed schema or the hashing trick (FNV-1a, 2^bits slots); optional
 * online standardization. State serializes to a versioned plain object (LearnerState.ts, format 1)
 * or to sparse binary bytes (LearnerStateBinary.ts, format 2); loadLearner reads both.
 */
import { fnv1a32 } from "../../experiments/Assignment.js"
import { describeValue } from "../../shared/DescribeValue.js"
import { invalid } from "../../stats/StatsError.js"
import {
  checkConfig,
  checkStateEnvelope,
  LEARNER_FORMAT_VERSION,
  type RestorableState,
  slotCount
} from "./LearnerChecks.js"
import type { LearnerConfig, LearnerState, Optimizer } from "./LearnerState.js"
import { decodeLearnerState, isBinaryLearnerState } from "./LearnerStateBinary.js"
import { makeAdaGrad } from "./optimizers/AdaGrad.js"
import { makeFtrl } from "./optimizers/Ftrl.js"
import { type OptimizerSetup, type OptimizerStep, plainArray } from "./optimizers/Optimizer.js"
import { makePassiveAggressive } from "./optimizers/PassiveAggressive.js"
import { makeSgd } from "./optimizers/Sgd.js"

export interface Sample {
  readonly features: Readonly<Record<string, number>>
  readonly label: number
  readonly weight?: number
}

const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)))

/**
 * A sample already mapped to slots: `values[j]` belongs to slot `slots[j]` (repeated slots add
 * up). A schema learner also takes `values` alone: a dense row in the schema's order.
 */
export interface FeatureVector {
  readonly values: Float64Array
  readonly slots?: Int32Array
}

export interface Learner {
  readonly learn: (sample: Sample) => void
  /** Probability of label 1 (logistic) or the predicted value (linear). */
  readonly predict: (features: Readonly<Record<string, number>>) => number
  /** learn and predict for callers that vectorize once and train many times (no name lookups). */
  readonly learnVector: (vector: FeatureVector, label: number, weight?: number) => void
  readonly predictVector: (vector: FeatureVector) => number
  /** The slot a feature name maps to, -1 for a name outside the schema. */
  readonly slotOf: (name: string) => number
  readonly state: () => LearnerState
  readonly config: LearnerConfig
}

/** The optimizer of a configuration: the one place an optimizer is registered. */
const makeOptimizer = (o: Optimizer, setup: OptimizerSetup): OptimizerStep => {
  switch (o.type) {
    case "sgd":
      return makeSgd(o, setup)
    case "adagrad":
      return makeAdaGrad(o, setup)
    case "ftrl":
      return makeFtrl(o, setup)
    case "pa":
      return makePassiveAggressive(o, setup)
  }
}

export const makeLearner = (config: LearnerConfig, state?: RestorableState): Learner => {
  checkConfig(config)
  const size = slotCount(config)
  const schemaIndex = config.features.type === "schema"
    ? new Map(config.features.names.map((n, i) => [n, i]))
    : undefined
  const hashMask = size - 1
  const slotOf = (name: string): number => (schemaIndex ? schemaIndex.get(name) ?? -1 : fnv1a32(name) & hashMask)
  const logistic = config.kind === "logistic"
  const output = (m: number) => (logistic ? sigmoid(m) : m)
  const optimizer = makeOptimizer(config.optimizer, { size, output, state })
  let steps = state?.steps ?? 0
  const stdCount = config.standardize ? new Float64Array(size) : undefined
  const stdMean = config.standardize ? new Float64Array(size) : undefined
  const stdM2 = config.standardize ? new Float64Array(size) : undefined
  if (state?.standardization && stdCount && stdMean && stdM2) {
    stdCount.set(state.standardization.count)
    stdMean.set(state.standardization.mean)
    stdM2.set(state.standardization.m2)
  }
  // The sample being learned or scored is read from activeSlots/activeValues, k entries:
  // - by name, a schema learner encodes densely (val holds every slot, 0 when absent, over the
  //   identity slots), which keeps the hot loops free of data-dependent branches; a hashing
  //   learner encodes sparsely into idx/val (non-zero features only, collisions add up);
  // - a vector is read in place, or copied into idx/val when standardization rewrites values.
  // The scratch arrays grow as needed; nothing is allocated per sample.
  const dense = schemaIndex !== undefined
  const identity = dense ? Int32Array.from({ length: size }, (_, j) => j) : undefined
  let idx = new Int32Array(dense ? size : 64)
  let val = new Float64Array(idx.length)
  let activeSlots: Int32Array = idx
  let activeValues: Float64Array = val
  const reserve = (count: number) => {
    if (count <= idx.length) return
    let length = idx.length
    while (length < count) length *= 2
    const biggerIdx = new Int32Array(length)
    biggerIdx.set(idx)
    idx = biggerIdx
    const biggerVal = new Float64Array(length)
    biggerVal.set(val)
    val = biggerVal
  }
  const notFinite = (field: string, x: number) => invalid(field, `must be a finite number, got ${describeValue(x)}`)
  // Samples of one source usually list the schema's names in the same order, so the slot found
  // for the name at each position is remembered and a repeat costs one string comparison.
  const namesAt: Array<string> = []
  let slotsAt = new Int32Array(64)
  const schemaSlot = (name: string, position: number): number => {
    if (namesAt[position] === name) return slotsAt[position]!
    const slot = slotOf(name)
    if (position >= slotsAt.length) {
      const bigger = new Int32Array(slotsAt.length * 2)
      bigger.set(slotsAt)
      slotsAt = bigger
    }
    namesAt[position] = name
    slotsAt[position] = slot
    return slot
  }

  /** Online standardization of the active values (statistics updated first when learning). */
  const standardize = (k: number, learning: boolean) => {
    if (!stdCount || !stdMean || !stdM2) return
    for (let j = 0; j < k; j++) {
      const slot = activeSlots[j]!
      const x = activeValues[j]!
      if (x === 0) continue // absent: neither counted nor moved off zero
      if (learning) {
        stdCount[slot]! += 1
        const delta = x - stdMean[slot]!
        stdMean[slot]! += delta / stdCount[slot]!
        stdM2[slot]! += delta * (x - stdMean[slot]!)
      }
      const c = stdCount[slot]!
      const sd = c > 1 ? Math.sqrt(stdM2[slot]! / (c - 1)) : 0
      activeValues[j] = sd > 0 ? (x - stdMean[slot]!) / sd : x - stdMean[slot]!
    }
  }

  /** Makes a sample's named features active; returns how many entries. */
  const activateNamed = (features: Readonly<Record<string, number>>, learning: boolean): number => {
    let k = 0
    if (dense) {
      val.fill(0, 0, size)
      let position = 0
      for (const name in features) {
        const x = features[name]!
        if (!Number.isFinite(x)) notFinite(`features.${name}`, x)
        const slot = schemaSlot(name, position++)
        if (slot >= 0) val[slot] = x
      }
      k = size
    } else {
      for (const name in features) {
        const x = features[name]!
        if (!Number.isFinite(x)) notFinite(`features.${name}`, x)
        if (x === 0) continue
        if (k === idx.length) reserve(k + 1)
        idx[k] = slotOf(name)
        val[k++] = x
      }
    }
    activeSlots = identity ?? idx
    activeValues = val
    valuesUnchecked = false
    standardize(k, learning)
    return k
  }

  let valuesUnchecked = false
  const checkFinite = (values: Float64Array, count: number) => {
    for (let j = 0; j < count; j++) if (!Number.isFinite(values[j])) notFinite(`values.${j}`, values[j]!)
  }

  /** Checks a vectorized sample and makes it active; returns how many entries. */
  const activateVector = (vector: FeatureVector, learning: boolean): number => {
    const { values } = vector
    if (!(values instanceof Float64Array)) invalid("values", "must be a Float64Array")
    const count = values.length
    const slots = vector.slots ?? identity
    if (slots === undefined) invalid("slots", "are required by a hashing learner (an Int32Array of slots from slotOf)")
    else if (slots === identity) {
      if (count !== size) invalid("values", `a dense row must have ${size} values, got ${count}`)
    } else {
      if (!(slots instanceof Int32Array)) invalid("slots", "must be an Int32Array")
      if (slots.length !== count) invalid("slots", `must have one slot per value (${count}), got ${slots.length}`)
      for (let j = 0; j < count; j++) {
        const slot = slots[j]!
        if (!(slot >= 0 && slot < size)) invalid(`slots.${j}`, `must be a slot in [0, ${size}), got ${slot}`)
      }
    }
    activeSlots = slots!
    activeValues = values
    // Without standardization the values are checked through the margin (see checkedMargin),
    // which saves a pass; standardization must not see a bad value, so it checks first.
    valuesUnchecked = !stdCount
    if (stdCount) {
      checkFinite(values, count)
      reserve(count)
      idx.set(slots!)
      val.set(values)
      activeSlots = idx
      activeValues = val
      standardize(count, learning)
    }
    return count
  }

  /**
   * The margin, computed before anything is written. A non-finite value always makes it
   * non-finite (NaN, or Inf; 0 x Inf is NaN), so unchecked values are searched only then.
   */
  const checkedMargin = (k: number): number => {
    const m = optimizer.margin(activeSlots, activeValues, k)
    if (valuesUnchecked && !Number.isFinite(m)) checkFinite(activeValues, k)
    return m
  }

  const checkTarget = (y: number, w: number) => {
    if (!Number.isFinite(y)) invalid("label", `must be a finite number, got ${y}`)
    if (logistic && y !== 0 && y !== 1) invalid("label", `must be 0 or 1 for logistic regression, got ${y}`)
    if (!(Number.isFinite(w) && w > 0)) invalid("weight", `must be a finite number > 0, got ${w}`)
  }

  /** One optimizer step on the k active entries. */
  const update = (k: number, y: number, w: number) => {
    const m = checkedMargin(k)
    steps++
    optimizer.update(activeSlots, activeValues, k, m, y, w, steps)
  }

  return {
    config,
    slotOf,
    learn: (sample) => {
      const w = sample.weight ?? 1
      checkTarget(sample.label, w)
      update(activateNamed(sample.features, true), sample.label, w)
    },
    learnVector: (vector, label, weight = 1) => {
      checkTarget(label, weight)
      update(activateVector(vector, true), label, weight)
    },
    predict: (features) => output(checkedMargin(activateNamed(features, false))),
    predictVector: (vector) => output(checkedMargin(activateVector(vector, false))),
    state: () => ({
      formatVersion: LEARNER_FORMAT_VERSION,
      config,
      weights: optimizer.weights(),
      bias: optimizer.bias(),
      steps,
      accumulators: optimizer.accumulators(),
      standardization: stdCount
        ? { count: plainArray(stdCount), mean: plainArray(stdMean!), m2: plainArray(stdM2!) }
        : null
    })
  }
}

/**
 * Restores a learner from a stored state: the bytes of an artifact in either format (format 2,
 * binary, or format 1, JSON text), or a format-1 object already parsed. Throws a StatsInputError
 * naming the field, or a LearnerStateFormatError naming the damaged part of a format-2 state.
 */
export const loadLearner = (state: unknown): Learner => {
  if (state instanceof Uint8Array) {
    if (isBinaryLearnerState(state)) {
      const decoded = decodeLearnerState(state)
      return makeLearner(decoded.config, decoded.state)
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(new TextDecoder().decode(state))
    } catch {
      return invalid("state", "is neither a binary learner state (format 2) nor JSON (format 1)")
    }
    return loadLearner(parsed)
  }
  const checked = checkStateEnvelope(state)
  return makeLearner(checked.config, checked)
}
