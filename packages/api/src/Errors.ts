/**
 * Every error an endpoint can answer with, and its HTTP status. The table is typed by the error
 * union: a tag without a status, or a status for a tag that no longer exists, fails typecheck.
 * Core errors come from the use cases; the HTTP errors below come from request handling.
 */
import type {
  DriftError,
  ExperimentError,
  LearningError,
  RegistryError,
  StorageError,
  ValidationError
} from "@org/ml-core"
import { Data } from "effect"

export class Unauthorized extends Data.TaggedError("Unauthorized")<{ readonly message: string }> {}
/** The caller's role (or model confinement) does not grant `permission`: the problem names it. */
export class Forbidden extends Data.TaggedError("Forbidden")<{
  readonly message: string
  readonly permission: string
}> {}
/**
 * No such route, or no such sub-resource (a webhook, a production version at a time). For a
 * production version, `name` and `at` say what was asked for (they become problem fields).
 */
export class NotFound extends Data.TaggedError("NotFound")<{
  readonly message: string
  readonly name?: string
  readonly at?: string
}> {}
export class PayloadTooLarge extends Data.TaggedError("PayloadTooLarge")<{
  readonly message: string
  readonly limitBytes: number
}> {}
export class UnsupportedMediaType extends Data.TaggedError("UnsupportedMediaType")<{ readonly message: string }> {}
/** The caller's token bucket is empty: retry after `retryAfterSeconds` (also sent as `Retry-After`). */
export class RateLimited extends Data.TaggedError("RateLimited")<{
  readonly message: string
  readonly retryAfterSeconds: number
}> {}
export class InternalError extends Data.TaggedError("InternalError")<{ readonly message: string }> {}
/**
 * A write failed for want of space (a StorageError whose reason is "insufficient-storage"): the
 * server answers with this instead of a 503, naming the data directory the operator must free.
 * It is implied wherever an endpoint declares StorageError (see `implicitErrors`).
 */
export class InsufficientStorage extends Data.TaggedError("InsufficientStorage")<{
  readonly message: string
  readonly directory: string
}> {}

export type HttpError =
  | Unauthorized
  | Forbidden
  | NotFound
  | PayloadTooLarge
  | UnsupportedMediaType
  | RateLimited
  | InternalError
  | InsufficientStorage

/** What the use cases can fail with (StaleRevisionError never leaves them). */
export type CoreError = ValidationError | StorageError | RegistryError | ExperimentError | DriftError | LearningError

export type ApiError = CoreError | HttpError
export type ApiErrorTag = ApiError["_tag"]

export interface ProblemKind {
  readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 500 | 503 | 507
  readonly title: string
}

export const problemKinds = {
  ValidationError: { status: 400, title: "Invalid request" },
  Unauthorized: { status: 401, title: "Missing or invalid bearer token" },
  Forbidden: { status: 403, title: "Not allowed" },
  NotFound: { status: 404, title: "Not found" },
  ModelNotFoundError: { status: 404, title: "Model not found" },
  ExperimentNotFoundError: { status: 404, title: "Experiment not found" },
  MonitorNotFoundError: { status: 404, title: "Drift monitor not found" },
  PipelineNotFoundError: { status: 404, title: "Pipeline not found" },
  ModelConflictError: { status: 409, title: "Model version already registered" },
  RegisteredModelNotFoundError: { status: 404, title: "Registered model not found" },
  AliasNotFoundError: { status: 404, title: "Alias not found" },
  RegisteredModelConflictError: { status: 409, title: "Registered model already exists" },
  ReservedAliasError: { status: 409, title: "Built-in alias" },
  ProtectedAliasError: { status: 403, title: "Protected alias" },
  MonitorConflictError: { status: 409, title: "Drift monitor already exists" },
  PipelineConflictError: { status: 409, title: "Pipeline already exists" },
  ExperimentConflictError: { status: 409, title: "Experiment already exists (or its feature key is taken)" },
  ExperimentStateError: { status: 409, title: "Experiment state conflict" },
  InvalidTransitionError: { status: 409, title: "Invalid lifecycle transition" },
  ArtifactStateError: { status: 409, title: "Artifact state conflict" },
  ArtifactTooLargeError: { status: 413, title: "Artifact too large" },
  PayloadTooLarge: { status: 413, title: "Request body too large" },
  UnsupportedMediaType: { status: 415, title: "Unsupported media type" },
  IntegrityError: { status: 422, title: "Artifact integrity check failed" },
  RateLimited: { status: 429, title: "Too many requests" },
  InternalError: { status: 500, title: "Internal server error" },
  StorageError: { status: 503, title: "Storage unavailable" },
  InsufficientStorage: { status: 507, title: "Insufficient storage" }
} as const satisfies { readonly [Tag in ApiErrorTag]: ProblemKind }

export const apiErrorTags = Object.keys(problemKinds) as ReadonlyArray<ApiErrorTag>
