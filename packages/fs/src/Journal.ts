/**
 * An append-only, checksummed, fsynced JSON-lines journal in front of an in-memory state: the
 * durable form of the filesystem adapters. A change is validated and applied in memory in order
 * (under one lock); its entry joins the next batch, and a single writer appends each batch with
 * one write and one fdatasync (group commit: a batch holds what arrived in the event-loop turn
 * that started it and while the previous batch was being written). Callers are acknowledged only
 * after the fsync of their batch, all of them with the batch's one outcome. A write that fails or
 * is short (ENOSPC, EIO) is cut off the file again and the in-memory state is rebuilt from the
 * file, so memory and disk stay equal and every caller of the batch, and of any change applied
 * after it, fails with the same error: nothing is acknowledged and then lost, nothing is applied
 * and not kept. A full disk is a StorageError with reason "insufficient-storage"; the
 * next write after space returns succeeds.
 *
 * On disk (see JournalFormat.ts): `<name>.jsonl` (a header line with the journal's epoch, then one
 * `<crc32> <json>` line per entry) and `<name>.manifest.json` (epoch, record count, byte length;
 * replaced atomically at most once a second, at compaction and at shutdown). When the file has
 * grown past 4x its last snapshot (and 1 MiB) it is compacted: the state, as entries, is written
 * to a new file that replaces it (temp, fsync, rename) with the next epoch. At start a torn final
 * line (a crash mid-write) is cut and logged; any other damage stops start-up naming file, line
 * and problem (see `ml-server repair`). A lock file makes one process the owner of the journal.
 */
import { type RecordDecoder, StorageError } from "@org/ml-core"
import { Effect, Exit, type Scope } from "effect"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import {
  encodeJournal,
  encodeLine,
  type JournalScan,
  type Manifest,
  manifestFile,
  readManifest,
  replaceFile,
  scanJournal,
  scanProblem,
  syncDirectory,
  toPieces,
  writeManifest,
  writeWholeFile
} from "./JournalFormat.js"
import { processIsAlive } from "./Processes.js"
import { storageFailure, writeFully } from "./StorageFailure.js"

/** A filesystem failure as a StorageError naming the journal (and, for want of space, the data directory). */
export const storageErrorOf = (directory: string, file: string, operation: string) => (cause: unknown) =>
  storageFailure(directory, `Journal ${path.basename(file)} ${operation}`, cause)

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
  /** The current in-memory state (replaced when the journal is rebuilt after a failed write). */
  readonly state: () => State
  /**
   * Runs `change` on the state under the lock and, if it succeeds and `entryOf` returns an
   * entry, returns once that entry's batch is fsynced. Without an entry it still waits for the
   * batches already queued, so it never answers from a state that is not durable yet.
   */
  readonly mutate: <A, E>(
    change: (state: State) => Effect.Effect<A, E>,
    entryOf: (result: A) => Entry | undefined
  ) => Effect.Effect<A, E | StorageError>
  /**
   * Why the journal takes no more writes (the file could not be restored after a failed write;
   * a restart replays it), or undefined while it works: for readiness checks.
   */
  readonly broken: () => StorageError | undefined
  /** Counters for tests and diagnostics: batches written (one write + one fdatasync each), records, epoch. */
  readonly stats: () => JournalStats
}

export interface JournalStats {
  readonly batches: number
  readonly records: number
  readonly bytes: number
  readonly epoch: number
}

export interface JournalOptions<State, Entry> {
  readonly directory: string
  readonly name: string
  readonly fresh: () => State
  readonly replay: (state: State, entry: Entry) => void
  /** Entries that rebuild `state` from fresh(): what compaction writes. Read synchronously. */
  readonly snapshot: (state: State) => ReadonlyArray<Entry>
  /** Decodes each line read back (the store's entry schema through storedRecord). */
  readonly entry?: RecordDecoder<Entry> | undefined
  /** The file is compacted once it is larger than this and 4x its last snapshot (default 1 MiB). */
  readonly compactAfterBytes?: number | undefined
}

/**
 * The entries that share one write and one fdatasync, and the one answer all their callers wait
 * for: undefined once the batch is durable, or the StorageError that every one of them gets.
 */
interface Batch {
  readonly lines: Array<string>
  readonly done: Promise<StorageError | undefined>
  readonly settle: (error: StorageError | undefined) => void
}

const makeBatch = (): Batch => {
  let settle!: (error: StorageError | undefined) => void
  const done = new Promise<StorageError | undefined>((resolve) => (settle = resolve))
  return { lines: [], done, settle }
}

/** Resolves in the event loop's check phase: after every request already read in this turn ran. */
const endOfTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

const MANIFEST_INTERVAL_MS = 1000

export const makeJournal = <State, Entry>(
  options: JournalOptions<State, Entry>
): Effect.Effect<Journal<State, Entry>, StorageError, Scope.Scope> =>
  Effect.gen(function*() {
    const directory = path.resolve(options.directory)
    const file = path.join(directory, `${options.name}.jsonl`)
    const lockFile = path.join(directory, `${options.name}.lock`)
    const compactAfterBytes = options.compactAfterBytes ?? 1024 * 1024
    const failure = storageErrorOf(directory, file, "write")

    let state = options.fresh()
    /** Where the file ends, records in it after the header, and what the manifest says. */
    let offset = 0
    let records = 0
    let epoch = 0
    let snapshotBytes = 0
    let manifestWrittenAt = 0
    let manifestRecords = -1
    /** The epoch the manifest on disk names: compaction waits until it names the current one. */
    let manifestEpoch = -1
    let batches = 0
    /** Set when the file could not be restored after a failed write: nothing is written any more. */
    let broken: StorageError | undefined

    const replayAll = (scan: JournalScan): State => {
      const next = options.fresh()
      for (const { line, value } of scan.records) {
        const entry = options.entry === undefined ? value as Entry : options.entry.orThrow(value, `${file}:${line}`)
        options.replay(next, entry)
      }
      return next
    }

    const currentManifest = (): Manifest => ({ journal: options.name, epoch, records, bytes: offset })

    /** Replaces the file by the state as entries (plus nothing else), with the next epoch. */
    const compact = async (entries: ReadonlyArray<Entry>) => {
      const nextEpoch = epoch + 1
      const bytes = await writeWholeFile(file, encodeJournal(options.name, nextEpoch, entries))
      epoch = nextEpoch
      offset = bytes
      records = entries.length
      snapshotBytes = bytes
      await writeCurrentManifest()
    }

    const writeCurrentManifest = async () => {
      const manifest = currentManifest()
      await writeManifest(directory, manifest)
      manifestWrittenAt = Date.now()
      manifestRecords = manifest.records
      manifestEpoch = manifest.epoch
    }
    const manifestIsCurrent = () => manifestRecords === records && manifestEpoch === epoch

    /** Reads, checks and replays the journal at start; rewrites it when it is not in the current form. */
    const load = async () => {
      const manifest = await readManifest(directory, options.name)
      const scan = await scanJournal(file, options.name)
      const problem = scanProblem(file, scan, manifest)
      if (problem !== undefined) throw new StorageError({ message: problem, directory })
      const warnings: Array<string> = []
      if (scan.torn !== undefined) {
        await fs.truncate(file, scan.validBytes)
        warnings.push(
          `Journal ${file}: cut a torn final line (bytes ${scan.validBytes}-${scan.totalBytes}, a crash mid-write)`
        )
      }
      state = replayAll(scan)
      epoch = scan.epoch ?? manifest?.epoch ?? 0
      manifestEpoch = manifest?.epoch ?? -1
      offset = scan.validBytes
      records = scan.records.length
      snapshotBytes = scan.validBytes
      // Legacy lines, a new file, or a manifest behind a finished compaction: rewrite now.
      if (scan.legacy || scan.epoch === undefined || manifest === undefined || manifest.epoch !== epoch) {
        await compact(options.snapshot(state))
      }
      return { opened: await fs.open(file, "a"), warnings }
    }

    const handle = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => {
          await fs.mkdir(directory, { recursive: true })
          await acquireLock(lockFile)
          try {
            return await load()
          } catch (cause) {
            await fs.rm(lockFile, { force: true })
            throw cause
          }
        },
        catch: storageErrorOf(directory, file, "open")
      }),
      () =>
        Effect.promise(async () => {
          while (writer !== undefined) await writer
          if (broken === undefined && !manifestIsCurrent()) {
            await writeManifest(directory, currentManifest()).catch(() => undefined)
          }
          await opened.close().catch(() => undefined)
          await fs.rm(lockFile, { force: true })
        })
    )
    for (const warning of handle.warnings) yield* Effect.logWarning(warning)
    let opened = handle.opened

    /** Appends `lines` completely and fsyncs them; on failure cuts the file back to where it was. */
    const appendChecked = async (lines: ReadonlyArray<string>): Promise<StorageError | undefined> => {
      try {
        // The file is opened for appending, so the write lands at `offset`, the end.
        const end = await writeFully(opened, toPieces(lines).map((piece) => Buffer.from(piece)), offset)
        await opened.datasync()
        offset = end
        return undefined
      } catch (cause) {
        try {
          await opened.truncate(offset)
          await opened.datasync()
        } catch (truncateCause) {
          broken = storageErrorOf(directory, file, "restore after a failed write")(truncateCause)
        }
        return failure(cause)
      }
    }

    /** The state as the file has it now (after a failed write was cut off). */
    const rebuild = async (): Promise<State | StorageError> => {
      try {
        return replayAll(await scanJournal(file, options.name))
      } catch (cause) {
        return storageErrorOf(directory, file, "reload")(cause)
      }
    }

    /** Entries applied in memory and waiting for the writer; the next batch. */
    let queued: Batch | undefined
    /** The newest batch not answered yet (queued or being written): what a change without an entry waits for. */
    let newest: Batch | undefined
    /** The single writer, while it runs (it also writes the periodic manifest). */
    let writer: Promise<void> | undefined

    /** Compaction is tried again only after the file grew this far (it failed before, e.g. no space). */
    let nextCompactionAt = 0

    /** Reopens the journal for appending (compaction closed it); a failure leaves the journal broken. */
    const reopen = async (): Promise<StorageError | undefined> => {
      try {
        opened = await fs.open(file, "a")
        return undefined
      } catch (cause) {
        broken ??= storageErrorOf(directory, file, "reopen after compaction")(cause)
        return broken
      }
    }

    /**
     * Compacts when the file has outgrown its snapshot. The snapshot is taken before anything is
     * awaited, while memory is the file plus the batch just taken from the queue, so the new file
     * makes that batch durable: true then. False when it did not compact (the batch is still to
     * be appended): not due, the state cannot be encoded, the manifest still names the previous
     * epoch and cannot be written (a start would take a file two epochs ahead of its manifest for
     * a foreign one), or writing the new file failed before it replaced the old one. Once
     * replaced, the batch is in the file and is never appended again: a failure to make the rename
     * durable breaks the journal (StorageError); a manifest that cannot be written is retried
     * later (a start accepts a file one epoch ahead of its manifest).
     */
    const compactWithQueuedBatch = async (): Promise<boolean | StorageError> => {
      if (offset <= compactAfterBytes || offset <= 4 * snapshotBytes || offset < nextCompactionAt) return false
      const skip = (why: string) => {
        logWarning(`Journal ${file}: compaction skipped, the log is kept: ${why}`)
        nextCompactionAt = offset + compactAfterBytes
        return false
      }
      // Snapshot and encoding in one synchronous step (later changes must not show in it); a
      // failure here must not stop the writer, whose callers would wait forever.
      const nextEpoch = epoch + 1
      let entryCount: number
      let text: Array<string>
      try {
        const entries = options.snapshot(state)
        entryCount = entries.length
        text = encodeJournal(options.name, nextEpoch, entries)
      } catch (cause) {
        return skip(`the state cannot be encoded: ${String(cause)}`)
      }
      if (manifestEpoch !== epoch) {
        try {
          await writeCurrentManifest()
        } catch (cause) {
          return skip(`the manifest cannot be written: ${String(cause)}`)
        }
      }
      let bytes: number
      try {
        await opened.close()
        bytes = await replaceFile(file, text)
      } catch (cause) {
        return (await reopen()) ?? skip(String(cause))
      }
      epoch = nextEpoch
      offset = bytes
      records = entryCount
      snapshotBytes = bytes
      batches++
      const reopened = await reopen()
      if (reopened !== undefined) return reopened
      try {
        await syncDirectory(directory)
      } catch (cause) {
        broken ??= storageErrorOf(directory, file, "compaction (directory fsync)")(cause)
        return broken
      }
      await writeCurrentManifest().catch((cause) => {
        logWarning(`Journal ${file}: manifest not written after compaction, retried later: ${String(cause)}`)
      })
      return true
    }

    const writeManifestSometimes = async () => {
      if (manifestIsCurrent() || Date.now() - manifestWrittenAt < MANIFEST_INTERVAL_MS) return
      await writeCurrentManifest().catch(() => {
        manifestWrittenAt = Date.now()
        manifestRecords = -1
      })
    }

    /**
     * Writes behind by at most an interval once writes stop: a burst's later batches skip the
     * manifest, and a crash after it must not leave one that a cut journal would still satisfy.
     * Runs as the writer, so it never races an append or a compaction.
     */
    const catchUpManifest = () => {
      if (writer !== undefined || broken !== undefined || manifestIsCurrent()) return
      writer = (async () => {
        await writeManifestSometimes()
        writer = undefined
        if (queued !== undefined) writer = writeQueued()
      })()
    }
    const manifestTimer = setInterval(catchUpManifest, MANIFEST_INTERVAL_MS)
    manifestTimer.unref()
    yield* Effect.addFinalizer(() => Effect.sync(() => clearInterval(manifestTimer)))

    /** The queued entries as the next batch; new entries start another. */
    const takeQueued = () => {
      const batch = queued
      queued = undefined
      return batch
    }

    /**
     * The writer: takes everything queued as one batch (group commit: what arrives while a batch is
     * being written waits for the next), appends it with one write and one fdatasync, and answers
     * all of its callers at once.
     */
    const writeQueued = async () => {
      for (let batch = takeQueued(); batch !== undefined; batch = takeQueued()) {
        let error = broken
        if (error === undefined) {
          const compacted = await compactWithQueuedBatch()
          if (compacted === true) {
            batch.settle(undefined)
            continue
          }
          error = compacted === false ? await appendChecked(batch.lines) : compacted
        }
        if (error === undefined) {
          batches++
          records += batch.lines.length
          // Before the answers: once a caller is acknowledged, nothing of its batch is still being written.
          await writeManifestSometimes()
          batch.settle(undefined)
          continue
        }
        // Memory ran ahead of the file: go back to what the file holds. Changes applied after
        // this batch were applied on top of it, so they fail too (taken at the swap, in one step).
        const rebuilt = await rebuild()
        const later = takeQueued()
        if (rebuilt instanceof StorageError) broken ??= rebuilt
        else state = rebuilt
        batch.settle(error)
        later?.settle(error)
      }
      writer = undefined
    }

    const enqueue = (entry: Entry): Batch => {
      let batch = queued
      if (batch === undefined) {
        const next = makeBatch()
        batch = queued = newest = next
        void next.done.then(() => {
          if (newest === next) newest = undefined
        })
      }
      batch.lines.push(encodeLine(JSON.stringify(entry)))
      // The first entry after a pause waits for the end of the event-loop turn, so the requests
      // read in the same turn share its fsync; later ones join while a batch is being written.
      writer ??= endOfTurn().then(writeQueued)
      return batch
    }

    const waitFor = (batch: Batch | undefined) =>
      batch === undefined
        ? Effect.void
        : Effect.flatMap(
          Effect.promise(() => batch.done),
          (error) => (error === undefined ? Effect.void : Effect.fail(error))
        )

    // Synchronous from the change to the queueing of its entry: the writer (snapshots, the swap
    // after a failed write) never sees a change applied and not queued. Changes must be synchronous.
    const apply = <A, E>(change: (state: State) => Effect.Effect<A, E>, entryOf: (result: A) => Entry | undefined) =>
      Effect.suspend((): Effect.Effect<{ result: A; batch: Batch | undefined }, E | StorageError> => {
        if (broken !== undefined) return Effect.fail(broken)
        const exit = Effect.runSyncExit(change(state))
        if (Exit.isFailure(exit)) return Effect.failCause(exit.cause)
        const entry = entryOf(exit.value)
        return Effect.succeed({ result: exit.value, batch: entry === undefined ? newest : enqueue(entry) })
      })

    return {
      state: () => state,
      stats: () => ({ batches, records, bytes: offset, epoch }),
      broken: () => broken,
      mutate: (change, entryOf) =>
        Effect.flatMap(apply(change, entryOf), ({ batch, result }) => Effect.as(waitFor(batch), result))
    }
  })

const logWarning = (message: string) => Effect.runFork(Effect.logWarning(message))

/** Replays an Effect that the in-memory stores run synchronously; replay must not fail. */
export const replaySync = (effect: Effect.Effect<unknown, unknown>, file: string): void => {
  const exit = Effect.runSyncExit(effect)
  if (exit._tag === "Failure") throw new StorageError({ message: `Journal ${file} does not replay cleanly` })
}

export { manifestFile }
