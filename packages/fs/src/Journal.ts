/**
 * An append-only, fsynced JSON-lines journal in front of an in-memory state: the durable form
 * of the filesystem adapters. Each change is validated and applied in memory, then appended and
 * fsynced before it is acknowledged, under one lock; at start-up the journal is replayed (a torn
 * final line from a crash is cut off). A lock file makes one process the owner of the journal.
 */
import { type RecordDecoder, StorageError } from "@org/ml-core"
import { Effect, type Scope, Semaphore } from "effect"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { processIsAlive } from "./Processes.js"

const fail = (file: string, operation: string) => (cause: unknown) =>
  cause instanceof StorageError
    ? cause
    : new StorageError({
      message: `Journal ${path.basename(file)} ${operation} failed: ${
        cause instanceof Error ? cause.message : String(cause)
      }`,
      cause
    })

/**
 * Reads the journal, cutting a torn final line; a damaged line elsewhere stops start-up with a
 * StorageError naming the file and line (also a line that is JSON but not a valid entry).
 */
const readEntries = async <Entry>(file: string, decoder?: RecordDecoder<Entry>): Promise<ReadonlyArray<Entry>> => {
  let text: string
  try {
    text = await fs.readFile(file, "utf8")
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "ENOENT") return []
    throw cause
  }
  const complete = text.lastIndexOf("\n") + 1
  if (complete < text.length) await fs.truncate(file, Buffer.byteLength(text.slice(0, complete)))
  return text.slice(0, complete).split("\n").filter((line) => line.length > 0).map((line, index) => {
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch {
      throw new StorageError({ message: `Journal ${file} is damaged at line ${index + 1}; restore it from a backup` })
    }
    return decoder === undefined ? value as Entry : decoder.orThrow(value, `${file}:${index + 1}`)
  })
}

const acquireLock = async (lockFile: string) => {
  try {
    await fs.writeFile(lockFile, String(process.pid), { flag: "wx" })
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== "EEXIST") throw cause
    const owner = Number(await fs.readFile(lockFile, "utf8").catch(() => "0"))
    if (owner !== process.pid && processIsAlive(owner)) {
      throw new StorageError({
        message:
          `Data directory is in use by process ${owner} (${lockFile}); use Redis to share state between instances`
      })
    }
    await fs.writeFile(lockFile, String(process.pid))
  }
}

export interface Journal<State, Entry> {
  /** The current in-memory state (replaced when the journal is replayed after a failed write). */
  readonly state: () => State
  /**
   * Runs `change` on the state under the lock and, if it succeeds and `entryOf` returns an
   * entry, appends and fsyncs that entry before returning.
   */
  readonly mutate: <A, E>(
    change: (state: State) => Effect.Effect<A, E>,
    entryOf: (result: A) => Entry | undefined
  ) => Effect.Effect<A, E | StorageError>
}

export const makeJournal = <State, Entry>(options: {
  readonly directory: string
  readonly name: string
  readonly fresh: () => State
  readonly replay: (state: State, entry: Entry) => void
  /** Decodes each line read back (the store's entry schema through storedRecord). */
  readonly entry?: RecordDecoder<Entry> | undefined
}): Effect.Effect<Journal<State, Entry>, StorageError, Scope.Scope> =>
  Effect.gen(function*() {
    const directory = path.resolve(options.directory)
    const file = path.join(directory, `${options.name}.jsonl`)
    const lockFile = path.join(directory, `${options.name}.lock`)
    const mutex = yield* Semaphore.make(1)
    let state = options.fresh()
    const rebuild = async () => {
      const next = options.fresh()
      for (const entry of await readEntries<Entry>(file, options.entry)) options.replay(next, entry)
      state = next
    }
    const handle = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => {
          await fs.mkdir(directory, { recursive: true })
          await acquireLock(lockFile)
          await rebuild()
          return fs.open(file, "a")
        },
        catch: fail(file, "open")
      }),
      (h) =>
        Effect.promise(async () => {
          await h.close().catch(() => undefined)
          await fs.rm(lockFile, { force: true })
        })
    )
    const append = (entry: Entry) =>
      Effect.tryPromise({
        try: async () => {
          await handle.write(JSON.stringify(entry) + "\n")
          await handle.datasync()
        },
        catch: fail(file, "append")
      }).pipe(
        // The memory state ran ahead of a failed write: rebuild it from the journal, the truth.
        Effect.tapError(() => Effect.tryPromise({ try: rebuild, catch: fail(file, "reload") }).pipe(Effect.ignore))
      )
    return {
      state: () => state,
      mutate: (change, entryOf) =>
        mutex.withPermits(1)(Effect.gen(function*() {
          const result = yield* change(state)
          const entry = entryOf(result)
          if (entry !== undefined) yield* append(entry)
          return result
        }))
    }
  })

/** Replays an Effect that the in-memory stores run synchronously; replay must not fail. */
export const replaySync = (effect: Effect.Effect<unknown, unknown>, file: string): void => {
  const exit = Effect.runSyncExit(effect)
  if (exit._tag === "Failure") throw new StorageError({ message: `Journal ${file} does not replay cleanly` })
}
