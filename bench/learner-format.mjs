// Learner state format 1 (dense JSON) against format 2 (sparse binary), in one run: the bytes an
// accepted update publishes for a 2^20-slot hashed learner with 50,000 touched features, and the
// time to save (state() and encoding) and to load (loadLearner) each, per optimizer.
//
//   node bench/learner-format.mjs        (after a build)
//
// Saving in format 1 is what publishing did until format 2: JSON.stringify(learner.state()) as
// UTF-8. Every loaded learner is checked to predict exactly what the saved one does. Times are
// CPU milliseconds of this process (steadier than wall time on a loaded machine), median of 5.
import { encodeLearnerState, loadLearner } from "@org/ml-core"
import { BITS, FEATURES, names, PER_SAMPLE, probes, SAMPLES, trainedLearner } from "./learner-fixture.mjs"
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

const rows = []
for (const [name, optimizer, standardize] of optimizers) {
  const learner = trainedLearner(optimizer, standardize)
  const expected = probes.map((f) => learner.predict(f))
  const encoder = new TextEncoder()
  const save1 = timed(() => encoder.encode(JSON.stringify(learner.state())))
  const load1 = timed(() => loadLearner(save1.result))
  const save2 = timed(() => encodeLearnerState(learner.state()))
  const load2 = timed(() => loadLearner(save2.result))
  const same = [load1.result, load2.result].every((l) => probes.every((f, i) => l.predict(f) === expected[i]))
  const touched = new Set(names.map((n) => learner.slotOf(n))).size
  rows.push({
    optimizer: name,
    "touched slots": touched,
    "format 1 bytes": save1.result.length,
    "format 2 bytes": save2.result.length,
    "size ratio (1/2)": (save1.result.length / save2.result.length).toFixed(1),
    "save CPU ms 1": save1.ms.toFixed(1),
    "save CPU ms 2": save2.ms.toFixed(1),
    "load CPU ms 1": load1.ms.toFixed(1),
    "load CPU ms 2": load2.ms.toFixed(1),
    "same predictions": same
  })
}
console.log(
  `2^${BITS} slots, ${FEATURES} feature names, ${SAMPLES} samples of ${PER_SAMPLE} features; median of ${REPS}`
)
console.table(rows)
