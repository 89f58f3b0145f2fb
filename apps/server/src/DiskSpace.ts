/**
 * Whether the data directory has room, for /readyz: free space (statfs) below a floor, or a last
 * write that failed for want of space (a 507 answer) with no successful write since, means "not
 * ready: insufficient storage". Nothing is latched: once space returns (free above the floor and
 * a write succeeds, or free space grows past what it was at the failure) the server is ready
 * again by itself, without a restart.
 */
import { StorageError } from "@org/ml-core"
import * as fs from "node:fs/promises"

export interface DiskSpace {
  readonly directory: string
  /** Records the outcome of a write request: `full` when it was answered 507. */
  readonly noteWrite: (full: boolean) => void
  /** undefined when there is room; otherwise why not, as a StorageError naming the directory. */
  readonly check: () => Promise<StorageError | undefined>
}

const freeBytesOf = async (directory: string): Promise<number> => {
  const stats = await fs.statfs(directory)
  return stats.bavail * stats.bsize
}

const insufficient = (directory: string, message: string) =>
  new StorageError({ message, reason: "insufficient-storage", directory })

export const makeDiskSpace = (directory: string, minFreeBytes: number): DiskSpace => {
  /** Free bytes measured just after the last write that failed for space; undefined once a write succeeds. */
  let failedAtFree: Promise<number | undefined> | undefined

  const noteWrite = (full: boolean) => {
    failedAtFree = full ? freeBytesOf(directory).catch(() => undefined) : undefined
  }

  const check = async (): Promise<StorageError | undefined> => {
    let free: number
    try {
      free = await freeBytesOf(directory)
    } catch (cause) {
      return new StorageError({ message: `Data directory ${directory} cannot be checked for free space`, cause })
    }
    if (free < minFreeBytes) {
      return insufficient(directory, `${free} bytes free, below the ${minFreeBytes} bytes required (ML_MIN_FREE_BYTES)`)
    }
    const atFailure = await failedAtFree
    if (atFailure !== undefined && free <= atFailure) {
      return insufficient(directory, `the last write failed for want of space and no space has been freed since`)
    }
    failedAtFree = undefined
    return undefined
  }

  return { directory, noteWrite, check }
}
