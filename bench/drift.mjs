// Drift benchmarks, each against a baseline in the same run.
//
//   npm run bench -- drift     (or: node bench/drift.mjs, after a build; needs Redis and python3-scipy)
//
// 1. Recording: values per second through the SDK's batching into one server on Redis, against
//    raw pipelined RPUSH+LTRIM from ioredis into the same Redis (same batch size, same number of
//    batches in flight). Targets: ratio >= 0.5 and >= 200,000 values/s.
// 2. Checking: one check of 100 numeric features (windows of 1,000 against baselines of 10,000:
//    KS and PSI each) against scipy's ks_2samp plus the numpy PSI on the same data. Target: ours
//    no slower.
import { DriftDetector } from "@org/ml-core"
import { createClient } from "@org/ml-sdk"
import { Effect } from "effect"
import { Redis } from "ioredis"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { deleteKeysWithPrefix, median, normalishFrom, seededUniform, startServerProcess } from "./lib.mjs"

const redisUrl = process.env.ML_TEST_REDIS_URL ?? "redis://127.0.0.1:6379"
/** Holds psi_numpy.py, the numpy PSI the benchmarks compare against. */
const benchDir = path.dirname(fileURLToPath(import.meta.url))
const python = process.env.ML_BENCH_PYTHON ?? "/usr/bin/python3"
const uniform = seededUniform(99)
const normalish = normalishFrom(uniform)

// ---------------------------------------------------------------- recording
const total = 2_000_000
const batch = 10_000
const inFlight = 4
const values = Array.from(normalish(batch))
const prefix = `bench-drift:${Date.now()}:`
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ml-drift-bench-"))
const { url, stop } = await startServerProcess({
  ML_MODEL_STORAGE_DIR: dataDir,
  ML_REDIS_URL: redisUrl,
  ML_REDIS_PREFIX: prefix,
  ML_MAX_JSON_BYTES: String(16 * 1024 * 1024)
})
const redis = new Redis(redisUrl)
const rows = []
try {
  const ml = createClient({ baseUrl: url, driftRecorder: { batchSize: batch, flushIntervalMs: 60_000 } })
  await ml.drift.createMonitor({
    id: "bench",
    features: [{ name: "x", kind: "feature", type: "numeric" }],
    settings: { windowSize: 100_000 }
  })
  const timeIt = async (label, run) => {
    await run(total / 10) // warm-up
    const start = performance.now()
    await run(total)
    const seconds = (performance.now() - start) / 1000
    rows.push({ path: label, "values/s": Math.round(total / seconds) })
    return total / seconds
  }
  const ours = await timeIt("SDK recordFeature -> server -> Redis window", async (n) => {
    // The SDK flushes on batch size; keep up to `inFlight` batches outstanding, as the raw path does.
    const pending = []
    for (let sent = 0; sent < n; sent += batch) {
      for (let i = 0; i < batch; i++) ml.drift.recordFeature("bench", "x", values[i])
      pending.push(ml.drift.flush())
      if (pending.length >= inFlight) await pending.shift()
    }
    await Promise.all(pending)
  })
  const key = `${prefix}raw-window`
  const raw = await timeIt("raw ioredis pipelined RPUSH + LTRIM", async (n) => {
    const pending = []
    for (let sent = 0; sent < n; sent += batch) {
      // Encoding the numbers is part of any client's work, so it is timed here too.
      pending.push(redis.multi().rpush(key, ...values.map((v) => JSON.stringify(v))).ltrim(key, -100_000, -1).exec())
      if (pending.length >= inFlight) await pending.shift()
    }
    await Promise.all(pending)
  })
  console.log("Recording (2,000,000 values in batches of 10,000, 4 in flight)")
  console.table(rows)
  console.log(
    `ratio ours/raw: ${(ours / raw).toFixed(2)} (target >= 0.5); ours ${Math.round(ours)} values/s (target >= 200,000)`
  )
} finally {
  await stop()
  await deleteKeysWithPrefix(redis, prefix)
  await redis.quit()
  fs.rmSync(dataDir, { recursive: true, force: true })
}

// ---------------------------------------------------------------- checking
const features = 100
const baselines = Array.from({ length: features }, () => normalish(10_000))
const windows = Array.from({ length: features }, (_, f) => normalish(1000, f % 10 === 0 ? 0.1 : 0))
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ml-drift-check-"))
try {
  fs.writeFileSync(path.join(dir, "baselines.bin"), Buffer.concat(baselines.map((b) => Buffer.from(b.buffer))))
  fs.writeFileSync(path.join(dir, "windows.bin"), Buffer.concat(windows.map((w) => Buffer.from(w.buffer))))
  const program = Effect.gen(function*() {
    const d = yield* DriftDetector.DriftDetector
    const names = Array.from({ length: features }, (_, f) => `f${f}`)
    const m = yield* d.createMonitor({
      id: "check-bench",
      features: names.map((name) => ({ name, kind: "feature", type: "numeric" })),
      settings: { windowSize: 1000, minWindow: 100 }
    })
    yield* d.setBaseline(m.id, Object.fromEntries(names.map((n, f) => [n, Array.from(baselines[f])])))
    yield* d.recordBatch(m.id, Object.fromEntries(names.map((n, f) => [n, Array.from(windows[f])])))
    for (let w = 0; w < 3; w++) yield* d.check(m.id) // warm-up
    const runs = []
    for (let r = 0; r < 7; r++) {
      const start = performance.now()
      yield* d.check(m.id)
      runs.push(performance.now() - start)
    }
    return median(runs)
  })
  const oursMs = await Effect.runPromise(Effect.provide(program, DriftDetector.layerMemory()))
  const script = `
import sys, time
import numpy as np
from scipy import stats
sys.path.insert(0, sys.argv[2])
from psi_numpy import psi
d = sys.argv[1]
base = np.fromfile(f"{d}/baselines.bin").reshape(${features}, 10000)
win = np.fromfile(f"{d}/windows.bin").reshape(${features}, 1000)
def once():
    for f in range(${features}):
        stats.ks_2samp(base[f], win[f])
        psi(base[f], win[f])
once()
runs = []
for _ in range(7):
    t = time.perf_counter(); once(); runs.append((time.perf_counter() - t) * 1000)
print(sorted(runs)[3])
`
  const result = spawnSync(python, ["-c", script, dir, benchDir], { encoding: "utf8" })
  if (result.status !== 0) throw new Error(result.stderr)
  const scipyMs = Number(result.stdout.trim())
  console.log("\nChecking 100 features (windows 1,000 vs baselines 10,000; KS + PSI each; median of 7)")
  console.table([{ implementation: "ours (DriftDetector.check, KS exact + PSI, in memory)", ms: oursMs.toFixed(1) }, {
    implementation: "scipy ks_2samp + numpy PSI",
    ms: scipyMs.toFixed(1)
  }])
  console.log(`ratio ours/scipy: ${(oursMs / scipyMs).toFixed(2)} (target <= 1.0)`)
} finally {
  fs.rmSync(dir, { recursive: true, force: true })
}
