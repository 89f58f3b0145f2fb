/**
 * Model metadata and audit trail on disk as an append-only journal (`<dir>/registry.jsonl`):
 * one line per committed change, holding the models it writes and the audit events it appends.
 * A line is appended and fsynced before the change is acknowledged, so a promotion, the
 * demotion it causes and their audit events are durable together or not at all. At start-up
 * the journal is replayed into the reference in-memory store; a torn last line (a crash
 * mid-append) is cut off. One server process owns a data directory at a time (a lock file
 * enforces it); several instances share state through the Redis adapter instead.
 */
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { type AuditEvent, type Model, ModelStore, StorageError } from "@org/ml-core"
import { Effect, Exit, Layer, Semaphore } from "effect"

export interface FsModelStoreOptions {
  readonly directory: string
}

type JournalEntry =
  | { readonly op: "insert"; readonly model: Model; readonly event: AuditEvent }
  | { readonly op: "commit"; readonly put: ReadonlyArray<Model>; readonly events: ReadonlyArray<AuditEvent> }

const fail = (operation: string) => (cause: unknown) =>
  cause instanceof StorageError
    ? cause
    : new StorageError({ message: `Registry journal ${operation} failed: ${cause instanceof Error ? cause.message : String(cause)}`, cause })

/** Reads the journal, cutting a torn final line; a damaged line elsewhere stops start-up. */
const readJournal = async (file: string): Promise<ReadonlyArray<JournalEntry>> => {
  let text: string
  try {
    text = await fs.readFile(file, "utf8")
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "ENOENT") return []
    throw cause
  }
  const complete = text.lastIndexOf("\n") + 1
  if (complete < text.length) await fs.truncate(file, Buffer.byteLength(text.slice(0, complete)))
  const lines = text.slice(0, complete).split("\n").filter((line) => line.length > 0)
  return lines.map((line, index) => {
    try {
      return JSON.parse(line) as JournalEntry
    } catch {
      throw new StorageError({ message: `Registry journal ${file} is damaged at line ${index + 1}; restore it from a backup` })
    }
  })
}

const acquireLock = async (lockFile: string) => {
  try {
    await fs.writeFile(lockFile, String(process.pid), { flag: "wx" })
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== "EEXIST") throw cause
    const owner = Number(await fs.readFile(lockFile, "utf8").catch(() => "0"))
    let alive = false
    try {
      if (owner > 0 && owner !== process.pid) {
        process.kill(owner, 0)
        alive = true
      }
    } catch {
      alive = false
    }
    if (alive) throw new StorageError({ message: `Data directory is in use by process ${owner} (${lockFile}); use Redis to share state between instances` })
    await fs.writeFile(lockFile, String(process.pid))
  }
}

export const make = (options: FsModelStoreOptions) =>
  Effect.gen(function*() {
    const directory = path.resolve(options.directory)
    const file = path.join(directory, "registry.jsonl")
    const lockFile = path.join(directory, "registry.lock")
    const mutex = yield* Semaphore.make(1)
    let state = yield* ModelStore.makeMemory

    const replay = async (): Promise<ModelStore.ModelStoreShape> => {
      const fresh = Effect.runSync(ModelStore.makeMemory)
      for (const entry of await readJournal(file)) {
        const applied: Exit.Exit<void, unknown> = entry.op === "insert"
          ? Effect.runSyncExit(fresh.insert(entry.model, entry.event))
          : Effect.runSyncExit(fresh.commit({ expected: [], put: entry.put, events: entry.events }))
        if (Exit.isFailure(applied)) throw new StorageError({ message: `Registry journal ${file} does not replay cleanly` })
      }
      return fresh
    }

    const handle = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => {
          await fs.mkdir(directory, { recursive: true })
          await acquireLock(lockFile)
          state = await replay()
          return fs.open(file, "a")
        },
        catch: fail("open")
      }),
      (h) => Effect.promise(async () => {
        await h.close().catch(() => undefined)
        await fs.rm(lockFile, { force: true })
      })
    )

    const append = (entry: JournalEntry) =>
      Effect.tryPromise({
        try: async () => {
          await handle.write(JSON.stringify(entry) + "\n")
          await handle.datasync()
        },
        catch: fail("append")
      }).pipe(
        // The memory state ran ahead of a failed write: rebuild it from the journal, the truth.
        Effect.tapError(() => Effect.tryPromise({ try: async () => void (state = await replay()), catch: fail("reload") }).pipe(Effect.ignore))
      )

    /** Validates and applies a change in memory, then makes it durable, all under one lock. */
    const mutate = <E>(apply: () => Effect.Effect<void, E>, entry: JournalEntry) =>
      mutex.withPermits(1)(Effect.andThen(Effect.suspend(apply), append(entry)))

    return ModelStore.ModelStore.of({
      insert: (model, event) => mutate(() => state.insert(model, event), { op: "insert", model, event }),
      commit: (change) => mutate(() => state.commit(change), { op: "commit", put: change.put, events: change.events }),
      get: (id) => Effect.suspend(() => state.get(id)),
      findByNameVersion: (name, version) => Effect.suspend(() => state.findByNameVersion(name, version)),
      productionOf: (name) => Effect.suspend(() => state.productionOf(name)),
      list: (query) => Effect.suspend(() => state.list(query)),
      countByStatus: () => Effect.suspend(() => state.countByStatus()),
      historyOf: (id) => Effect.suspend(() => state.historyOf(id)),
      historyOfName: (name) => Effect.suspend(() => state.historyOfName(name)),
      ping: () =>
        Effect.tryPromise({
          try: () => fs.access(directory, fs.constants.W_OK),
          catch: (cause) => new StorageError({ message: `Data directory ${directory} is not writable`, cause })
        })
    })
  })

export const layer = (options: FsModelStoreOptions): Layer.Layer<ModelStore.ModelStore, StorageError> =>
  Layer.effect(ModelStore.ModelStore, make(options))
