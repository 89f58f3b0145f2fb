/** Typed errors of drift monitoring. */
import { Data } from "effect"

export class MonitorNotFoundError extends Data.TaggedError("MonitorNotFoundError")<{
  readonly monitorId: string
  readonly message: string
}> {}

export class MonitorConflictError extends Data.TaggedError("MonitorConflictError")<{
  readonly monitorId: string
  readonly message: string
}> {}

export type DriftError = MonitorNotFoundError | MonitorConflictError
