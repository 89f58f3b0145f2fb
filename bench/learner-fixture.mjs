// The learner the learner-state benchmarks save: 2^20 hashed slots trained on 10,000 samples of 20
// features drawn from 50,000 names (a fixed xorshift stream, so every run trains the same one).
import { makeLearner } from "@org/ml-core"

export const BITS = 20
export const FEATURES = 50_000
export const PER_SAMPLE = 20
export const SAMPLES = 10_000

let seed = 2463534242
const uniform = () => {
  seed ^= seed << 13
  seed ^= seed >>> 17
  seed ^= seed << 5
  return (seed >>> 0) / 4294967296
}
export const names = Array.from({ length: FEATURES }, (_, i) => `feature_${i}`)
// Sample s holds PER_SAMPLE consecutive names, so every name is touched SAMPLES * PER_SAMPLE / FEATURES times.
export const samples = Array.from({ length: SAMPLES }, (_, s) => {
  const features = {}
  let margin = 0
  for (let j = 0; j < PER_SAMPLE; j++) {
    const x = uniform() * 2 - 1
    features[names[(s * PER_SAMPLE + j) % FEATURES]] = x
    margin += x * ((s + j) % 3 - 1)
  }
  return { features, label: margin > 0 ? 1 : 0 }
})
export const probes = samples.slice(0, 200).map((s) => s.features)
/** 2,000 samples the learner never saw, drawn after the training ones from the same stream. */
export const heldOut = Array.from({ length: 2000 }, () => {
  const features = {}
  for (let j = 0; j < PER_SAMPLE; j++) features[names[Math.floor(uniform() * FEATURES)]] = uniform() * 2 - 1
  return features
})

/** A logistic learner with `optimizer` (standardized when asked) trained on every sample once. */
export const trainedLearner = (optimizer, standardize) => {
  const learner = makeLearner({
    kind: "logistic",
    optimizer,
    features: { type: "hashing", bits: BITS },
    ...(standardize ? { standardize: true } : {})
  })
  for (const s of samples) learner.learn(s)
  return learner
}
