// Disk full (filesystem mode): the real server process on a small tmpfs this test mounts (root is
// required; a failed mount fails the suite), filled with registrations (4,000-character
// descriptions), metric batches and uploads until writes answer 507. Every acknowledged write must
// be there after a restart, no acknowledged upload is stored short, /readyz says "insufficient
// storage" while full, and once the test frees space (its own filler file) writes succeed and
// /readyz is ready again, without a restart.
import { type ChildProcess, execFileSync } from "node:child_process"
import { createHash, randomBytes } from "node:crypto"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { makeTestApp } from "./helpers.js"
import { httpClient, killHard, ok, startedExperiment, startServer } from "./serverProcess.js"

const mounted: Array<string> = []
const servers: Array<ChildProcess> = []

afterAll(async () => {
  // Servers first: a process holding files on the tmpfs would keep it busy.
  for (const child of servers) await killHard(child)
  for (const mountPoint of mounted) {
    execFileSync("umount", [mountPoint])
    await fs.rm(mountPoint, { recursive: true, force: true })
  }
})

/** A fresh tmpfs of `size` (e.g. "4m"); throws, failing the test loudly, when it cannot be mounted. */
const mountTmpfs = async (size: string) => {
  const mountPoint = await fs.mkdtemp(path.join(os.tmpdir(), "ml-disk-full-"))
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", mountPoint])
  mounted.push(mountPoint)
  return mountPoint
}

const freeBytes = async (directory: string) => {
  const stats = await fs.statfs(directory)
  return stats.bavail * stats.bsize
}

/** Readiness then turns on failed writes, not on the floor (a 4 MiB disk is below any sensible one). */
const start = async (directory: string) => {
  const server = await startServer(directory, { ML_MIN_FREE_BYTES: "0" })
  servers.push(server.child)
  return server
}

interface Acknowledged {
  readonly models: Set<string>
  /** Model id -> SHA-256 of the bytes acknowledged with 200. */
  readonly artifacts: Map<string, string>
  /** Model id -> metric observations acknowledged with 202. */
  readonly metrics: Map<string, number>
}

/**
 * Fills the disk until writes of every kind answer 507, checks the guarantees, frees the filler and
 * checks recovery. `leave` is how much free space the filler leaves for the server's writes; `history`
 * registrations come first, so the journals hold more than the writes that fill the disk.
 */
const fillAndRecover = async (size: string, leave: number, maxUploadBytes: number, history = 0) => {
  const mountPoint = await mountTmpfs(size)
  const directory = path.join(mountPoint, "data")
  const filler = path.join(mountPoint, "filler")
  let server = await start(directory)
  const call = httpClient(() => server.url)
  let versions = 0
  const register = (name: string) =>
    call("POST", "/v1/models", {
      name,
      version: `1.0.${versions++}`,
      algorithm: "logistic_regression",
      framework: "ml-pipeline",
      description: "d".repeat(4000)
    })
  const upload = (id: string, bytes: Uint8Array) =>
    call("PUT", `/v1/models/${id}/artifact`, bytes, { "content-type": "application/octet-stream" })

  // Fixtures while there is room: an experiment between two models, to send metric batches to.
  const { experiment, control, treatment } = await startedExperiment(call, register, "disk-full")

  for (let i = 0; i < history; i++) expect((await register("history")).status).toBe(201)

  await fs.writeFile(filler, new Uint8Array(Math.max(0, (await freeBytes(mountPoint)) - leave)))

  const acked: Acknowledged = { models: new Set(), artifacts: new Map(), metrics: new Map() }
  const refusals = new Map<number, number>()
  let lastProblem: unknown
  // Concurrent workers, each doing rounds of one write of each kind, until several whole rounds in a
  // row are refused (the disk is full for every kind of write).
  let roundsAllRefused = 0
  const worker = async (index: number) => {
    for (let round = 0; roundsAllRefused < 8 && round < 3000; round++) {
      const registered = await register("filler-model")
      const bytes = new Uint8Array(randomBytes(1024 + Math.floor(Math.random() * maxUploadBytes)))
      const uploaded = ok(registered.status) ? await upload(registered.body.id, bytes) : undefined
      if (ok(registered.status)) acked.models.add(registered.body.id)
      if (uploaded && ok(uploaded.status)) {
        acked.artifacts.set(registered.body.id, createHash("sha256").update(bytes).digest("hex"))
      }
      const modelId = (index + round) % 2 === 0 ? control : treatment
      const observations = Array.from({ length: 20 }, () => ({ modelId, metric: "ctr", value: Math.random() }))
      const metrics = await call("POST", `/v1/experiments/${experiment}/metrics`, { observations })
      if (ok(metrics.status)) acked.metrics.set(modelId, (acked.metrics.get(modelId) ?? 0) + observations.length)
      for (const response of [registered, uploaded, metrics]) {
        if (response === undefined || ok(response.status)) continue
        refusals.set(response.status, (refusals.get(response.status) ?? 0) + 1)
        lastProblem = response.body
      }
      roundsAllRefused = !ok(registered.status) && !ok(metrics.status) ? roundsAllRefused + 1 : 0
    }
  }
  await Promise.all([0, 1, 2, 3].map(worker))

  // A full disk is a 507 naming the data directory, never another error.
  expect(Object.fromEntries(refusals)).toEqual({ 507: expect.any(Number) })
  expect(lastProblem).toMatchObject({ status: 507, code: "InsufficientStorage", directory })
  expect(acked.models.size).toBeGreaterThan(0)

  const notReady = await call("GET", "/readyz")
  expect(notReady.status).toBe(503)
  expect(notReady.body).toMatchObject({ directory, reason: "insufficient-storage" })
  expect(notReady.body.detail).toMatch(/Insufficient storage/)

  // Restart on the full disk (kill -9: nothing is flushed at exit), then find every acknowledged write.
  await killHard(server.child)
  server = await start(directory)
  const checkAcknowledged = async () => {
    const missing: Array<string> = []
    for (const id of acked.models) if ((await call("GET", `/v1/models/${id}`)).status !== 200) missing.push(id)
    expect(missing).toEqual([])
    for (const [id, sha256] of acked.artifacts) {
      const download = await fetch(`${server.url}/v1/models/${id}/artifact`)
      expect(download.status).toBe(200)
      const bytes = new Uint8Array(await download.arrayBuffer())
      expect(createHash("sha256").update(bytes).digest("hex")).toBe(sha256)
    }
    const results = (await call("GET", `/v1/experiments/${experiment}/results`)).body
    for (const [modelId, count] of acked.metrics) {
      const variant = results.variants.find((v: { modelId: string }) => v.modelId === modelId)
      expect(variant?.metrics?.ctr?.n ?? 0).toBeGreaterThanOrEqual(count)
    }
  }
  await checkAcknowledged()

  // Space returns: writes succeed and /readyz is ready again, with the same process.
  await fs.rm(filler)
  const again = await register("after-space-returns")
  expect(again.status).toBe(201)
  acked.models.add(again.body.id)
  expect((await call("GET", "/readyz")).status).toBe(200)
  await checkAcknowledged()
  await killHard(server.child)
  return { acknowledged: acked.models.size, artifacts: acked.artifacts.size, refusals: Object.fromEntries(refusals) }
}

describe("a full disk in filesystem mode", () => {
  it(
    "on 4 MiB: answers 507, keeps every acknowledged write across a restart, recovers when space returns",
    async () => {
      const outcome = await fillAndRecover("4m", 12 * 1024, 16 * 1024)
      console.log("4 MiB tmpfs:", outcome)
    },
    120_000
  )

  it("on 64 MiB: the same with more history and larger uploads in flight", async () => {
    const outcome = await fillAndRecover("64m", 1024 * 1024, 512 * 1024, 300)
    console.log("64 MiB tmpfs:", outcome)
  }, 180_000)
})

describe("readiness and free space", () => {
  it("is not ready below ML_MIN_FREE_BYTES, naming the directory, and ready again once space is freed", async () => {
    const mountPoint = await mountTmpfs("4m")
    const directory = path.join(mountPoint, "data")
    const { app, close } = await makeTestApp({ ML_MODEL_STORAGE_DIR: directory, ML_MIN_FREE_BYTES: String(1024 ** 2) })
    try {
      expect((await app.request("/readyz")).status).toBe(200)
      const filler = path.join(mountPoint, "filler")
      await fs.writeFile(filler, new Uint8Array((await freeBytes(mountPoint)) - 512 * 1024))
      const full = await app.request("/readyz")
      expect(full.status).toBe(503)
      const problem = (await full.json()) as { detail: string; directory: string; reason: string }
      expect(problem).toMatchObject({ directory, reason: "insufficient-storage" })
      expect(problem.detail).toMatch(/Insufficient storage in .*below the 1048576 bytes required \(ML_MIN_FREE_BYTES\)/)
      await fs.rm(filler)
      expect((await app.request("/readyz")).status).toBe(200)
    } finally {
      await close()
    }
  })
})
