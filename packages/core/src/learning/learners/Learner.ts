/**
 * Online learners over typed arrays: logistic regression (labels 0/1) and linear regression
 * (squared loss), trained one sample at a time by SGD (constant or inverse-scaling learning
 * rate, as scikit-learn's "constant" and "invscaling"), AdaGrad, FTRL-Proximal (McMahan et al.
 * 2013, Algorithm 1: alpha, beta, L1, L2) or, for classification, Passive-Aggressive (PA-I and
 * PA-II, hinge loss, bias counted in the norm). Features arrive as { name: number } and map to
 * slots through a fixed schema or the hashing trick (FNV-1a, 2^bits slots); optional online
 * standardization. State serializes to a versioned plain object (formatVersion 1).
 */
import { fnv1a32 } from "../../experiments/Assignment.js"
import { invalid } from "../../stats/StatsError.js"
import {
  checkConfig,
  checkStateEnvelope,
  LEARNER_FORMAT_VERSION,
  type LearnerConfig,
  type LearnerState
} from "./LearnerState.js"

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

export const makeLearner = (config: LearnerConfig, state?: LearnerState): Learner => {
  checkConfig(config)
  const size = config.features.type === "schema" ? config.features.names.length : 2 ** config.features.bits
  const schemaIndex = config.features.type === "schema"
    ? new Map(config.features.names.map((n, i) => [n, i]))
    : undefined
  const hashMask = size - 1
  const slotOf = (name: string): number => (schemaIndex ? schemaIndex.get(name) ?? -1 : fnv1a32(name) & hashMask)
  const weights = new Float64Array(size)
  // The bias lives in a typed array: a double in a closure variable would be boxed on every write.
  const bias = new Float64Array(1)
  let steps = 0
  const o = config.optimizer
  // Accumulators have one extra entry, at index `size`, for the bias.
  const g2 = o.type === "adagrad" ? new Float64Array(size + 1) : undefined
  const z = o.type === "ftrl" ? new Float64Array(size + 1) : undefined
  const n = o.type === "ftrl" ? new Float64Array(size + 1) : undefined
  const stdCount = config.standardize ? new Float64Array(size) : undefined
  const stdMean = config.standardize ? new Float64Array(size) : undefined
  const stdM2 = config.standardize ? new Float64Array(size) : undefined
  if (state) {
    weights.set(state.weights)
    bias[0] = state.bias
    steps = state.steps
    g2?.set(state.accumulators.g2 ?? [])
    z?.set(state.accumulators.z ?? [])
    n?.set(state.accumulators.n ?? [])
    if (state.standardization && stdCount && stdMean && stdM2) {
      stdCount.set(state.standardization.count)
      stdMean.set(state.standardization.mean)
      stdM2.set(state.standardization.m2)
    }
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
  const notFinite = (field: string, x: number) => invalid(field, `must be a finite number, got ${x}`)
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

  const ftrlWeight = (i: number): number => {
    const zi = z![i]!
    if (Math.abs(zi) <= (o as { l1: number }).l1) return 0
    const f = o as { alpha: number; beta: number; l1: number; l2: number }
    return -(zi - Math.sign(zi) * f.l1) / ((f.beta + Math.sqrt(n![i]!)) / f.alpha + f.l2)
  }

  const margin = (k: number): number => {
    const slots = activeSlots
    const values = activeValues
    let s = 0
    if (o.type === "ftrl") {
      for (let j = 0; j < k; j++) s += ftrlWeight(slots[j]!) * values[j]!
      return s + ftrlWeight(size)
    }
    const w = weights
    for (let j = 0; j < k; j++) s += w[slots[j]!]! * values[j]!
    return s + bias[0]!
  }

  /**
   * The margin, computed before anything is written. A non-finite value always makes it
   * non-finite (NaN, or Inf; 0 x Inf is NaN), so unchecked values are searched only then.
   */
  const checkedMargin = (k: number): number => {
    const m = margin(k)
    if (valuesUnchecked && !Number.isFinite(m)) checkFinite(activeValues, k)
    return m
  }

  const logistic = config.kind === "logistic"
  const output = (m: number) => (logistic ? sigmoid(m) : m)

  const checkTarget = (y: number, w: number) => {
    if (!Number.isFinite(y)) invalid("label", `must be a finite number, got ${y}`)
    if (logistic && y !== 0 && y !== 1) invalid("label", `must be 0 or 1 for logistic regression, got ${y}`)
    if (!(Number.isFinite(w) && w > 0)) invalid("weight", `must be a finite number > 0, got ${w}`)
  }

  const invScaling = o.type === "sgd" && o.schedule === "invscaling"
  /** One optimizer step on the k active entries. */
  const update = (k: number, y: number, w: number) => {
    const slots = activeSlots
    const values = activeValues
    const m = checkedMargin(k)
    steps++
    if (o.type === "pa") {
      const ys = y === 1 ? 1 : -1
      const loss = Math.max(0, 1 - ys * m)
      if (loss === 0) return
      let sqnorm = 1 // the bias input
      for (let j = 0; j < k; j++) sqnorm += values[j]! * values[j]!
      const C = o.C * w
      const tau = o.variant === "PA-I" ? Math.min(C, loss / sqnorm) : loss / (sqnorm + 1 / (2 * C))
      for (let j = 0; j < k; j++) weights[slots[j]!]! += tau * ys * values[j]!
      bias[0]! += tau * ys
      return
    }
    const g = (output(m) - y) * w // d loss / d margin, for log loss and squared loss alike
    if (o.type === "sgd") {
      const eta = invScaling ? o.learningRate / Math.pow(steps, o.powerT ?? 0.25) : o.learningRate
      const step = eta * g
      const w = weights
      for (let j = 0; j < k; j++) w[slots[j]!]! -= step * values[j]!
      bias[0]! -= step
    } else if (o.type === "adagrad") {
      const eps = o.epsilon ?? 1e-8
      for (let j = 0; j < k; j++) {
        const i = slots[j]!
        const gi = g * values[j]!
        g2![i]! += gi * gi
        weights[i]! -= (o.learningRate * gi) / (Math.sqrt(g2![i]!) + eps)
      }
      g2![size]! += g * g
      bias[0]! -= (o.learningRate * g) / (Math.sqrt(g2![size]!) + eps)
    } else {
      const step = (i: number, gi: number) => {
        const sigma = (Math.sqrt(n![i]! + gi * gi) - Math.sqrt(n![i]!)) / o.alpha
        z![i]! += gi - sigma * ftrlWeight(i)
        n![i]! += gi * gi
      }
      for (let j = 0; j < k; j++) step(slots[j]!, g * values[j]!)
      step(size, g)
    }
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
      weights: o.type === "ftrl" ? Array.from({ length: size }, (_, i) => ftrlWeight(i)) : Array.from(weights),
      bias: o.type === "ftrl" ? ftrlWeight(size) : bias[0]!,
      steps,
      accumulators: {
        ...(g2 ? { g2: Array.from(g2) } : {}),
        ...(z ? { z: Array.from(z) } : {}),
        ...(n ? { n: Array.from(n) } : {})
      },
      standardization: stdCount
        ? { count: Array.from(stdCount), mean: Array.from(stdMean!), m2: Array.from(stdM2!) }
        : null
    })
  }
}

/** Restores a learner from its serialized state (any other formatVersion is refused). */
export const loadLearner = (state: unknown): Learner => {
  const checked = checkStateEnvelope(state)
  return makeLearner(checked.config, checked)
}
