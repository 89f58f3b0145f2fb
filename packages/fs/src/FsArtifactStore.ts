/**
 * Artifacts on disk under `<dir>/artifacts/<model id>/<sha256>`. Uploads stream through
 * node:crypto's SHA-256 into a temp file (constant memory for any size) with every write checked
 * (short writes continue, a full disk is a StorageError "insufficient-storage" naming the data
 * directory), are fsynced, re-read and verified (size and SHA-256 of what is on disk), and land
 * by atomic rename, its directory fsynced, only when complete, within the limit and matching the
 * expected digest; a failed upload leaves no file behind. A crash or disconnect leaves at most a
 * temp file, which a later start removes. Several instances may share the directory. Paths are
 * built only from validated ids, so nothing a request says can escape the directory.
 */
import { ArtifactStore, ArtifactTooLargeError, IntegrityError, StorageError, ulidPattern } from "@org/ml-core"
import { Effect, Layer } from "effect"
import { createHash, randomUUID } from "node:crypto"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { processIsAlive } from "./Processes.js"
import { storageFailure, writeFully } from "./StorageFailure.js"

const sha256Pattern = /^[0-9a-f]{64}$/

export interface FsArtifactStoreOptions {
  readonly directory: string
}

const checkedPath = (root: string, modelId: string, sha256?: string): string => {
  if (!ulidPattern.test(modelId)) {
    throw new StorageError({ message: `Refusing artifact path for invalid model id ${JSON.stringify(modelId)}` })
  }
  if (sha256 !== undefined && !sha256Pattern.test(sha256)) {
    throw new StorageError({ message: `Refusing artifact path for invalid digest ${JSON.stringify(sha256)}` })
  }
  return sha256 === undefined ? path.join(root, modelId) : path.join(root, modelId, sha256)
}

const fsyncDirectory = async (directory: string) => {
  const handle = await fs.open(directory, "r")
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

const blockSize = 1 << 20 // 1 MiB: large enough to amortise syscalls, small enough for constant memory

/**
 * SHA-256 of an open file from the start. Reads are double-buffered: the next block is read
 * while the current one is hashed, so verification runs at hashing speed, not read + hash.
 */
const hashHandle = async (handle: fs.FileHandle): Promise<string> => {
  const hash = createHash("sha256")
  let current = new Uint8Array(blockSize)
  let spare = new Uint8Array(blockSize)
  let position = 0
  let reading = handle.read(current, 0, blockSize, 0)
  for (;;) {
    const { bytesRead } = await reading
    if (bytesRead === 0) return hash.digest("hex")
    position += bytesRead
    reading = handle.read(spare, 0, blockSize, position)
    hash.update(current.subarray(0, bytesRead))
    ;[current, spare] = [spare, current]
  }
}

/**
 * A pull-based stream over an open file that closes the handle at the end or on cancel.
 * (Readable.toWeb over a read stream left HTTP connections busy after the response in tests,
 * which delayed graceful shutdown; this stream ends cleanly.)
 */
const streamHandle = (handle: fs.FileHandle): ReadableStream<Uint8Array> => {
  let position = 0
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const buffer = new Uint8Array(blockSize)
      const { bytesRead } = await handle.read(buffer, 0, blockSize, position)
      if (bytesRead === 0) {
        await handle.close()
        controller.close()
        return
      }
      position += bytesRead
      controller.enqueue(bytesRead === blockSize ? buffer : buffer.subarray(0, bytesRead))
    },
    async cancel() {
      await handle.close()
    }
  })
}

/**
 * Temp files are named `<host>.<pid>.<start token>.<uuid>` after the process that writes them.
 * Instances on other machines may share the directory (with Redis) and be receiving uploads right
 * now, so a starting instance removes only what a crash left: files of dead processes on this host
 * at once, and any file untouched for an hour (an upload in progress writes at least every MiB).
 * The start token tells this process from a predecessor that had the same pid (pid 1 in a
 * container).
 */
export const staleTempFileAgeMs = 60 * 60 * 1000

export interface TempFileOwner {
  readonly host: string
  readonly pid: number
  readonly startToken: string
}

const thisProcess: TempFileOwner = {
  host: os.hostname().replace(/[^A-Za-z0-9-]/g, "_"),
  pid: process.pid,
  startToken: randomUUID().slice(0, 8)
}

export const tempFileName = (owner: Partial<TempFileOwner> = {}) => {
  const { host, pid, startToken } = { ...thisProcess, ...owner }
  return `${host}.${pid}.${startToken}.${randomUUID()}`
}

const leftByCrash = (name: string, modifiedMs: number, now: number): boolean => {
  if (now - modifiedMs > staleTempFileAgeMs) return true
  const [host, pidText, startToken] = name.split(".")
  const pid = Number(pidText)
  if (host !== thisProcess.host) return false
  return pid === thisProcess.pid ? startToken !== thisProcess.startToken : !processIsAlive(pid)
}

const removeTempFilesLeftByCrash = async (temp: string, now: number) => {
  for (const name of await fs.readdir(temp)) {
    const file = path.join(temp, name)
    const stat = await fs.stat(file).catch(() => undefined) // another instance may remove it first
    if (stat !== undefined && leftByCrash(name, stat.mtimeMs, now)) await fs.rm(file, { recursive: true, force: true })
  }
}

/**
 * Typed errors thrown inside the async bodies pass through; anything else is a StorageError
 * (naming the data directory when the disk is full).
 */
const asStorageError =
  (directory: string, operation: string) => (cause: unknown): StorageError | IntegrityError | ArtifactTooLargeError =>
    cause instanceof StorageError || cause instanceof IntegrityError || cause instanceof ArtifactTooLargeError
      ? cause
      : storageFailure(directory, `Artifact ${operation}`, cause)

/**
 * Streams `body` into `handle`, hashing as it reads. The network's small chunks are coalesced
 * into ~1 MiB writes, and one write stays in flight while the next MiB is read and hashed (memory
 * stays bounded at about 2 MiB). Fails with ArtifactTooLargeError past `maxBytes` (cancelling the
 * body) and with StorageError when the client goes away; no write is left running either way.
 */
const receive = async (
  body: ReadableStream<Uint8Array>,
  handle: fs.FileHandle,
  maxBytes: number,
  signal: AbortSignal
): Promise<{ readonly sha256: string; readonly sizeBytes: number }> => {
  const hash = createHash("sha256")
  const reader = body.getReader()
  let size = 0
  let pending: Array<Uint8Array> = []
  let pendingBytes = 0
  let position = 0
  let writing: Promise<unknown> = Promise.resolve()
  const flush = async () => {
    await writing
    if (pendingBytes === 0) return
    const chunks = pending
    const at = position
    position += pendingBytes
    pending = []
    pendingBytes = 0
    writing = writeFully(handle, chunks, at)
    writing.catch(() => undefined) // observed by the next await; avoids an unhandled rejection
  }
  try {
    for (;;) {
      if (signal.aborted) throw new StorageError({ message: "Artifact upload was interrupted" })
      let next: ReadableStreamReadResult<Uint8Array>
      try {
        next = await reader.read()
      } catch (cause) {
        throw new StorageError({
          message: `Artifact upload was interrupted: ${cause instanceof Error ? cause.message : String(cause)}`,
          cause
        })
      }
      if (next.done) break
      size += next.value.byteLength
      if (size > maxBytes) {
        await reader.cancel().catch(() => undefined)
        throw ArtifactStore.tooLarge(maxBytes)
      }
      hash.update(next.value)
      pending.push(next.value)
      pendingBytes += next.value.byteLength
      if (pendingBytes >= blockSize) await flush()
    }
    await flush()
    await writing
  } catch (error) {
    await writing.catch(() => undefined)
    throw error
  }
  return { sha256: hash.digest("hex"), sizeBytes: size }
}

/**
 * Fails unless the file behind `handle` (after fsync) is exactly what was received: a write the
 * disk lost or cut short must never be acknowledged.
 */
const verifyOnDisk = async (handle: fs.FileHandle, received: ArtifactStore.StoredArtifact) => {
  const { size } = await handle.stat()
  const sha256 = size === received.sizeBytes ? await hashHandle(handle) : `${size} bytes`
  if (sha256 !== received.sha256) {
    // The upload was fine; the storage lost it: a storage failure (503), not the client's integrity error.
    throw new StorageError({
      message: `Artifact read back from disk differs from the upload: expected SHA-256 ${received.sha256} ` +
        `(${received.sizeBytes} bytes), read ${sha256}`
    })
  }
}

/**
 * Receives an upload into a temp file and lands it at `<root>/<model id>/<sha256>` by atomic
 * rename once it is complete, fsynced, verified on disk and matches the expected digest;
 * otherwise removes it.
 */
const writeArtifact =
  (root: string, temp: string, dataDirectory: string): ArtifactStore.ArtifactStoreShape["write"] =>
  (modelId, body, options) =>
    Effect.tryPromise({
      try: async (signal) => {
        const modelDir = checkedPath(root, modelId)
        const tempFile = path.join(temp, tempFileName())
        let landed = false
        const handle = await fs.open(tempFile, "wx+")
        try {
          const stored = await receive(body, handle, options.maxBytes, signal)
          if (options.expectedSha256 !== undefined && options.expectedSha256 !== stored.sha256) {
            throw ArtifactStore.digestMismatch(
              options.expectedSha256,
              stored.sha256,
              "Uploaded artifact does not match"
            )
          }
          await handle.sync()
          await verifyOnDisk(handle, stored)
          await handle.close()
          // A new model directory is an entry in `root`: fsync that too, or a crash may lose it.
          if (await fs.mkdir(modelDir, { recursive: true }) !== undefined) await fsyncDirectory(root)
          // Same digest means same bytes: renaming over an identical copy is harmless.
          await fs.rename(tempFile, checkedPath(root, modelId, stored.sha256))
          landed = true
          await fsyncDirectory(modelDir)
          return stored
        } finally {
          if (!landed) {
            await handle.close().catch(() => undefined)
            await fs.rm(tempFile, { force: true })
          }
        }
      },
      catch: asStorageError(dataDirectory, "upload")
    })

export const make = (options: FsArtifactStoreOptions) =>
  Effect.gen(function*() {
    const dataDirectory = path.resolve(options.directory)
    const root = path.join(dataDirectory, "artifacts")
    const temp = path.join(root, ".tmp")
    yield* Effect.tryPromise({
      try: async () => {
        await fs.mkdir(temp, { recursive: true })
        await removeTempFilesLeftByCrash(temp, Date.now())
      },
      catch: (cause) => asStorageError(dataDirectory, "store initialisation")(cause) as StorageError
    })

    const open: ArtifactStore.ArtifactStoreShape["open"] = (modelId, artifact) =>
      Effect.tryPromise({
        try: async () => {
          // Verify and serve through one handle, so the bytes served are the bytes verified.
          const handle = await fs.open(checkedPath(root, modelId, artifact.sha256), "r").catch(
            (cause: NodeJS.ErrnoException) => {
              if (cause.code === "ENOENT") {
                throw ArtifactStore.digestMismatch(artifact.sha256, "missing", "Stored artifact is missing")
              }
              throw cause
            }
          )
          try {
            const actual = await hashHandle(handle)
            if (actual !== artifact.sha256) {
              throw ArtifactStore.digestMismatch(artifact.sha256, actual, "Stored artifact is corrupted")
            }
          } catch (error) {
            await handle.close()
            throw error
          }
          return streamHandle(handle)
        },
        catch: (cause) => asStorageError(dataDirectory, "read")(cause) as IntegrityError | StorageError
      })

    const remove: ArtifactStore.ArtifactStoreShape["remove"] = (modelId, sha256) =>
      Effect.tryPromise({
        try: () => fs.rm(checkedPath(root, modelId, sha256), { force: true }),
        catch: (cause) => asStorageError(dataDirectory, "removal")(cause) as StorageError
      })

    const ping = () =>
      Effect.tryPromise({
        try: () => fs.access(temp, fs.constants.W_OK),
        catch: (cause) => new StorageError({ message: `Artifact directory ${root} is not writable`, cause })
      })

    return ArtifactStore.ArtifactStore.of({ write: writeArtifact(root, temp, dataDirectory), open, remove, ping })
  })

export const layer = (options: FsArtifactStoreOptions): Layer.Layer<ArtifactStore.ArtifactStore, StorageError> =>
  Layer.effect(ArtifactStore.ArtifactStore, make(options))
