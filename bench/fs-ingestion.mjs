// Filesystem-mode ingestion under concurrency into one server on a fresh data directory (what
// group commit is for), in one run:
//
// 1. The disk's raw fsync rate: one writer appending a line and fdatasyncing it, in a loop, in the
//    data directory's file system. One fsync per request can answer no faster than this.
// 2. With wrk (when installed; 32 connections): one minimal node:http route storing each body as a
//    line, first with a write + fdatasync per request (the design group commit replaces), then
//    through the fs journal (group commit); then this server's sticky assignments of new users
//    and single-observation metric calls. Printed: req/s, latency, CPU per request and requests
//    per CPU-second (the machine's load moves wall rates; CPU time much less), and the ratios.
// 3. Drift values, pipeline samples and metric observations per second through the SDK's fetch
//    (16 requests of 100 items in flight).
//
//   node bench/fs-ingestion.mjs   (after a build)
//
// BENCH_SECONDS (default 6) per wrk run; BENCH_IN_FLIGHT and BENCH_REQUESTS for part 3.
import { makeJournal } from "@org/ml-adapter-fs"
import { createClient } from "@org/ml-sdk"
import { Effect, Exit, Scope } from "effect"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import { createServer } from "node:http"
import * as os from "node:os"
import * as path from "node:path"
import { callsPerSecond, jsonPoster, processCpuMs, runWrk, startServerProcess, wrkPostScript } from "./lib.mjs"

const inFlight = Number(process.env.BENCH_IN_FLIGHT ?? 16)
const requests = Number(process.env.BENCH_REQUESTS ?? 400)
const seconds = Number(process.env.BENCH_SECONDS ?? 6)
const connections = 32
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ml-fs-ingest-bench-"))
const baselineDir = fs.mkdtempSync(path.join(os.tmpdir(), "ml-fs-ingest-baseline-"))
const { child, stop, url } = await startServerProcess({ ML_MODEL_STORAGE_DIR: dataDir })
const post = jsonPoster(url)
/** `requests` calls of `make(i)`, `inFlight` at a time; returns calls per second. */
const rate = (make) => callsPerSecond(requests, inFlight, make)

/** Appends a 100-byte line and fdatasyncs it, in a loop, for `ms`: the disk's fsync rate for one writer. */
const rawFsyncRate = async (ms) => {
  const handle = await fs.promises.open(path.join(baselineDir, "raw.log"), "a")
  const line = Buffer.from(`${"x".repeat(99)}\n`)
  let count = 0
  const start = performance.now()
  while (performance.now() - start < ms) {
    await handle.write(line)
    await handle.datasync()
    count++
  }
  await handle.close()
  return count / ((performance.now() - start) / 1000)
}

/**
 * A minimal node:http route storing each request's body as a line: `store(line)` resolves once it
 * is durable. The same route with two stores isolates the storage design from the HTTP path.
 */
const startMinimalServer = async (store) => {
  const server = createServer(async (request, response) => {
    let body = ""
    for await (const chunk of request) body += chunk
    await store(JSON.stringify({ at: Date.now(), ...JSON.parse(body) }))
    response.writeHead(200, { "content-type": "application/json" }).end("{}")
  })
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve))
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => new Promise((r) => server.close(r)) }
}

/** One fsync per request: append the line, fdatasync, answer. */
const perRequestFsync = async () => {
  const handle = await fs.promises.open(path.join(baselineDir, "per-request.log"), "a")
  return {
    store: async (line) => (await handle.write(`${line}\n`), await handle.datasync()),
    close: () => handle.close()
  }
}

/** Group commit: the filesystem adapters' journal (what this server's stores write through). */
const groupCommitJournal = async () => {
  const scope = Effect.runSync(Scope.make())
  const journal = await Effect.runPromise(
    Scope.provide(scope)(makeJournal({
      directory: path.join(baselineDir, "journal"),
      name: "lines",
      fresh: () => ({ count: 0 }),
      replay: (state) => void state.count++,
      snapshot: () => []
    }))
  )
  return {
    store: (line) => Effect.runPromise(journal.mutate((state) => Effect.sync(() => state.count++), () => line)),
    close: () => Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

/** wrk against `target`, with the CPU time process `cpuMs()` used meanwhile. */
const measured = async (name, target, script, cpuMs) => {
  const before = cpuMs()
  const run = await runWrk(target, script, { connections, seconds })
  const usedMs = cpuMs() - before
  return {
    route: name,
    "req/s": Math.round(run.reqPerSec),
    "mean ms": run.meanMs.toFixed(2),
    "p99 ms": run.p99Ms.toFixed(2),
    "CPU us/req": Math.round(usedMs * 1000 / run.requests),
    "req per CPU-s": Math.round(run.requests / (usedMs / 1000))
  }
}
const ownCpuMs = () => {
  const { system, user } = process.cpuUsage()
  return (user + system) / 1000
}

try {
  const { makeLearner } = await import("@org/ml-core")
  const ml = createClient({ baseUrl: url })
  await ml.drift.createMonitor({
    id: "bench",
    features: [{ name: "x", kind: "feature", type: "numeric" }],
    settings: { windowSize: 100_000 }
  })
  const values = Array.from({ length: 100 }, (_, i) => Math.sin(i))
  const drift = await rate(() => post("/v1/drift/monitors/bench/observations", { values: { x: values } }))
  const model = await post("/v1/models", {
    name: "bench",
    version: "1.0.0",
    algorithm: "logistic_regression",
    framework: "ml-pipeline"
  })
  const config = {
    kind: "logistic",
    optimizer: { type: "sgd", learningRate: 0.1 },
    features: { type: "schema", names: ["a", "b"] }
  }
  await fetch(`${url}/v1/models/${model.id}/artifact`, {
    method: "PUT",
    body: JSON.stringify(makeLearner(config).state()),
    headers: { "content-type": "application/octet-stream" }
  })
  await post("/v1/pipelines", {
    id: "bench",
    name: "bench",
    modelId: model.id,
    strategy: "periodic",
    updateFrequencySeconds: 86400
  })
  let sample = 0
  const samples = await rate(() =>
    post("/v1/pipelines/bench/samples", {
      samples: Array.from({ length: 100 }, () => {
        const i = sample++
        return { sampleId: `s${i}`, features: { a: Math.sin(i), b: Math.cos(i) }, label: i % 2 }
      })
    })
  )
  const variant = (await post("/v1/models", { name: "bench-b", version: "1.0.0", algorithm: "x", framework: "y" })).id
  const experiment = await post("/v1/experiments", {
    name: "bench",
    targetMetric: "ctr",
    variants: [{ modelId: model.id, isControl: true, trafficPct: 50 }, {
      modelId: variant,
      isControl: false,
      trafficPct: 50
    }]
  })
  await post(`/v1/experiments/${experiment.id}/start`, {})
  const observations = Array.from(
    { length: 100 },
    (_, i) => ({ modelId: i % 2 ? variant : model.id, metric: "ctr", value: i % 3 })
  )
  const metrics = await rate(() => post(`/v1/experiments/${experiment.id}/metrics`, { observations }))
  console.log("Through the SDK's fetch, 100 items per request:")
  console.log(JSON.stringify({
    inFlight,
    requests,
    driftValuesPerSecond: Math.round(drift * 100),
    samplesPerSecond: Math.round(samples * 100),
    metricObservationsPerSecond: Math.round(metrics * 100)
  }))

  const fileSystem = spawnSync("df", ["--output=fstype", dataDir], { encoding: "utf8" }).stdout?.split("\n")[1]
  const raw = await rawFsyncRate(2000)
  if (spawnSync("wrk", ["--version"]).error !== undefined) {
    console.log(`raw write+fdatasync: ${Math.round(raw)}/s; install wrk for the HTTP comparison`)
  } else {
    const rows = []
    for (
      const [name, makeStore] of [
        ["node:http + write + fdatasync per request", perRequestFsync],
        ["node:http + the fs journal (group commit)", groupCommitJournal]
      ]
    ) {
      const store = await makeStore()
      const minimal = await startMinimalServer(store.store)
      try {
        rows.push(await measured(name, minimal.url, wrkPostScript(`'{"userId":"u-' .. counter .. '"}'`), ownCpuMs))
      } finally {
        await minimal.close()
        await store.close()
      }
    }
    const serverCpuMs = () => processCpuMs(child.pid)
    rows.push(
      await measured(
        "this server: POST /assignments (new users, sticky)",
        `${url}/v1/experiments/${experiment.id}/assignments`,
        wrkPostScript(`'{"userId":"user-' .. counter .. '-' .. math.random(1000000000) .. '"}'`),
        serverCpuMs
      ),
      await measured(
        "this server: POST /metrics (1 observation)",
        `${url}/v1/experiments/${experiment.id}/metrics`,
        wrkPostScript(`'{"observations":[{"modelId":"${model.id}","metric":"ctr","value":' .. (counter % 7) .. '}]}'`),
        serverCpuMs
      )
    )
    const after = await rawFsyncRate(2000)
    console.log(
      `\nFilesystem mode (${fileSystem?.trim() ?? "?"}), wrk ${connections} connections, ${seconds} s each; ` +
        `raw write+fdatasync (one writer): ${Math.round(raw)}/s before, ${Math.round(after)}/s after the HTTP runs`
    )
    console.table(rows)
    const fsyncRate = (raw + after) / 2
    const ratio = (row, to) => (row["req/s"] / to).toFixed(2)
    console.log(`group commit vs one fsync per request, same minimal route: ${ratio(rows[1], rows[0]["req/s"])}x`)
    for (const row of rows) console.log(`${row.route}: ${ratio(row, fsyncRate)}x the raw fsync rate`)
  }
} finally {
  await stop()
  fs.rmSync(dataDir, { recursive: true, force: true })
  fs.rmSync(baselineDir, { recursive: true, force: true })
}
