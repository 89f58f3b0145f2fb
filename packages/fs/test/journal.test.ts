// The journal under real faults: a full disk (a small tmpfs this test mounts), concurrent writers
// (group commit), and damaged files at start (torn, truncated, deleted, bad checksum, foreign).
import { DriftStore, type ModelStore } from "@org/ml-core"
import { sampleEvent, sampleModel, sampleMonitor } from "@org/ml-core/testing"
import { Effect, Exit, Scope } from "effect"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { FsDriftStore, FsModelStore, makeJournal, repairDataDirectory } from "../src/index.js"
import { add, openSumJournal } from "./sumJournal.js"

const root = await fs.mkdtemp(path.join(os.tmpdir(), "ml-journal-test-"))
afterAll(() => fs.rm(root, { recursive: true, force: true }))

/** Opens the registry store on `directory`; close() releases it like a clean shutdown. */
const open = async (directory: string) => {
  const scope = Effect.runSync(Scope.make())
  const store = await Effect.runPromise(Scope.provide(scope)(FsModelStore.make({ directory })))
  return { store, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}
const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(Effect.exit(effect))

const registerModel = (store: ModelStore.ModelStoreShape, description: string) => {
  const model = sampleModel({ description })
  return run(store.insert(model, sampleEvent(model))).then((exit) => ({ model, exit }))
}

describe("journal on a full disk (tmpfs)", () => {
  it("never acknowledges a write that did not fit, keeps the file whole, and recovers when space returns", async () => {
    const mountPoint = await fs.mkdtemp(path.join(root, "tmpfs-"))
    // Fails loudly (not skipped) when the test cannot mount: it needs root.
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", mountPoint])
    try {
      const directory = path.join(mountPoint, "data")
      const filler = path.join(mountPoint, "filler")
      const { store, close } = await open(directory)
      // Leave about 12 KiB free.
      const { bavail, bsize } = await fs.statfs(mountPoint)
      await fs.writeFile(filler, Buffer.alloc(Math.max(0, bavail * bsize - 12 * 1024)))
      const acknowledged: Array<string> = []
      let failure: unknown
      for (let round = 0; round < 20 && failure === undefined; round++) {
        const outcomes = await Promise.all([0, 1, 2].map(() => registerModel(store, "d".repeat(4000))))
        for (const { exit, model } of outcomes) {
          if (Exit.isSuccess(exit)) acknowledged.push(model.id)
          else failure ??= Exit.isFailure(exit) ? exit.cause : undefined
        }
      }
      expect(failure, "the disk never filled up").toBeDefined()
      // Every acknowledged model is readable now and every journal line is whole.
      for (const id of acknowledged) expect(await Effect.runPromise(store.get(id))).toBeDefined()
      // Space returns: the next write succeeds without a restart.
      await fs.rm(filler)
      const after = await registerModel(store, "after")
      expect(Exit.isSuccess(after.exit)).toBe(true)
      acknowledged.push(after.model.id)
      const listed = await Effect.runPromise(store.list({ limit: 500 }))
      await close()
      // And after a restart: exactly the acknowledged models, nothing half-written.
      const reopened = await open(directory)
      for (const id of acknowledged) expect(await Effect.runPromise(reopened.store.get(id))).toBeDefined()
      expect((await Effect.runPromise(reopened.store.list({ limit: 500 }))).map((m) => m.id)).toEqual(
        listed.map((m) => m.id)
      )
      await reopened.close()
      const error = JSON.stringify(failure)
      expect(error).toContain("insufficient-storage")
      expect(error).toContain(directory)
    } finally {
      execFileSync("umount", ["-l", mountPoint])
    }
  })
})

describe("journal group commit", () => {
  it("acknowledges concurrent writers after fsyncing them together, in order", async () => {
    const directory = path.join(root, "group")
    const { store, close } = await open(directory)
    const models = Array.from({ length: 200 }, () => sampleModel())
    const exits = await Promise.all(models.map((m) => run(store.insert(m, sampleEvent(m)))))
    expect(exits.every(Exit.isSuccess)).toBe(true)
    await close()
    const reopened = await open(directory)
    for (const m of models) expect(await Effect.runPromise(reopened.store.get(m.id))).toEqual(m)
    await reopened.close()
  })
})

/** A registry journal with `count` models, closed cleanly; returns the models and the journal's path. */
const registryWith = async (name: string, count: number) => {
  const directory = path.join(root, name)
  const { close, store } = await open(directory)
  const models = Array.from({ length: count }, () => sampleModel())
  for (const m of models) await Effect.runPromise(store.insert(m, sampleEvent(m)))
  await close()
  return { directory, file: path.join(directory, "registry.jsonl"), models }
}
const startFailure = async (directory: string) => {
  const scope = Effect.runSync(Scope.make())
  const exit = await Effect.runPromise(Effect.exit(Scope.provide(scope)(FsModelStore.make({ directory }))))
  await Effect.runPromise(Scope.close(scope, Exit.void))
  return Exit.isFailure(exit) ? String(exit.cause) : "started"
}
const modelIds = async (directory: string) => {
  const { close, store } = await open(directory)
  const ids = (await Effect.runPromise(store.list({ limit: 1000 }))).map((m) => m.id)
  await close()
  return ids
}

describe("journal damage is detected at start and repaired on request", () => {
  it("refuses a journal cut in the middle, naming it; repair keeps the valid prefix, reports the rest", async () => {
    const { directory, file, models } = await registryWith("cut", 20)
    const { size } = await fs.stat(file)
    await fs.truncate(file, Math.floor(size / 2))
    const failure = await startFailure(directory)
    expect(failure).toContain(file)
    expect(failure).toMatch(/truncated/)
    expect(failure).toContain("ml-server repair")
    const report = await repairDataDirectory(directory)
    const registry = report.journals.find((j) => j.journal === "registry")!
    expect(registry.changed).toBe(true)
    expect(registry.keptRecords).toBeGreaterThan(0)
    expect(registry.keptRecords).toBeLessThan(20)
    expect(registry.missingRecords).toBe(20 - registry.keptRecords)
    expect(registry.droppedLines).toBe(1)
    expect(registry.droppedBytes).toEqual([registry.keptBytes, Math.floor(size / 2)])
    expect(await modelIds(directory)).toEqual(models.slice(0, registry.keptRecords).map((m) => m.id))
  })

  it("brings the manifest up to date soon after writes stop, so a crash then a cut is still detected", async () => {
    // A crash (no clean close) right after a burst of writes: the manifest must not stay at the
    // burst's first batch, or a journal later cut at a line boundary would start with half its models.
    const directory = path.join(root, "burst")
    const { close, store } = await open(directory)
    for (let i = 0; i < 10; i++) await Effect.runPromise(store.insert(sampleModel(), sampleEvent(sampleModel())))
    const manifestRecords = async () =>
      JSON.parse(await fs.readFile(path.join(directory, "registry.manifest.json"), "utf8")).records as number
    for (let waited = 0; waited < 10_000 && await manifestRecords() !== 10; waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect(await manifestRecords()).toBe(10)
    await close()
  })

  it("refuses a deleted journal whose manifest says it held records", async () => {
    const { directory, file } = await registryWith("deleted", 3)
    await fs.rm(file)
    expect(await startFailure(directory)).toMatch(/missing although its manifest says it held 3 records/)
    const report = await repairDataDirectory(directory)
    expect(report.journals[0]).toMatchObject({ journal: "registry", keptRecords: 0, missingRecords: 3, changed: true })
    expect(await modelIds(directory)).toEqual([])
  })

  it("refuses a line whose checksum does not match, and a foreign line, naming the line", async () => {
    const { directory, file } = await registryWith("checksum", 3)
    const lines = (await fs.readFile(file, "utf8")).split("\n")
    const original = lines[2]!
    lines[2] = original.replace("churn", "chorn")
    await fs.writeFile(file, lines.join("\n"))
    expect(await startFailure(directory)).toMatch(/registry\.jsonl is damaged at line 3 .*checksum mismatch/)
    lines[2] = original.slice(9) // the same entry without its checksum: a foreign line
    await fs.writeFile(file, lines.join("\n"))
    expect(await startFailure(directory)).toMatch(/damaged at line 3 .*foreign line/)
    const report = await repairDataDirectory(directory)
    expect(report.journals[0]).toMatchObject({ keptRecords: 1, droppedLines: 2 })
  })

  it("cuts a torn final line (a crash mid-append) and logs it", async () => {
    const { directory, file, models } = await registryWith("torn-final", 2)
    await fs.appendFile(file, "0badc0de {\"op\":\"ins")
    expect(await modelIds(directory)).toEqual(models.map((m) => m.id))
    expect((await fs.readFile(file, "utf8")).endsWith("\n")).toBe(true)
  })

  it("reads a journal of the release before checksums and rewrites it in the current format", async () => {
    const directory = path.join(root, "legacy")
    await fs.mkdir(directory, { recursive: true })
    const models = [sampleModel({ name: "legacy" }), sampleModel({ name: "legacy" })]
    const legacyLines = models.map((model) => JSON.stringify({ op: "insert", model, event: sampleEvent(model) }))
    const promoted = { ...models[0]!, status: "testing" as const, revision: models[0]!.revision + 1 }
    legacyLines.push(JSON.stringify({ op: "commit", put: [promoted], events: [sampleEvent(promoted)] }))
    await fs.writeFile(path.join(directory, "registry.jsonl"), legacyLines.join("\n") + "\n")
    const { close, store } = await open(directory)
    expect(await Effect.runPromise(store.get(models[0]!.id))).toEqual(promoted)
    expect(await Effect.runPromise(store.historyOf(models[0]!.id))).toHaveLength(2)
    await close()
    const text = await fs.readFile(path.join(directory, "registry.jsonl"), "utf8")
    expect(text).toMatch(/^[0-9a-f]{8} \{"journal":"registry","epoch":1\}\n/)
    expect(await modelIds(directory)).toEqual(models.map((m) => m.id))
  })
})

describe("journal batches", () => {
  it("writes concurrent changes with one write and one fdatasync per batch, in the order applied", async () => {
    const directory = path.join(root, "batches")
    const scope = Effect.runSync(Scope.make())
    const journal = await Effect.runPromise(
      Scope.provide(scope)(makeJournal<{ order: Array<number> }, number>({
        directory,
        name: "order",
        fresh: () => ({ order: [] }),
        replay: (state, n) => void state.order.push(n),
        snapshot: (state) => state.order
      }))
    )
    const acknowledged = await Promise.all(
      Array.from(
        { length: 300 },
        (_, i) => Effect.runPromise(journal.mutate((s) => Effect.sync(() => s.order.push(i)), () => i)).then(() => i)
      )
    )
    expect(acknowledged).toHaveLength(300)
    const { batches, records } = journal.stats()
    expect(records).toBe(300)
    // Group commit: the writes that queue up during one fsync share the next.
    expect(batches).toBeLessThan(100)
    const order = journal.state().order
    await Effect.runPromise(Scope.close(scope, Exit.void))
    const lines = (await fs.readFile(path.join(directory, "order.jsonl"), "utf8")).trim().split("\n").slice(1)
    expect(lines.map((l) => Number(l.slice(9)))).toEqual(order)
  })
})

describe("journal compaction", () => {
  it("rewrites the journal as a snapshot once it outgrows it, so its size stays bounded", async () => {
    const directory = path.join(root, "compaction")
    const openCounter = () => openSumJournal(directory, { compactAfterBytes: 500 })
    const { close, journal } = await openCounter()
    for (let i = 1; i <= 600; i++) {
      await add(journal, i)
    }
    // Under concurrent writers the queue is never empty: the snapshot then includes the queued batch.
    await Promise.all(
      Array.from(
        { length: 600 },
        (_, i) => add(journal, i + 601)
      )
    )
    // Compaction runs before the next batch is written, and takes that batch into the snapshot.
    await Effect.runPromise(journal.mutate((s) => Effect.sync(() => s.total), () => 0))
    expect(journal.state().total).toBe(720600)
    expect((await fs.stat(path.join(directory, "sum.jsonl"))).size).toBeLessThan(1000)
    await close()
    const manifest = JSON.parse(await fs.readFile(path.join(directory, "sum.manifest.json"), "utf8"))
    expect(manifest.epoch).toBeGreaterThan(10)
    const reopened = await openCounter()
    expect(reopened.journal.state().total).toBe(720600)
    await reopened.close()
  })

  it("keeps each batch once when the manifest cannot be written after a compaction, also across a crash", async () => {
    // The compacted file already holds the batch taken into its snapshot: appending that batch again
    // because the manifest write failed would count it twice at the next start.
    const directory = path.join(root, "compaction-manifest")
    const openCounter = (at: string) => openSumJournal(at, { compactAfterBytes: 200 })
    const { close, journal } = await openCounter(directory)
    // A directory where the manifest's temp file goes makes every manifest write fail (EISDIR).
    const blocker = path.join(directory, "sum.manifest.json.tmp")
    await fs.mkdir(blocker)
    let expected = 0
    for (let i = 1; i <= 60; i++) {
      expected += i
      await add(journal, i)
    }
    expect(journal.state().total).toBe(expected)
    expect(journal.stats().epoch, "no compaction happened").toBeGreaterThan(1)
    // What a SIGKILL now would leave: the files as they are (no shutdown manifest).
    const crashed = path.join(root, "compaction-manifest-crashed")
    await fs.mkdir(crashed)
    for (const name of ["sum.jsonl", "sum.manifest.json"]) {
      await fs.copyFile(path.join(directory, name), path.join(crashed, name))
    }
    const afterCrash = await openCounter(crashed)
    expect(afterCrash.journal.state().total).toBe(expected)
    await afterCrash.close()
    // Space for the manifest returns: the shutdown writes it, and a restart reads each batch once.
    await fs.rmdir(blocker)
    await close()
    const reopened = await openCounter(directory)
    expect(reopened.journal.state().total).toBe(expected)
    await reopened.close()
  })
})

describe("journal compaction that cannot encode its snapshot", () => {
  it("keeps appending and answering every write", async () => {
    // E.g. a state too large for one string: the writer must not stop (its callers would wait forever).
    const directory = path.join(root, "compaction-throws")
    let failSnapshots = false
    const { close, journal } = await openSumJournal(directory, {
      compactAfterBytes: 200,
      snapshot: (state) => {
        if (failSnapshots) throw new RangeError("Invalid string length")
        return [state.total]
      }
    })
    failSnapshots = true
    const unanswered = new Promise<string>((resolve) => setTimeout(() => resolve("never answered"), 20_000).unref())
    for (let i = 1; i <= 40; i++) {
      const answered = add(journal, i)
      expect(await Promise.race([answered.then(() => "answered"), unanswered])).toBe("answered")
    }
    expect(journal.stats().epoch).toBe(1)
    await close()
    failSnapshots = false
    const reopened = await openSumJournal(directory)
    expect(reopened.journal.state().total).toBe(820)
    await reopened.close()
  }, 60_000)
})

describe("drift windows", () => {
  it("folds a drift-windows.json of the previous release into the journal once, then removes it", async () => {
    const directory = path.join(root, "drift-upgrade")
    const monitor = sampleMonitor()
    const use = <A, E>(program: Effect.Effect<A, E, DriftStore.DriftStore>) =>
      Effect.runPromise(Effect.provide(program, FsDriftStore.layer({ directory })) as Effect.Effect<A, E>)
    await use(DriftStore.DriftStore.use((s) => s.insertMonitor(monitor)))
    const windowsFile = path.join(directory, "drift-windows.json")
    await fs.writeFile(windowsFile, JSON.stringify({ [monitor.id]: { amount: [1, 2, null] } }))
    expect(await use(DriftStore.DriftStore.use((s) => s.window(monitor.id, "amount")))).toEqual([1, 2, null])
    await expect(fs.access(windowsFile)).rejects.toThrow()
    await use(DriftStore.DriftStore.use((s) => s.pushWindows(monitor.id, { amount: [3] }, 3)))
    expect(await use(DriftStore.DriftStore.use((s) => s.window(monitor.id, "amount")))).toEqual([2, null, 3])
  })

  it("records 300,000 values in one call durably and replays them after a restart", async () => {
    const directory = path.join(root, "drift-big")
    const monitor = sampleMonitor()
    const use = <A, E>(program: Effect.Effect<A, E, DriftStore.DriftStore>) =>
      Effect.runPromise(Effect.provide(program, FsDriftStore.layer({ directory })) as Effect.Effect<A, E>)
    const values = Array.from({ length: 300_000 }, (_, i) => i)
    await use(
      DriftStore.DriftStore.use((s) =>
        Effect.andThen(s.insertMonitor(monitor), s.pushWindows(monitor.id, { amount: values }, 400_000))
      )
    )
    const window = await use(DriftStore.DriftStore.use((s) => s.window(monitor.id, "amount")))
    expect(window).toHaveLength(300_000)
    expect(window[299_999]).toBe(299_999)
  })

  it("stops start-up at a garbage drift-windows.json, naming it", async () => {
    const directory = path.join(root, "drift-garbage")
    await fs.mkdir(directory, { recursive: true })
    await fs.writeFile(path.join(directory, "drift-windows.json"), "{not json")
    const exit = await Effect.runPromiseExit(
      Effect.provide(DriftStore.DriftStore.use((s) => s.listMonitors()), FsDriftStore.layer({ directory }))
    )
    expect(Exit.isFailure(exit) ? String(exit.cause) : "").toContain("drift-windows.json")
  })
})
