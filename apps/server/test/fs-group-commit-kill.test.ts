// Group commit under a hard kill (filesystem mode): the real server process takes sticky
// assignments of new users and metric batches from many concurrent clients, so many requests share
// each fdatasync, and is killed with SIGKILL mid-load. Every answer it gave must be on disk: each
// acknowledged assignment with the variant it answered, at least as many exposures, and every
// acknowledged metric observation, read straight from the data directory and again over HTTP
// after a restart. Prints acknowledged against stored. (A killed process leaves its writes in the
// page cache, so this catches answers given before the write, not a missing fsync: power loss is
// what the fsync is for, and the journal tests check that each answer waits for its batch's.)
import { FsExperimentStore } from "@org/ml-adapter-fs"
import { Effect, Exit, Scope } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { httpClient, killHard, type ListeningServer, ok, startedExperiment, startServer } from "./serverProcess.js"

const directories: Array<string> = []
const servers: Array<ListeningServer> = []
afterAll(async () => {
  for (const server of servers) await killHard(server.child)
  for (const directory of directories) await fs.rm(directory, { recursive: true, force: true })
})

/** What the data directory holds for the experiment, read by the same store the server uses. */
const stored = async (directory: string, experimentId: string, userIds: Iterable<string>) => {
  const scope = Effect.runSync(Scope.make())
  try {
    const store = await Effect.runPromise(Scope.provide(scope)(FsExperimentStore.make({ directory })))
    const variants = new Map<string, number | undefined>()
    for (const userId of userIds) {
      variants.set(userId, (await Effect.runPromise(store.getAssignment(experimentId, userId)))?.variant)
    }
    const counters = await Effect.runPromise(store.counters(experimentId, 2))
    return {
      variants,
      exposures: counters.variants.reduce((sum, v) => sum + v.exposures, 0),
      observations: counters.variants.map((v) => v.metrics.ctr?.count ?? 0)
    }
  } finally {
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

describe("group commit under SIGKILL (filesystem mode)", () => {
  it("keeps every acknowledged assignment and metric of a loaded server that is killed", async () => {
    const directory = await fs.mkdtemp(path.join(os.tmpdir(), "ml-group-kill-"))
    directories.push(directory)
    let server = await startServer(directory)
    servers.push(server)
    const call = httpClient(() => server.url)
    let versions = 0
    const register = (name: string) =>
      call("POST", "/v1/models", { name, version: `1.0.${versions++}`, algorithm: "x", framework: "y" })
    const { control, experiment, treatment } = await startedExperiment(call, register, "group-kill")
    const models = [control, treatment]

    const acknowledged = new Map<string, number>()
    const observations = [0, 0]
    let users = 0
    for (let round = 1; round <= 3; round++) {
      let running = true
      // Killed right after an answer arrives: its batch is the newest one, the likeliest to be lost
      // if anything were acknowledged before it was written.
      const killAt = round * 200 + Math.floor(Math.random() * 100)
      let killed = false
      const loop = (work: () => Promise<void>) => async () => {
        while (running) await work().catch(() => undefined)
      }
      const assigners = Array.from({ length: 24 }, () =>
        loop(async () => {
          const userId = `user-${round}-${users++}`
          const r = await call("POST", `/v1/experiments/${experiment}/assignments`, { userId })
          // sticky: false is the fallback when storage failed; only a stored answer counts.
          if (ok(r.status) && r.body.sticky === true) acknowledged.set(userId, r.body.variant)
          if (acknowledged.size >= killAt && !killed) {
            killed = true
            server.child.kill("SIGKILL")
          }
        }))
      const recorders = models.map((modelId, variant) =>
        loop(async () => {
          const batch = Array.from({ length: 10 }, (_, i) => ({ modelId, metric: "ctr", value: i / 10 }))
          const r = await call("POST", `/v1/experiments/${experiment}/metrics`, { observations: batch })
          if (ok(r.status)) observations[variant]! += batch.length
        })
      )
      const inFlight = [...assigners, ...recorders, ...recorders].map((work) => work())
      for (let waited = 0; waited < 60_000 && !killed; waited += 50) {
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      await killHard(server.child)
      running = false
      await Promise.all(inFlight)

      const onDisk = await stored(directory, experiment, acknowledged.keys())
      const lost = [...acknowledged].filter(([userId, variant]) => onDisk.variants.get(userId) !== variant)
      console.log(
        `round ${round}: acknowledged ${acknowledged.size} assignments, ${observations[0]! + observations[1]!} ` +
          `observations; stored ${acknowledged.size - lost.length} of those assignments, ${onDisk.exposures} ` +
          `exposures, ${onDisk.observations[0]! + onDisk.observations[1]!} observations`
      )
      expect(killed, "the server did not answer enough assignments").toBe(true)
      expect(lost).toEqual([])
      expect(onDisk.exposures).toBeGreaterThanOrEqual(acknowledged.size)
      expect(onDisk.observations[0]).toBeGreaterThanOrEqual(observations[0]!)
      expect(onDisk.observations[1]).toBeGreaterThanOrEqual(observations[1]!)

      // The restarted server answers from the same state.
      server = await startServer(directory)
      servers.push(server)
      const results = (await call("GET", `/v1/experiments/${experiment}/results`)).body
      for (const [variant, modelId] of models.entries()) {
        const counted = results.variants.find((v: { modelId: string }) => v.modelId === modelId)
        expect(counted.metrics.ctr.n).toBeGreaterThanOrEqual(observations[variant]!)
      }
      for (const [userId, variant] of [...acknowledged].slice(-50)) {
        const again = await call("POST", `/v1/experiments/${experiment}/assignments`, { userId })
        expect(again.body.variant).toBe(variant)
      }
    }
  }, 120_000)
})
