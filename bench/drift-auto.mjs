// One check of 100 numeric features with the automatic drift method choice (a new monitor's
// default: KS for baselines of 1,000 values, the Wasserstein distance normed by the baseline's
// sd above that), windows as large as the baselines (1,000 and 100,000 values; every tenth
// feature shifted by 0.1), against scipy/numpy computing what the check computes on the same
// data in the same run (bench/drift_auto_scipy.py: Evidently's choice by distinct values, KS,
// PSI, Jensen-Shannon, KL and Hellinger on the frozen bins, and Wasserstein where chosen).
// CPU time of the process (steadier than wall time on a shared machine), median of 5 after 2
// warm-ups for ours, after 1 for python (timed inside python, start-up and loading excluded).
// Ours also computes the binary tests' applicability and the split PSI of drifted features.
//
//   npm run bench -- drift-auto     (or: node bench/drift-auto.mjs, after a build; needs python3-scipy)
//   ML_BENCH_SIZES=1000 runs one size only.
import { DriftDetector } from "@org/ml-core"
import { Effect } from "effect"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { median, normalishFrom, seededUniform } from "./lib.mjs"

const benchDir = path.dirname(fileURLToPath(import.meta.url))
const python = process.env.ML_BENCH_PYTHON ?? "/usr/bin/python3"
const features = 100
const uniform = seededUniform(17)
const normalish = normalishFrom(uniform)

/** CPU ms of one check (median of 5 after 2 warm-ups) and the methods it chose. */
const timeCheck = (baselines, windows, size) => {
  const program = Effect.gen(function*() {
    const d = yield* DriftDetector.DriftDetector
    const names = Array.from({ length: features }, (_, f) => `f${f}`)
    const m = yield* d.createMonitor({
      id: "bench-auto",
      features: names.map((name) => ({ name, kind: "feature", type: "numeric" })),
      settings: { windowSize: size, minWindow: 100 }
    })
    yield* d.setBaseline(m.id, Object.fromEntries(names.map((n, f) => [n, Array.from(baselines[f])])))
    yield* d.recordBatch(m.id, Object.fromEntries(names.map((n, f) => [n, Array.from(windows[f])])))
    let report
    for (let w = 0; w < 2; w++) report = yield* d.check(m.id)
    const runs = []
    for (let r = 0; r < 5; r++) {
      const start = process.cpuUsage()
      yield* d.check(m.id)
      const used = process.cpuUsage(start)
      runs.push((used.user + used.system) / 1000)
    }
    const methods = [...new Set(report.features.map((f) => f.drift?.method))].join(",")
    return { ms: median(runs), methods, drifted: report.datasetDrift?.driftedFeatures.length ?? 0 }
  })
  return Effect.runPromise(Effect.provide(program, DriftDetector.layerMemory()))
}

const scipyMs = (dir, size) => {
  const result = spawnSync(
    python,
    [path.join(benchDir, "drift_auto_scipy.py"), dir, String(features), String(size)],
    { encoding: "utf8" }
  )
  if (result.status !== 0) throw new Error(result.stderr)
  return Number(result.stdout.trim())
}

const rows = []
for (const size of (process.env.ML_BENCH_SIZES ?? "1000,100000").split(",").map(Number)) {
  const baselines = Array.from({ length: features }, () => normalish(size))
  const windows = Array.from({ length: features }, (_, f) => normalish(size, f % 10 === 0 ? 0.1 : 0))
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ml-drift-auto-"))
  try {
    fs.writeFileSync(path.join(dir, "baselines.bin"), Buffer.concat(baselines.map((b) => Buffer.from(b.buffer))))
    fs.writeFileSync(path.join(dir, "windows.bin"), Buffer.concat(windows.map((w) => Buffer.from(w.buffer))))
    const ours = await timeCheck(baselines, windows, size)
    const scipy = scipyMs(dir, size)
    rows.push({
      "baseline = window": size.toLocaleString("en"),
      "chosen": ours.methods,
      "drifted": ours.drifted,
      "ours ms": ours.ms.toFixed(0),
      "scipy/numpy ms": scipy.toFixed(0),
      "ours/scipy": (ours.ms / scipy).toFixed(2)
    })
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}
console.log(`One check of ${features} numeric features, automatic drift method: CPU ms, median of 5`)
console.table(rows)
