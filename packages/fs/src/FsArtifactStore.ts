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
import * as ArtifactCipher from "./ArtifactCipher.js"
import { processIsAlive } from "./Processes.js"
import { fsyncDirectory, storageFailure, writeFully } from "./StorageFailure.js"

const sha256Pattern = /^[0-9a-f]{64}$/

export interface FsArtifactStoreOptions {
  readonly directory: string
  /** Encrypt new artifacts with `current`; read those encrypted with any of the keys. */
  readonly encryption?: ArtifactCipher.ArtifactKeyring | undefined
}

/** Encrypted artifacts are `<sha256>.enc`, so the format never depends on guessing from content. */
const encryptedSuffix = ".enc"

const checkedPath = (root: string, modelId: string, sha256?: string): string => {
  if (!ulidPattern.test(modelId)) {
    throw new StorageError({ message: `Refusing artifact path for invalid model id ${JSON.stringify(modelId)}` })
  }
  if (sha256 !== undefined && !sha256Pattern.test(sha256)) {
    throw new StorageError({ message: `Refusing artifact path for invalid digest ${JSON.stringify(sha256)}` })
  }
  return sha256 === undefined ? path.join(root, modelId) : path.join(root, modelId, sha256)
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

/** Reads exactly `length` bytes at `position` (into `buffer` when given) unless the file ends first. */
const readAt = async (
  handle: fs.FileHandle,
  length: number,
  position: number,
  buffer = new Uint8Array(length)
): Promise<Uint8Array> => {
  let filled = 0
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled)
    if (bytesRead === 0) break
    filled += bytesRead
  }
  return filled === buffer.byteLength ? buffer : buffer.subarray(0, filled)
}

/**
 * The plaintext of an encrypted file, about 1 MiB of records per call (one record for 1 MiB
 * chunks, several for the 64 KiB chunks of format 1; undefined at the end).
 * The next block is read while the current one is decrypted. Throws TamperedArtifact when a
 * record does not authenticate and StorageError when its key is not configured.
 */
const decryptingReader = async (
  handle: fs.FileHandle,
  keys: ReadonlyArray<ArtifactCipher.ArtifactKey>
): Promise<() => Promise<Array<Uint8Array> | undefined>> => {
  const { size } = await handle.stat()
  const opened = ArtifactCipher.openHeader(await readAt(handle, ArtifactCipher.headerBytes, 0), keys)
  const { chunkBytes, recordBytes } = opened
  if (ArtifactCipher.plaintextSize(size, chunkBytes) === undefined) throw new ArtifactCipher.TamperedArtifact(0)
  const records = ArtifactCipher.recordCount(size, chunkBytes)
  const recordsPerBlock = Math.max(1, Math.floor(blockSize / recordBytes))
  // Two buffers in turn: one is read into while the other is decrypted (decryption copies out).
  // A fresh zero-filled buffer per block would be garbage as soon as it is decrypted.
  const buffers = [0, 1].map(() => Buffer.allocUnsafeSlow(Math.min(records, recordsPerBlock) * recordBytes))
  const readBlock = (firstRecord: number) =>
    readAt(
      handle,
      Math.min(recordsPerBlock, records - firstRecord) * recordBytes,
      ArtifactCipher.headerBytes + firstRecord * recordBytes,
      buffers[(firstRecord / recordsPerBlock) % 2]
    )
  let nextRecord = 0
  let reading = readBlock(0)
  reading.catch(() => undefined) // observed on the next call
  const next = async (): Promise<Array<Uint8Array> | undefined> => {
    if (nextRecord >= records) return undefined
    const first = nextRecord
    const block = await reading
    nextRecord = Math.min(records, first + recordsPerBlock)
    if (nextRecord < records) {
      reading = readBlock(nextRecord)
      reading.catch(() => undefined)
    }
    const plaintext: Array<Uint8Array> = []
    for (let index = first; index < nextRecord; index++) {
      const offset = (index - first) * recordBytes
      const record = block.subarray(offset, offset + recordBytes)
      plaintext.push(ArtifactCipher.openRecord(opened, index, index === records - 1, record))
    }
    return plaintext
  }
  return next
}

/** SHA-256 of the plaintext of an encrypted file (every record authenticated on the way). */
const hashEncrypted = async (
  handle: fs.FileHandle,
  keys: ReadonlyArray<ArtifactCipher.ArtifactKey>
): Promise<string> => {
  const hash = createHash("sha256")
  const next = await decryptingReader(handle, keys)
  for (let pieces = await next(); pieces !== undefined; pieces = await next()) {
    for (const piece of pieces) hash.update(piece)
  }
  return hash.digest("hex")
}

/** The decrypted plaintext as a stream that closes the handle at the end, on error or on cancel. */
const streamEncrypted = async (
  handle: fs.FileHandle,
  keys: ReadonlyArray<ArtifactCipher.ArtifactKey>
): Promise<ReadableStream<Uint8Array>> => {
  const next = await decryptingReader(handle, keys)
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const pieces = await next()
        if (pieces === undefined) {
          await handle.close()
          controller.close()
          return
        }
        // One ~1 MiB chunk per pull, as for plaintext: 64 KiB pieces would cost a socket write each.
        const block = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces)
        if (block.byteLength > 0) controller.enqueue(block)
      } catch (error) {
        await handle.close().catch(() => undefined)
        throw error
      }
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
  signal: AbortSignal,
  encryptor: ArtifactCipher.ChunkEncryptor | undefined
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
  const queue = (chunks: Array<Uint8Array>) => {
    for (const chunk of chunks) {
      pending.push(chunk)
      pendingBytes += chunk.byteLength
    }
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
      queue(encryptor === undefined ? [next.value] : encryptor.push(next.value))
      if (pendingBytes >= blockSize) await flush()
    }
    if (encryptor !== undefined) queue(encryptor.finish())
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
 * disk lost or cut short must never be acknowledged. An encrypted file is decrypted to check it.
 */
const verifyOnDisk = async (
  handle: fs.FileHandle,
  received: ArtifactStore.StoredArtifact,
  encryptedWith: ArtifactCipher.ArtifactKey | undefined
) => {
  const { size: fileSize } = await handle.stat()
  const size = encryptedWith === undefined ? fileSize : ArtifactCipher.plaintextSize(fileSize)
  const sha256 = size !== received.sizeBytes
    ? `${size ?? "an invalid number of"} bytes`
    : encryptedWith === undefined
    ? await hashHandle(handle)
    : await hashEncrypted(handle, [encryptedWith]).catch((cause) => {
      if (cause instanceof ArtifactCipher.TamperedArtifact) return `undecryptable data (${cause.message})`
      throw cause
    })
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
const writeArtifact = (
  root: string,
  temp: string,
  dataDirectory: string,
  encryptWith: ArtifactCipher.ArtifactKey | undefined
): ArtifactStore.ArtifactStoreShape["write"] =>
(modelId, body, options) =>
  Effect.tryPromise({
    try: async (signal) => {
      const modelDir = checkedPath(root, modelId)
      const tempFile = path.join(temp, tempFileName())
      let landed = false
      const handle = await fs.open(tempFile, "wx+")
      try {
        const encryptor = encryptWith === undefined ? undefined : new ArtifactCipher.ChunkEncryptor(encryptWith)
        const stored = await receive(body, handle, options.maxBytes, signal, encryptor)
        if (options.expectedSha256 !== undefined && options.expectedSha256 !== stored.sha256) {
          throw ArtifactStore.digestMismatch(
            options.expectedSha256,
            stored.sha256,
            "Uploaded artifact does not match"
          )
        }
        await handle.sync()
        await verifyOnDisk(handle, stored, encryptWith)
        await handle.close()
        // A new model directory is an entry in `root`: fsync that too, or a crash may lose it.
        if (await fs.mkdir(modelDir, { recursive: true }) !== undefined) await fsyncDirectory(root)
        // Same digest means same bytes: renaming over an identical copy is harmless.
        const plaintextFile = checkedPath(root, modelId, stored.sha256)
        await fs.rename(tempFile, encryptWith === undefined ? plaintextFile : plaintextFile + encryptedSuffix)
        landed = true
        // Uploading again with encryption on replaces a plaintext copy stored before it was on.
        if (encryptWith !== undefined) await fs.rm(plaintextFile, { force: true })
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

    const keys = ArtifactCipher.readingKeys(options.encryption)
    const openFile = (file: string) =>
      fs.open(file, "r").catch((cause: NodeJS.ErrnoException) => {
        if (cause.code === "ENOENT") return undefined
        throw cause
      })

    const open: ArtifactStore.ArtifactStoreShape["open"] = (modelId, artifact) =>
      Effect.tryPromise({
        try: async () => {
          const plaintextFile = checkedPath(root, modelId, artifact.sha256)
          const encryptedHandle = await openFile(plaintextFile + encryptedSuffix)
          const handle = encryptedHandle ?? await openFile(plaintextFile)
          if (handle === undefined) {
            throw ArtifactStore.digestMismatch(artifact.sha256, "missing", "Stored artifact is missing")
          }
          // Verify and serve through one handle, so the bytes served are the bytes verified.
          try {
            const actual = encryptedHandle === undefined
              ? await hashHandle(handle)
              : await hashEncrypted(handle, keys).catch((cause) => {
                if (cause instanceof ArtifactCipher.TamperedArtifact) return `undecryptable data (${cause.message})`
                throw cause
              })
            if (actual !== artifact.sha256) {
              throw ArtifactStore.digestMismatch(artifact.sha256, actual, "Stored artifact is corrupted")
            }
            return encryptedHandle === undefined ? streamHandle(handle) : await streamEncrypted(handle, keys)
          } catch (error) {
            await handle.close()
            throw error
          }
        },
        catch: (cause) => asStorageError(dataDirectory, "read")(cause) as IntegrityError | StorageError
      })

    const remove: ArtifactStore.ArtifactStoreShape["remove"] = (modelId, sha256) =>
      Effect.tryPromise({
        try: async () => {
          const plaintextFile = checkedPath(root, modelId, sha256)
          await fs.rm(plaintextFile + encryptedSuffix, { force: true })
          await fs.rm(plaintextFile, { force: true })
        },
        catch: (cause) => asStorageError(dataDirectory, "removal")(cause) as StorageError
      })

    const ping = () =>
      Effect.tryPromise({
        try: () => fs.access(temp, fs.constants.W_OK),
        catch: (cause) => new StorageError({ message: `Artifact directory ${root} is not writable`, cause })
      })

    return ArtifactStore.ArtifactStore.of({
      write: writeArtifact(root, temp, dataDirectory, options.encryption?.current),
      open,
      remove,
      ping
    })
  })

export const layer = (options: FsArtifactStoreOptions): Layer.Layer<ArtifactStore.ArtifactStore, StorageError> =>
  Layer.effect(ArtifactStore.ArtifactStore, make(options))
