// Group commit of the journal with many writers on one journal: what one turn of the event loop
// issues shares one fdatasync, totals stay exact under concurrency and after a restart, and on a
// full disk (a small tmpfs this test mounts; root is required, a failed mount fails the suite)
// every writer of the failing batch gets the error a single write gets, while the store keeps
// exactly the writes it acknowledged.
import { type ExperimentStore, type StorageError, summarize } from "@org/ml-core"
import { sampleExperiment } from "@org/ml-core/testing"
import { Effect, Exit, Result, Scope } from "effect"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { FsExperimentStore } from "../src/index.js"
import { add, openSumJournal } from "./sumJournal.js"

const root = await fs.mkdtemp(path.join(os.tmpdir(), "ml-group-commit-"))
const mounted: Array<string> = []
afterAll(async () => {
  for (const mountPoint of mounted) execFileSync("umount", ["-l", mountPoint])
  await fs.rm(root, { recursive: true, force: true })
})

/** The experiment store on `directory`; close() releases it like a clean shutdown. */
const openStore = async (directory: string) => {
  const scope = Effect.runSync(Scope.make())
  const store = await Effect.runPromise(Scope.provide(scope)(FsExperimentStore.make({ directory })))
  return { store, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}

const outcome = <A>(effect: Effect.Effect<A, StorageError>) => Effect.runPromise(Effect.result(effect))

/** One user's sticky assignment to the variant `index` of `experiment`. */
const assignmentOf = (experiment: ReturnType<typeof sampleExperiment>, userId: string, index: number) => ({
  experimentId: experiment.id,
  userId,
  variant: index,
  modelId: experiment.variants[index]!.modelId,
  at: new Date().toISOString()
})

describe("group commit batches", () => {
  it("writes the changes issued in one event-loop turn with one fdatasync", async () => {
    const { close, journal } = await openSumJournal(path.join(root, "one-turn"))
    const before = journal.stats()
    // Each from its own callback of one event-loop phase, like requests read from different
    // sockets in one turn (promise jobs run between the callbacks).
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        new Promise<void>((resolve) =>
          setImmediate(() => {
            void add(journal, i).then(() => resolve())
          })
        ))
    )
    expect(journal.stats().batches - before.batches).toBe(1)
    expect(journal.stats().records - before.records).toBe(200)
    await close()
  })
})

describe("many writers on one journal", () => {
  it("keeps every assignment, exposure and metric exactly, and the same after a restart", async () => {
    const directory = path.join(root, "writers")
    const { close, store } = await openStore(directory)
    const experiment = sampleExperiment({ status: "running" })
    await Effect.runPromise(store.insert(experiment))
    const writers = 64
    const rounds = 25
    const values: Array<Array<number>> = [[], []]
    const exposures = [0, 0]
    const winners = new Map<string, number>()
    await Promise.all(Array.from({ length: writers }, async (_, writer) => {
      for (let round = 0; round < rounds; round++) {
        // Two writers race for each user: both must be told the same, first-written variant.
        const userId = `user-${Math.floor(writer / 2)}-${round}`
        const { assignment } = await Effect.runPromise(
          store.assignIfAbsent(assignmentOf(experiment, userId, writer % 2))
        )
        expect(winners.get(userId) ?? assignment.variant).toBe(assignment.variant)
        winners.set(userId, assignment.variant)
        const variant = (writer + round) % 2
        const batch = [writer, round, writer * round].map((x) => x / 7)
        values[variant]!.push(...batch)
        await Effect.runPromise(
          store.mergeMetrics(experiment.id, [{ variant, metric: "ctr", summary: summarize(batch) }])
        )
        exposures[variant]! += 1
        await Effect.runPromise(store.addExposures(experiment.id, variant === 0 ? [1, 0] : [0, 1], "2026-12-02"))
      }
    }))
    const check = async (s: ExperimentStore.ExperimentStoreShape) => {
      const { variants } = await Effect.runPromise(s.counters(experiment.id, 2))
      for (const variant of [0, 1]) {
        const expected = summarize(values[variant]!)
        const stored = variants[variant]!.metrics.ctr!
        expect(stored.count).toBe(expected.count)
        expect(stored.mean).toBeCloseTo(expected.mean, 9)
        expect(variants[variant]!.exposures).toBe(exposures[variant])
      }
      for (const [userId, variant] of winners) {
        expect((await Effect.runPromise(s.getAssignment(experiment.id, userId)))?.variant).toBe(variant)
      }
    }
    expect(winners.size).toBe((writers / 2) * rounds)
    await check(store)
    await close()
    const reopened = await openStore(directory)
    await check(reopened.store)
    await reopened.close()
  })
})

describe("a full disk under many writers (tmpfs)", () => {
  it("fails every writer of the failing batch like a single write, keeps exactly what it acknowledged", async () => {
    const mountPoint = await fs.mkdtemp(path.join(root, "tmpfs-"))
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", mountPoint])
    mounted.push(mountPoint)
    const directory = path.join(mountPoint, "data")
    const filler = path.join(mountPoint, "filler")
    const { close, store } = await openStore(directory)
    const experiment = sampleExperiment({ status: "running" })
    await Effect.runPromise(store.insert(experiment))
    // Leave about 16 KiB: a few batches of the writers below fit, then the disk is full.
    const { bavail, bsize } = await fs.statfs(mountPoint)
    await fs.writeFile(filler, Buffer.alloc(Math.max(0, bavail * bsize - 16 * 1024)))

    const acknowledgedUsers = new Set<string>()
    const failedUsers = new Set<string>()
    let acknowledgedValues = 0
    const failures: Array<StorageError> = []
    let failingRound: number | undefined
    for (let round = 0; round < 200 && failingRound === undefined; round++) {
      // 32 writers in one turn: an assignment and a metric batch each.
      await Promise.all(Array.from({ length: 32 }, async (_, writer) => {
        const userId = `user-${round}-${writer}`
        const assigned = await outcome(store.assignIfAbsent(assignmentOf(experiment, userId, writer % 2)))
        if (Result.isSuccess(assigned)) {
          acknowledgedUsers.add(userId)
        } else {
          failedUsers.add(userId)
          failures.push(assigned.failure)
        }
        const batch = Array.from({ length: 20 }, (_, i) => (round * 20 + i) / 3)
        const merged = await outcome(
          store.mergeMetrics(experiment.id, [{ variant: writer % 2, metric: "ctr", summary: summarize(batch) }])
        )
        if (Result.isSuccess(merged)) acknowledgedValues += batch.length
        else failures.push(merged.failure)
      }))
      if (failures.length > 0) failingRound = round
    }
    expect(failingRound, "the disk never filled up").toBeDefined()
    // The writers of the failing round shared batches: more than one of them failed, all alike.
    expect(failures.length).toBeGreaterThan(1)
    // Longer than a page, so it cannot fit in the slack of the file's last page.
    const single = await outcome(store.assignIfAbsent(assignmentOf(experiment, `alone-${"x".repeat(5000)}`, 0)))
    expect(Result.isFailure(single)).toBe(true)
    const singleError = (single as Result.Failure<unknown, StorageError>).failure
    expect(singleError.reason).toBe("insufficient-storage")
    expect(singleError.directory).toBe(directory)
    for (const failure of failures) {
      expect({ message: failure.message, reason: failure.reason, directory: failure.directory }).toEqual({
        message: singleError.message,
        reason: singleError.reason,
        directory: singleError.directory
      })
    }
    // Nothing of a failed batch stays, in memory or on disk; every acknowledged write does.
    const check = async (s: ExperimentStore.ExperimentStoreShape) => {
      for (const userId of acknowledgedUsers) {
        expect(await Effect.runPromise(s.getAssignment(experiment.id, userId))).toBeDefined()
      }
      for (const userId of failedUsers) {
        expect(await Effect.runPromise(s.getAssignment(experiment.id, userId))).toBeUndefined()
      }
      const { variants } = await Effect.runPromise(s.counters(experiment.id, 2))
      expect((variants[0]!.metrics.ctr?.count ?? 0) + (variants[1]!.metrics.ctr?.count ?? 0)).toBe(acknowledgedValues)
    }
    await check(store)
    // Space returns: the next write succeeds without a restart, and a restart keeps it all.
    await fs.rm(filler)
    expect(Result.isSuccess(await outcome(store.assignIfAbsent(assignmentOf(experiment, "after", 1))))).toBe(true)
    acknowledgedUsers.add("after")
    await close()
    const reopened = await openStore(directory)
    await check(reopened.store)
    await reopened.close()
  })
})
