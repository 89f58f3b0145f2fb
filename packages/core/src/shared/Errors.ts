/**
 * Errors every domain shares: input that does not decode (naming each field), storage that
 * cannot be reached or holds a record that does not decode, and a lost compare-and-set race.
 */
import { Data } from "effect"

export interface FieldIssue {
  readonly path: ReadonlyArray<string | number>
  readonly message: string
}

export class ValidationError extends Data.TaggedError("ValidationError")<{
  readonly message: string
  readonly issues: ReadonlyArray<FieldIssue>
}> {}

export class StorageError extends Data.TaggedError("StorageError")<{
  readonly message: string
  readonly cause?: unknown
  /**
   * "insufficient-storage": the write failed for want of space (ENOSPC, EDQUOT) and nothing of it
   * was kept; the server answers 507 naming `directory`, and later writes succeed once space returns.
   */
  readonly reason?: "insufficient-storage" | undefined
  /** The data directory a filesystem failure concerns. */
  readonly directory?: string | undefined
}> {}

/** A compare-and-set lost a race; the use cases retry on fresh state, callers never see it. */
export class StaleRevisionError extends Data.TaggedError("StaleRevisionError")<{
  readonly message: string
}> {}
