/**
 * The edge worker example (worker.mjs) bundled by esbuild and served by workerd, against a real
 * server: its assignments equal the server's for the same users and attributes, and the metrics,
 * exposures and drift rows it flushed with ctx.waitUntil arrive.
 */
import { createClient } from "@org/ml-sdk"
import { loadConfig, type RunningServer, startServer } from "@org/ml-server"
import { bundleWorker, serveWorker } from "@org/runtimes/workerd.mjs"
import type { ChildProcess } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

const example = path.dirname(path.dirname(fileURLToPath(import.meta.url)))

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const probe = net.createServer().once("error", reject)
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo
      probe.close(() => resolve(port))
    })
  })

let server: RunningServer
let worker: ChildProcess
let workerUrl = ""
const directories: Array<string> = []
const ml = () => createClient({ baseUrl: server.url })
const ids = { experiment: "", monitor: "edge-worker-scores", models: [] as Array<string> }

beforeAll(async () => {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), "ml-edge-example-"))
  directories.push(data)
  server = await startServer(
    loadConfig({ ML_MODEL_STORAGE_DIR: data, ML_PORT: "0", ML_HOST: "127.0.0.1" }),
    () => undefined
  )
  for (const version of ["1", "2"]) {
    const model = await ml().registry.registerModel(
      { name: "edge-ranker", version, algorithm: "a", framework: "f" },
      new Uint8Array([1])
    )
    await ml().registry.promoteModel(model.id, "testing")
    ids.models.push(model.id)
  }
  const experiment = await ml().experiments.create({
    name: "edge-ranker",
    targetMetric: "score",
    variants: [
      { modelId: ids.models[0]!, isControl: true, trafficPct: 50 },
      { modelId: ids.models[1]!, isControl: false, trafficPct: 50 }
    ],
    condition: { country: { $in: ["DE", "AT"] } }
  })
  ids.experiment = experiment.id
  await ml().experiments.start(experiment.id)
  await ml().drift.createMonitor({ id: ids.monitor, features: [{ name: "score", kind: "feature", type: "numeric" }] })

  const bundleDirectory = fs.mkdtempSync(path.join(os.tmpdir(), "ml-edge-worker-"))
  directories.push(bundleDirectory)
  await bundleWorker(path.join(example, "worker.mjs"), bundleDirectory, "worker")
  const port = await freePort()
  worker = serveWorker(bundleDirectory, "worker", {
    port,
    bindings: { ML_URL: server.url, EXPERIMENT_ID: ids.experiment, MONITOR_ID: ids.monitor }
  })
  workerUrl = `http://127.0.0.1:${port}`
  for (let attempt = 0;; attempt++) {
    const up = await fetch(`${workerUrl}/?user=probe&country=FR`).then((r) => r.ok, () => false)
    if (up) break
    if (attempt > 100) throw new Error("workerd did not start serving the example")
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
})

afterAll(async () => {
  worker?.kill("SIGTERM")
  await server?.close()
  for (const directory of directories) fs.rmSync(directory, { recursive: true, force: true })
})

describe("the edge worker example in workerd", () => {
  it("assigns like the server and its batches arrive", async () => {
    const users = Array.from({ length: 40 }, (_, i) => ({ user: `edge-${i}`, country: ["DE", "AT", "FR"][i % 3]! }))
    const fromWorker: Array<{ modelId: string; inExperiment: boolean }> = []
    for (const [i, { country, user }] of users.entries()) {
      const response = await fetch(`${workerUrl}/?user=${user}&country=${country}&score=${i / 10}`)
      expect(response.status).toBe(200)
      fromWorker.push(await response.json() as { modelId: string; inExperiment: boolean })
    }
    const fromServer = await ml().experiments.getModelAssignments(
      ids.experiment,
      users.map((u) => u.user),
      Object.fromEntries(users.map((u) => [u.user, { country: u.country }]))
    )
    expect(fromWorker).toEqual(fromServer.map((a) => ({ modelId: a.modelId, inExperiment: a.inExperiment })))
    const inside = fromWorker.filter((a) => a.inExperiment).length
    expect(inside).toBeGreaterThan(15)
    expect(inside).toBeLessThan(40)

    // The flushes ran after each answer (ctx.waitUntil): wait until every batch has landed.
    const deadline = Date.now() + 10_000
    let metricsSeen = 0
    let exposuresSeen = 0
    while (Date.now() < deadline) {
      const results = await ml().experiments.getExperimentResults(ids.experiment)
      metricsSeen = results.variants.reduce((sum, v) => sum + (v.metrics.score?.n ?? 0), 0)
      exposuresSeen = results.variants.reduce((sum, v) => sum + v.exposures, 0)
      if (metricsSeen >= 41 && exposuresSeen >= inside * 2) break
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    // 40 users plus the start-up probe; exposures: the worker's and the server's own assignments.
    expect(metricsSeen).toBe(41)
    expect(exposuresSeen).toBe(inside * 2)
    await ml().drift.setBaseline(ids.monitor, { score: Array.from({ length: 50 }, (_, i) => i / 10) })
    const report = await ml().drift.check(ids.monitor)
    expect(report.features.find((f) => f.feature === "score")).toMatchObject({ windowCount: 41 })
  })
})
