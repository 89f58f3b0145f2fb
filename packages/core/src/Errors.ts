/**
 * Typed errors of the registry. Each carries the data a caller needs to act on it; the server
 * maps each tag to one HTTP status, and the SDK rebuilds them from problem+json.
 */
import { Data } from "effect"
import type { ModelStatus } from "./Model.js"

export interface FieldIssue {
  readonly path: ReadonlyArray<string | number>
  readonly message: string
}

export class ValidationError extends Data.TaggedError("ValidationError")<{
  readonly message: string
  readonly issues: ReadonlyArray<FieldIssue>
}> {}

export class ModelNotFoundError extends Data.TaggedError("ModelNotFoundError")<{
  readonly modelId: string
  readonly message: string
}> {}

export class ModelConflictError extends Data.TaggedError("ModelConflictError")<{
  readonly name: string
  readonly version: string
  readonly existingId: string
  readonly message: string
}> {}

export class InvalidTransitionError extends Data.TaggedError("InvalidTransitionError")<{
  readonly modelId: string
  readonly from: ModelStatus
  readonly to: ModelStatus
  readonly message: string
}> {}

/** Raised when a model must have an artifact (to leave draft) or must not yet have one (upload). */
export class ArtifactStateError extends Data.TaggedError("ArtifactStateError")<{
  readonly modelId: string
  readonly message: string
}> {}

export class ArtifactTooLargeError extends Data.TaggedError("ArtifactTooLargeError")<{
  readonly limitBytes: number
  readonly message: string
}> {}

export class IntegrityError extends Data.TaggedError("IntegrityError")<{
  readonly expectedSha256: string
  readonly actualSha256: string
  readonly message: string
}> {}

export class StorageError extends Data.TaggedError("StorageError")<{
  readonly message: string
  readonly cause?: unknown
}> {}

export class ExperimentNotFoundError extends Data.TaggedError("ExperimentNotFoundError")<{
  readonly experimentId: string
  readonly message: string
}> {}

export class ExperimentConflictError extends Data.TaggedError("ExperimentConflictError")<{
  readonly experimentId: string
  readonly message: string
}> {}

/** An experiment action not allowed in its current status (e.g. starting a completed one). */
export class ExperimentStateError extends Data.TaggedError("ExperimentStateError")<{
  readonly experimentId: string
  readonly experimentStatus: string
  readonly message: string
}> {}

export class MonitorNotFoundError extends Data.TaggedError("MonitorNotFoundError")<{
  readonly monitorId: string
  readonly message: string
}> {}

export class MonitorConflictError extends Data.TaggedError("MonitorConflictError")<{
  readonly monitorId: string
  readonly message: string
}> {}

export class PipelineNotFoundError extends Data.TaggedError("PipelineNotFoundError")<{
  readonly pipelineId: string
  readonly message: string
}> {}

export class PipelineConflictError extends Data.TaggedError("PipelineConflictError")<{
  readonly pipelineId: string
  readonly message: string
}> {}

/** A compare-and-set lost a race; the use cases retry on fresh state, callers never see it. */
export class StaleRevisionError extends Data.TaggedError("StaleRevisionError")<{
  readonly message: string
}> {}

export type RegistryError =
  | ValidationError
  | ModelNotFoundError
  | ModelConflictError
  | InvalidTransitionError
  | ArtifactStateError
  | ArtifactTooLargeError
  | IntegrityError
  | StorageError
