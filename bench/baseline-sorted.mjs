// The cost of sorting a baseline's reference sample at every check, before and after baselines
// keep it sorted. One check of 100 numeric features, every one shifted by 0.1 (so each runs KS
// and the split PSI, the two default tests that need the baseline in order), windows of 1,000,
// baselines of 10,000 and of 100,000 values; CPU time, median of 7 after 2 warm-ups:
//   - after: the baselines as makeBaseline stores them now (sample in ascending order),
//   - before: the same baselines with the sample in arrival order, as stored until this release
//     (the check sorts it, as it did for every baseline before).
// Both through this build's check code in the same run.
//
//   node bench/baseline-sorted.mjs     (after a build)
import { assessFeatures, defaultMonitorSettings, makeBaseline, testFeature } from "@org/ml-core"
import { median, normalishFrom, seededUniform } from "./lib.mjs"

const features = 100
const windowSize = 1000
const normalish = normalishFrom(seededUniform(7))
const settings = defaultMonitorSettings
const specs = Array.from({ length: features }, (_, f) => ({ name: `f${f}`, kind: "feature", type: "numeric" }))

/** CPU milliseconds of one check of every feature, median of 7 after 2 warm-ups. */
const timeCheck = (baselines, windows) => {
  const once = () =>
    assessFeatures(specs.map((spec, f) => testFeature(spec, baselines[f], windows[f], settings)), settings)
  once()
  once()
  const runs = []
  for (let r = 0; r < 7; r++) {
    const start = process.cpuUsage()
    once()
    const used = process.cpuUsage(start)
    runs.push((used.user + used.system) / 1000)
  }
  return median(runs)
}

const rows = []
for (const size of [10_000, 100_000]) {
  const values = specs.map(() => Array.from(normalish(size)))
  const windows = specs.map(() => Array.from(normalish(windowSize, 0.1)))
  const sorted = specs.map((spec, f) =>
    makeBaseline({
      monitorId: "bench",
      feature: spec.name,
      type: "numeric",
      values: values[f],
      version: 1,
      at: new Date(0).toISOString(),
      settings
    })
  )
  const arrivalOrder = sorted.map((b, f) => ({ ...b, sample: values[f] }))
  const drifted = assessFeatures(specs.map((spec, f) => testFeature(spec, sorted[f], windows[f], settings)), settings)
    .filter((c) => c.splitPsi !== null && c.splitPsi !== undefined).length
  const before = timeCheck(arrivalOrder, windows)
  const after = timeCheck(sorted, windows)
  rows.push({
    "baseline values": size,
    "features with split PSI": drifted,
    "before: sample in arrival order (ms CPU)": before.toFixed(1),
    "after: sample stored sorted (ms CPU)": after.toFixed(1),
    "after / before": (after / before).toFixed(2)
  })
}
console.table(rows)
