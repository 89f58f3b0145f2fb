// One check of 100 numeric features (windows of 1,000; baselines of 10,000 and of 100,000
// values; every tenth feature shifted by 0.1), timed in process as CPU time (steadier than wall
// time on a shared machine), median of 5 after 2 warm-ups:
//   - ours with the default tests (KS + PSI, and the split PSI for significant features),
//   - ours with all four extra tests (settings.extraTests),
//   - scipy/numpy computing the same statistics on the same data in the same run.
// With ML_BENCH_CORE_BEFORE=<path to another build's dist/index.js> the default check of that
// build is timed too (e.g. the commit before the extra tests, for a before/after ratio);
// ML_BENCH_BASELINE_SIZES=10000 runs one size only.
//
//   npm run bench -- drift-extra     (or: node bench/drift-extra-tests.mjs, after a build; needs python3-scipy)
import * as current from "@org/ml-core"
import { Effect } from "effect"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { median, normalishFrom, seededUniform } from "./lib.mjs"

const benchDir = path.dirname(fileURLToPath(import.meta.url))
const python = process.env.ML_BENCH_PYTHON ?? "/usr/bin/python3"
const before = process.env.ML_BENCH_CORE_BEFORE ? await import(path.resolve(process.env.ML_BENCH_CORE_BEFORE)) : null
const features = 100
const windowSize = 1000
const extraTests = ["wasserstein", "energy", "cramer-von-mises", "anderson-darling"]
const uniform = seededUniform(99)
const normalish = normalishFrom(uniform)

/** CPU milliseconds of one check, median of 5 after 2 warm-ups. */
const timeCheck = (core, baselines, windows, settings) => {
  const program = Effect.gen(function*() {
    const d = yield* core.DriftDetector.DriftDetector
    const names = Array.from({ length: features }, (_, f) => `f${f}`)
    const m = yield* d.createMonitor({
      id: "bench",
      features: names.map((name) => ({ name, kind: "feature", type: "numeric" })),
      settings: { windowSize, minWindow: 100, ...settings }
    })
    yield* d.setBaseline(m.id, Object.fromEntries(names.map((n, f) => [n, Array.from(baselines[f])])))
    yield* d.recordBatch(m.id, Object.fromEntries(names.map((n, f) => [n, Array.from(windows[f])])))
    for (let w = 0; w < 2; w++) yield* d.check(m.id)
    const runs = []
    for (let r = 0; r < 5; r++) {
      const start = process.cpuUsage()
      yield* d.check(m.id)
      const used = process.cpuUsage(start)
      runs.push((used.user + used.system) / 1000)
    }
    return median(runs)
  })
  return Effect.runPromise(Effect.provide(program, core.DriftDetector.layerMemory()))
}

const scipyScript = `
import sys, time
import numpy as np
from scipy import stats
sys.path.insert(0, sys.argv[2])
from psi_numpy import psi
d, n, extra = sys.argv[1], int(sys.argv[3]), sys.argv[4] == "1"
base = np.fromfile(f"{d}/baselines.bin").reshape(${features}, n)
win = np.fromfile(f"{d}/windows.bin").reshape(${features}, ${windowSize})
def once():
    for f in range(${features}):
        stats.ks_2samp(base[f], win[f])
        psi(base[f], win[f])
        if extra:
            stats.wasserstein_distance(base[f], win[f]) / max(np.std(base[f]), 0.001)
            stats.energy_distance(base[f], win[f])
            stats.cramervonmises_2samp(base[f], win[f])
            stats.anderson_ksamp([base[f], win[f]])
import warnings
warnings.simplefilter("ignore")
once()
runs = []
for _ in range(5):
    t = time.process_time(); once(); runs.append((time.process_time() - t) * 1000)
print(sorted(runs)[2])
`
const scipyMs = (dir, n, extra) => {
  const result = spawnSync(python, ["-c", scipyScript, dir, benchDir, String(n), extra ? "1" : "0"], {
    encoding: "utf8"
  })
  if (result.status !== 0) throw new Error(result.stderr)
  return Number(result.stdout.trim())
}

const rows = []
const sizes = (process.env.ML_BENCH_BASELINE_SIZES ?? "10000,100000").split(",").map(Number)
for (const baselineSize of sizes) {
  const baselines = Array.from({ length: features }, () => normalish(baselineSize))
  const windows = Array.from({ length: features }, (_, f) => normalish(windowSize, f % 10 === 0 ? 0.1 : 0))
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ml-drift-extra-"))
  try {
    fs.writeFileSync(path.join(dir, "baselines.bin"), Buffer.concat(baselines.map((b) => Buffer.from(b.buffer))))
    fs.writeFileSync(path.join(dir, "windows.bin"), Buffer.concat(windows.map((w) => Buffer.from(w.buffer))))
    const label = `${baselineSize.toLocaleString("en")} vs ${windowSize.toLocaleString("en")}`
    const defaults = await timeCheck(current, baselines, windows, {})
    const withExtras = await timeCheck(current, baselines, windows, { extraTests })
    const priorDefaults = before ? await timeCheck(before, baselines, windows, {}) : null
    const scipyDefaults = scipyMs(dir, baselineSize, false)
    const scipyExtras = scipyMs(dir, baselineSize, true)
    rows.push({
      baselines: label,
      "ours default ms": defaults.toFixed(0),
      ...(priorDefaults === null ? {} : {
        "before default ms": priorDefaults.toFixed(0),
        "default/before": (defaults / priorDefaults).toFixed(2)
      }),
      "ours +4 extra ms": withExtras.toFixed(0),
      "extra/default": (withExtras / defaults).toFixed(2),
      "scipy KS+PSI ms": scipyDefaults.toFixed(0),
      "scipy +4 ms": scipyExtras.toFixed(0),
      "ours/scipy default": (defaults / scipyDefaults).toFixed(2),
      "ours/scipy +4": (withExtras / scipyExtras).toFixed(2)
    })
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}
console.log(`One check of ${features} numeric features, window ${windowSize}: CPU ms, median of 5`)
console.table(rows)
