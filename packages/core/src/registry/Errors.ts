/**
 * Typed errors of the registry. Each carries the data a caller needs to act on it; the server
 * maps each tag to one HTTP status, and the SDK rebuilds them from problem+json.
 */
import { Data } from "effect"
import type { StorageError, ValidationError } from "../shared/Errors.js"
import type { ModelStatus } from "./Model.js"

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

export class RegisteredModelNotFoundError extends Data.TaggedError("RegisteredModelNotFoundError")<{
  readonly name: string
  readonly message: string
}> {}

/** A registered model of that name exists already (an explicit create; versions create theirs implicitly). */
export class RegisteredModelConflictError extends Data.TaggedError("RegisteredModelConflictError")<{
  readonly name: string
  readonly message: string
}> {}

export class AliasNotFoundError extends Data.TaggedError("AliasNotFoundError")<{
  readonly name: string
  readonly alias: string
  readonly message: string
}> {}

/** The built-in `production` alias moves only with promotions: it cannot be set or deleted directly. */
export class ReservedAliasError extends Data.TaggedError("ReservedAliasError")<{
  readonly name: string
  readonly alias: string
  readonly message: string
}> {}

/** A protected alias (the registered model's `protectedAliases`) moved by a caller who may not. */
export class ProtectedAliasError extends Data.TaggedError("ProtectedAliasError")<{
  readonly name: string
  readonly alias: string
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
  | RegisteredModelNotFoundError
  | RegisteredModelConflictError
  | AliasNotFoundError
  | ReservedAliasError
  | ProtectedAliasError
  | StorageError
