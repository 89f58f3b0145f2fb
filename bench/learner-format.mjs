// Learner state format 1 (dense JSON) against format 2 (sparse binary) at both precisions, in one
// run: the bytes an accepted update publishes for a 2^20-slot hashed learner with 50,000 touched
// features, the time to save (state() and encoding) and to load (loadLearner) each, per
// optimizer, and what float32 costs in predictions on 2,000 held-out samples.
//
//   node bench/learner-format.mjs        (after a build)
//
// Saving in format 1 is what publishing did until format 2: JSON.stringify(learner.state()) as
// UTF-8. Learners loaded from format 1 and from format 2 float64 are checked to predict exactly
// what the saved one does. For float32 the largest |p64 - p32| over the held-out samples is
// printed beside its bound: rounding moves each weight by at most 2^-24 of itself, so the
// margin by at most 2^-24 (|b| + sum |w_i t_i|) (t: the inputs after standardization) and the
// probability by a quarter of that. Times are CPU milliseconds of this process (steadier than
// wall time on a loaded machine), median of 5.
import { encodeLearnerState, loadLearner } from "@org/ml-core"
import { BITS, FEATURES, heldOut, names, PER_SAMPLE, probes, SAMPLES, trainedLearner } from "./learner-fixture.mjs"
import { median } from "./lib.mjs"

const REPS = Number(process.env.ML_BENCH_REPS ?? 5)

const optimizers = [
  ["sgd", { type: "sgd", learningRate: 0.05 }, false],
  ["pa", { type: "pa", variant: "PA-I", C: 0.1 }, false],
  ["adagrad", { type: "adagrad", learningRate: 0.1 }, false],
  ["ftrl", { type: "ftrl", alpha: 0.1, beta: 1, l1: 0.01, l2: 0.01 }, false],
  ["adagrad + standardize", { type: "adagrad", learningRate: 0.1 }, true]
]

const timed = (fn) => {
  let result = fn()
  const runs = []
  for (let r = 0; r < REPS; r++) {
    const start = process.cpuUsage()
    result = fn()
    const used = process.cpuUsage(start)
    runs.push((used.user + used.system) / 1000)
  }
  return { ms: median(runs), result }
}

/** The bound on |p64 - p32| for one sample: a quarter of 2^-24 (|b| + sum |w_i t_i|) (logistic). */
const boundOf = (state, slotOf, features) => {
  const std = state.standardization
  let sum = Math.abs(state.bias)
  for (const [name, x] of Object.entries(features)) {
    const slot = slotOf(name)
    let t = x
    if (std) {
      const c = std.count[slot]
      const sd = c > 1 ? Math.sqrt(std.m2[slot] / (c - 1)) : 0
      t = sd > 0 ? (x - std.mean[slot]) / sd : x - std.mean[slot]
    }
    sum += Math.abs(state.weights[slot] * t)
  }
  return (2 ** -24 * sum) / 4
}

const mb = (bytes) => (bytes / 1e6).toFixed(2)
const rows = []
for (const [name, optimizer, standardize] of optimizers) {
  const learner = trainedLearner(optimizer, standardize)
  const expected = probes.map((f) => learner.predict(f))
  const encoder = new TextEncoder()
  const save1 = timed(() => encoder.encode(JSON.stringify(learner.state())))
  const load1 = timed(() => loadLearner(save1.result))
  const save64 = timed(() => encodeLearnerState(learner.state()))
  const load64 = timed(() => loadLearner(save64.result))
  const save32 = timed(() => encodeLearnerState(learner.state(), { precision: "float32" }))
  const load32 = timed(() => loadLearner(save32.result))
  const exact = [load1.result, load64.result].every((l) => probes.every((f, i) => l.predict(f) === expected[i]))
  const state = learner.state()
  let worst = 0
  let bound = 0
  for (const features of heldOut) {
    worst = Math.max(worst, Math.abs(load32.result.predict(features) - learner.predict(features)))
    bound = Math.max(bound, boundOf(state, learner.slotOf, features))
  }
  const touched = new Set(names.map((n) => learner.slotOf(n))).size
  const [f1, f64, f32] = [save1, save64, save32].map((s) => s.result.length)
  rows.push({
    optimizer: name,
    "touched slots": touched,
    "format 1 MB": mb(f1),
    "f2 float64 MB": mb(f64),
    "f2 float32 MB": mb(f32),
    "ratio 1/64": (f1 / f64).toFixed(1),
    "ratio 1/32": (f1 / f32).toFixed(1),
    "save ms 1/64/32": [save1, save64, save32].map((s) => s.ms.toFixed(0)).join(" / "),
    "load ms 1/64/32": [load1, load64, load32].map((s) => s.ms.toFixed(0)).join(" / "),
    "exact (1, 64)": exact,
    "max |dp| 32": worst.toExponential(1),
    "bound 32": bound.toExponential(1)
  })
}
console.log(
  `2^${BITS} slots, ${FEATURES} feature names, ${SAMPLES} samples of ${PER_SAMPLE} features; ` +
    `${heldOut.length} held-out samples; CPU ms, median of ${REPS}`
)
console.table(rows)
