// Learner state format 1 (dense JSON) against format 2 (sparse binary), in one run: the bytes an
// accepted update publishes for a 2^20-slot hashed learner with 50,000 touched features, and the
// time to save (state() and encoding) and to load (loadLearner) each, per optimizer.
//
//   node bench/learner-format.mjs        (after a build)
//
// Saving in format 1 is what publishing did until format 2: JSON.stringify(learner.state()) as
// UTF-8. Every loaded learner is checked to predict exactly what the saved one does. Times are
// CPU milliseconds of this process (steadier than wall time on a loaded machine), median of 5.
import { encodeLearnerState, loadLearner, makeLearner } from "@org/ml-core"
import { median } from "./lib.mjs"

const BITS = 20
const FEATURES = 50_000
const PER_SAMPLE = 20
const SAMPLES = 10_000
const REPS = Number(process.env.ML_BENCH_REPS ?? 5)

const optimizers = [
  ["sgd", { type: "sgd", learningRate: 0.05 }, false],
  ["pa", { type: "pa", variant: "PA-I", C: 0.1 }, false],
  ["adagrad", { type: "adagrad", learningRate: 0.1 }, false],
  ["ftrl", { type: "ftrl", alpha: 0.1, beta: 1, l1: 0.01, l2: 0.01 }, false],
  ["adagrad + standardize", { type: "adagrad", learningRate: 0.1 }, true]
]

let seed = 2463534242
const uniform = () => {
  seed ^= seed << 13
  seed ^= seed >>> 17
  seed ^= seed << 5
  return (seed >>> 0) / 4294967296
}
const names = Array.from({ length: FEATURES }, (_, i) => `feature_${i}`)
// Sample s holds PER_SAMPLE consecutive names, so every name is touched SAMPLES * PER_SAMPLE / FEATURES times.
const samples = Array.from({ length: SAMPLES }, (_, s) => {
  const features = {}
  let margin = 0
  for (let j = 0; j < PER_SAMPLE; j++) {
    const x = uniform() * 2 - 1
    features[names[(s * PER_SAMPLE + j) % FEATURES]] = x
    margin += x * ((s + j) % 3 - 1)
  }
  return { features, label: margin > 0 ? 1 : 0 }
})
const probes = samples.slice(0, 200).map((s) => s.features)

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
  const learner = makeLearner({
    kind: "logistic",
    optimizer,
    features: { type: "hashing", bits: BITS },
    ...(standardize ? { standardize: true } : {})
  })
  for (const s of samples) learner.learn(s)
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
