/**
 * Filesystem failures as the core's StorageError. A write that failed for want of space (ENOSPC,
 * EDQUOT, or a write that stored fewer bytes than asked) carries reason "insufficient-storage"
 * and the data directory, so the server answers 507 naming the directory the operator must free.
 */
import { StorageError } from "@org/ml-core"
import * as fs from "node:fs/promises"
import type { FileHandle } from "node:fs/promises"

const outOfSpaceCodes = new Set(["ENOSPC", "EDQUOT"])

export const isOutOfSpace = (cause: unknown): boolean =>
  typeof cause === "object" && cause !== null && outOfSpaceCodes.has(String((cause as { code?: unknown }).code))

/**
 * The StorageError for a failed filesystem operation in `directory` (the data directory); one
 * that is already a StorageError passes through. The server names the directory only in a 507.
 */
export const storageFailure = (directory: string, operation: string, cause: unknown): StorageError => {
  if (cause instanceof StorageError) return cause
  const detail = cause instanceof Error ? cause.message : String(cause)
  return isOutOfSpace(cause)
    ? new StorageError({
      message: `${operation} failed: no space left on device`,
      reason: "insufficient-storage",
      directory,
      cause
    })
    : new StorageError({ message: `${operation} failed: ${detail}`, directory, cause })
}

/** Makes the entries of `directory` (a file created or renamed in it) survive a crash. */
export const fsyncDirectory = async (directory: string): Promise<void> => {
  const handle = await fs.open(directory, "r")
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** What a write that makes no progress means: the device has no room for a single byte more. */
const noProgress = () => Object.assign(new Error("write stored no bytes"), { code: "ENOSPC" })

/**
 * Writes every byte of `chunks` at `position`, continuing after short writes (a nearly full disk
 * stores part of a write and reports the count, not an error); returns the position after them.
 */
export const writeFully = async (
  handle: FileHandle,
  chunks: ReadonlyArray<Uint8Array>,
  position: number
): Promise<number> => {
  let pending = chunks.filter((chunk) => chunk.byteLength > 0)
  let at = position
  while (pending.length > 0) {
    const { bytesWritten } = await handle.writev(pending as Array<Uint8Array>, at)
    if (bytesWritten === 0) throw noProgress()
    at += bytesWritten
    // Drop the chunks written whole; keep the unwritten tail of a chunk written in part.
    let written = 0
    let next = 0
    while (next < pending.length && written + pending[next]!.byteLength <= bytesWritten) {
      written += pending[next]!.byteLength
      next++
    }
    const rest = pending.slice(next)
    if (written < bytesWritten) rest[0] = rest[0]!.subarray(bytesWritten - written)
    pending = rest
  }
  return at
}

/** The file's text, or undefined when it does not exist (a first start); other failures throw. */
export const readTextIfPresent = async (file: string): Promise<string | undefined> => {
  try {
    return await fs.readFile(file, "utf8")
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "ENOENT") return undefined
    throw cause
  }
}
