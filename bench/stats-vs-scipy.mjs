// ks2Samp and psi against scipy / numpy on the same data, in one run.
//
//   npm run bench -- stats        (or: node bench/stats-vs-scipy.mjs, after a build)
//
// The data are written once to a binary file that Python reads, so both sides see identical
// samples. Each case is timed as the median of several repetitions after a warm-up, on each
// side; the ratio printed is our time / scipy's time (target: at most 1.0 at every size). The
// KS columns also give CPU time (process time on both sides), steadier than wall time on a
// loaded machine. "1e4 vs 9999 exact" is the exact p-value's widest lattice (gcd 1, lcm ~1e8).
// Needs Debian's python3-scipy (/usr/bin/python3).
import { ks2Samp, psi } from "@org/ml-core"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { median } from "./lib.mjs"

/** Holds psi_numpy.py, the numpy PSI the benchmarks compare against. */
const benchDir = path.dirname(fileURLToPath(import.meta.url))
const python = process.env.ML_BENCH_PYTHON ?? "/usr/bin/python3"
const cases = [
  ["1e3 equal", 1000, 1000],
  ["1e3 unequal", 1000, 700],
  ["1e5 equal", 100000, 100000],
  ["1e5 unequal", 100000, 70000],
  ["1e6 equal", 1000000, 1000000],
  ["1e6 unequal", 1000000, 700000],
  ["1e4 vs 9999 exact", 10000, 9999]
]

let state = 12345
const uniform = () => {
  state = (Math.imul(state, 1664525) + 1013904223) >>> 0
  return state / 4294967296
}
const sample = (n, shift) => {
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) out[i] = shift + uniform() + uniform() + uniform() + uniform() - 2
  return out
}

/** Median wall and CPU milliseconds of `reps` runs after a warm-up. */
const time = (fn, reps) => {
  fn()
  const runs = []
  const cpu = []
  for (let r = 0; r < reps; r++) {
    const start = performance.now()
    const startCpu = process.cpuUsage()
    fn()
    const used = process.cpuUsage(startCpu)
    runs.push(performance.now() - start)
    cpu.push((used.user + used.system) / 1000)
  }
  return { wall: median(runs), cpu: median(cpu) }
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ml-stats-bench-"))
const rows = []
try {
  const data = cases.map(([name, n1, n2], i) => {
    const a = sample(n1, 0)
    const b = sample(n2, 0.01)
    fs.writeFileSync(path.join(dir, `${i}-a.bin`), a)
    fs.writeFileSync(path.join(dir, `${i}-b.bin`), b)
    return { name, a, b }
  })
  const script = `
import json, sys, time
import numpy as np
from scipy import stats
sys.path.insert(0, sys.argv[2])
from psi_numpy import psi as psi_np
d = sys.argv[1]
def median(xs): return sorted(xs)[len(xs)//2]
def timeit(fn, reps):
    fn()
    runs = []
    cpu = []
    for _ in range(reps):
        t = time.perf_counter(); c = time.process_time(); fn()
        runs.append((time.perf_counter() - t) * 1000); cpu.append((time.process_time() - c) * 1000)
    return {"wall": median(runs), "cpu": median(cpu)}
out = []
for i in range(${cases.length}):
    a = np.fromfile(f"{d}/{i}-a.bin", dtype=np.float64)
    b = np.fromfile(f"{d}/{i}-b.bin", dtype=np.float64)
    reps = 200 if len(a) <= 1000 else 7 if len(a) <= 100000 else 3
    r = stats.ks_2samp(a, b)
    out.append({"ks": timeit(lambda: stats.ks_2samp(a, b), reps), "psi": timeit(lambda: psi_np(a, b), reps)["wall"],
                "statistic": float(r.statistic), "pValue": float(r.pvalue), "psiValue": psi_np(a, b)})
print(json.dumps(out))
`
  const result = spawnSync(python, ["-c", script, dir, benchDir], { encoding: "utf8", maxBuffer: 1 << 24 })
  if (result.status !== 0) throw new Error(`scipy side failed: ${result.stderr}`)
  const scipy = JSON.parse(result.stdout)
  // Reach JIT steady state (what a long-running server sees) before timing anything.
  for (let w = 0; w < 200; w++) {
    ks2Samp(data[0].a, data[0].b)
    ks2Samp(data[1].a, data[1].b)
    psi(data[0].a, data[0].b)
    psi(data[1].a, data[1].b)
  }
  data.forEach(({ name, a, b }, i) => {
    const reps = a.length <= 1000 ? 200 : a.length <= 100000 ? 7 : 3
    const ks = time(() => ks2Samp(a, b), reps)
    const p = time(() => psi(a, b), reps).wall
    const ours = ks2Samp(a, b)
    const oursPsi = psi(a, b).value
    rows.push({
      case: name,
      "ks2Samp ms": ks.wall.toFixed(2),
      "scipy ks_2samp ms": scipy[i].ks.wall.toFixed(2),
      "ks ratio": (ks.wall / scipy[i].ks.wall).toFixed(2),
      "ks cpu ratio": (ks.cpu / scipy[i].ks.cpu).toFixed(2),
      "psi ms": p.toFixed(2),
      "numpy psi ms": scipy[i].psi.toFixed(2),
      "psi ratio": (p / scipy[i].psi).toFixed(2),
      "same answer": ours.statistic === scipy[i].statistic &&
        Math.abs(ours.pValue - scipy[i].pValue) <= 1e-10 * scipy[i].pValue + 1e-14 &&
        Math.abs(oursPsi - scipy[i].psiValue) <= 1e-12 * scipy[i].psiValue + 1e-15
    })
  })
  console.table(rows)
} finally {
  fs.rmSync(dir, { recursive: true, force: true })
}
