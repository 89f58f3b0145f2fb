// Online-learning benchmarks, each against a baseline in the same run.
//
//   npm run bench -- learning     (or: node bench/learning.mjs, after a build)
//
// 1. Learner updates per second in process, logistic regression with constant-rate SGD, with
//    (a) 20 dense features through a fixed schema and (b) 1,000 sparse features hashed into 2^20
//    slots. Each case runs twice against a minimal hand-written Float64Array SGD loop:
//    - by name: both receive the same { name: number } samples; the loop maps names to slots
//      itself (for-in, Map lookup or FNV-1a) into scratch typed arrays, then does the dot
//      product and the update; ours is learner.learn(sample).
//    - vectorized: both receive the same rows already mapped to slots (Float64Array rows;
//      Int32Array slots + Float64Array values); ours is learner.learnVector(vector, label).
//    Target: ratio >= 0.5 in each. Runs alternate (7 rounds each, medians) so that machine noise
//    hits both sides alike.
// Samples ingested over HTTP through the SDK (against raw pipelined RPUSH) are measured by
// bench/hot-ingest.mjs, with the other ingestion routes.
import { fnv1a32, makeLearner } from "@org/ml-core"
import { median } from "./lib.mjs"

let state = 17
const uniform = () => {
  state = (Math.imul(state, 1664525) + 1013904223) >>> 0
  return state / 4294967296
}
const sigmoid = (m) => (m >= 0 ? 1 / (1 + Math.exp(-m)) : Math.exp(m) / (1 + Math.exp(m)))
const rate = 0.01

// ---------------------------------------------------------------- in process
/** Runs ours and the loop alternately (7 rounds, after one warm-up each) and prints the median rates. */
const compare = (label, n, ours, loop) => {
  const elapsed = (f) => {
    const t = performance.now()
    f()
    return performance.now() - t
  }
  ours()
  loop()
  const oursRuns = []
  const loopRuns = []
  for (let r = 0; r < 7; r++) {
    oursRuns.push(elapsed(ours))
    loopRuns.push(elapsed(loop))
  }
  const timeOurs = median(oursRuns)
  const timeLoop = median(loopRuns)
  console.log(
    `${label}: ours ${Math.round(n / timeOurs * 1000).toLocaleString("en")} updates/s, hand-written loop ${
      Math.round(n / timeLoop * 1000).toLocaleString("en")
    } updates/s, ratio ${(timeLoop / timeOurs).toFixed(2)} (target >= 0.5)`
  )
}

/** The minimal loop: map names to slots into scratch arrays, then dot product and SGD step. */
const handWrittenByName = (size, slotOf) => (samples) => {
  const w = new Float64Array(size)
  const idx = new Int32Array(4096)
  const val = new Float64Array(4096)
  let b = 0
  for (let i = 0; i < samples.length; i++) {
    const features = samples[i].features
    let k = 0
    for (const name in features) {
      const slot = slotOf(name)
      if (slot < 0) continue
      idx[k] = slot
      val[k++] = features[name]
    }
    let m = b
    for (let j = 0; j < k; j++) m += w[idx[j]] * val[j]
    const g = sigmoid(m) - samples[i].label
    for (let j = 0; j < k; j++) w[idx[j]] -= rate * g * val[j]
    b -= rate * g
  }
  return w
}
{
  const n = 100_000
  const d = 20
  const truth = Float64Array.from({ length: d }, () => uniform() * 2 - 1)
  const rows = Array.from({ length: n }, () => Float64Array.from({ length: d }, () => uniform() * 2 - 1))
  const labels = rows.map((x) => (x.reduce((s, v, j) => s + v * truth[j], 0) > 0 ? 1 : 0))
  const names = Array.from({ length: d }, (_, j) => `f${j}`)
  const samples = rows.map((x, i) => ({
    features: Object.fromEntries(names.map((name, j) => [name, x[j]])),
    label: labels[i]
  }))
  const vectors = rows.map((values) => ({ values }))
  const config = {
    kind: "logistic",
    optimizer: { type: "sgd", learningRate: rate },
    features: { type: "schema", names }
  }
  const slotByName = new Map(names.map((name, j) => [name, j]))
  const loopByName = handWrittenByName(d, (name) => slotByName.get(name) ?? -1)
  const loopVectorized = () => {
    const w = new Float64Array(d)
    let b = 0
    for (let i = 0; i < n; i++) {
      const x = rows[i]
      let m = b
      for (let j = 0; j < d; j++) m += w[j] * x[j]
      const g = sigmoid(m) - labels[i]
      for (let j = 0; j < d; j++) w[j] -= rate * g * x[j]
      b -= rate * g
    }
    return w
  }
  compare("dense 20 features, by name   ", n, () => {
    const learner = makeLearner(config)
    for (const s of samples) learner.learn(s)
  }, () => loopByName(samples))
  compare("dense 20 features, vectorized", n, () => {
    const learner = makeLearner(config)
    for (let i = 0; i < n; i++) learner.learnVector(vectors[i], labels[i])
  }, loopVectorized)
}
{
  const n = 10_000
  const k = 1000
  const bits = 20
  const vocabulary = 50_000
  const mask = 2 ** bits - 1
  const samples = []
  const vectors = []
  const labels = []
  for (let i = 0; i < n; i++) {
    const features = {}
    const slots = new Int32Array(k)
    const values = new Float64Array(k)
    let signal = 0
    for (let j = 0; j < k; j++) {
      const t = Math.floor(uniform() * vocabulary)
      const name = `t${t}`
      const v = uniform()
      features[name] = v
      slots[j] = fnv1a32(name) & mask
      values[j] = v
      signal += t % 2 === 0 ? v : -v
    }
    const label = signal > 0 ? 1 : 0
    samples.push({ features, label })
    vectors.push({ slots, values })
    labels.push(label)
  }
  const config = {
    kind: "logistic",
    optimizer: { type: "sgd", learningRate: rate },
    features: { type: "hashing", bits }
  }
  const loopByName = handWrittenByName(2 ** bits, (name) => fnv1a32(name) & mask)
  const loopVectorized = () => {
    const w = new Float64Array(2 ** bits)
    let b = 0
    for (let i = 0; i < n; i++) {
      const { slots, values } = vectors[i]
      let m = b
      for (let j = 0; j < slots.length; j++) m += w[slots[j]] * values[j]
      const g = sigmoid(m) - labels[i]
      for (let j = 0; j < slots.length; j++) w[slots[j]] -= rate * g * values[j]
      b -= rate * g
    }
    return w
  }
  compare("sparse 1,000 hashed, by name   ", n, () => {
    const learner = makeLearner(config)
    for (const s of samples) learner.learn(s)
  }, () => loopByName(samples))
  compare("sparse 1,000 hashed, vectorized", n, () => {
    const learner = makeLearner(config)
    for (let i = 0; i < n; i++) learner.learnVector(vectors[i], labels[i])
  }, loopVectorized)
}
