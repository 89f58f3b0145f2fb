/**
 * Errors the client raises. Server errors arrive as RFC 9457 problem+json and become an
 * instance of the class named by the problem's `code`, carrying every problem field; a
 * download whose bytes do not match their digest raises IntegrityError on the client side.
 * Every error tag of the contract has its class: the map below is typed by the tag union, so a
 * new server error without a class fails typecheck.
 */
import type { ApiErrorTag, ProblemDetails as ContractProblemDetails } from "@org/ml-api"

/** The problem+json body, as the contract's ProblemDetails schema describes it. */
export type ProblemDetails = ContractProblemDetails

export class MlApiError extends Error {
  readonly status: number
  readonly code: string
  readonly problem: ProblemDetails
  constructor(problem: ProblemDetails) {
    super(problem.detail || problem.title)
    this.name = problem.code
    this.status = problem.status
    this.code = problem.code
    this.problem = problem
  }
}

export class ValidationError extends MlApiError {
  get errors() {
    return this.problem.errors ?? []
  }
}
export class UnauthorizedError extends MlApiError {}
export class NotFoundError extends MlApiError {}
export class ModelNotFoundError extends MlApiError {}
export class ModelConflictError extends MlApiError {}
export class InvalidTransitionError extends MlApiError {}
export class ArtifactStateError extends MlApiError {}
export class ArtifactTooLargeError extends MlApiError {}
export class IntegrityError extends MlApiError {}
export class StorageError extends MlApiError {}
export class RegisteredModelNotFoundError extends MlApiError {}
export class RegisteredModelConflictError extends MlApiError {}
export class AliasNotFoundError extends MlApiError {}
/** 409: `production` is the built-in alias; it moves only with promotions. */
export class ReservedAliasError extends MlApiError {}
/** 403: the alias is protected; only admins set or delete it. */
export class ProtectedAliasError extends MlApiError {}
/** 507: the server's data directory (named in `directory`) is full; retry once space is freed. */
export class InsufficientStorageError extends MlApiError {
  get directory(): string | undefined {
    return typeof this.problem.directory === "string" ? this.problem.directory : undefined
  }
}
export class ExperimentNotFoundError extends MlApiError {}
export class ExperimentConflictError extends MlApiError {}
export class ExperimentStateError extends MlApiError {}
export class MonitorNotFoundError extends MlApiError {}
export class MonitorConflictError extends MlApiError {}
export class PipelineNotFoundError extends MlApiError {}
export class PipelineConflictError extends MlApiError {}
export class ForbiddenError extends MlApiError {}
export class PayloadTooLargeError extends MlApiError {}
export class UnsupportedMediaTypeError extends MlApiError {}
export class InternalError extends MlApiError {}
/** 429: this key's rate limit is exhausted; wait `retryAfterSeconds` (the `Retry-After` header) and retry. */
export class RateLimitedError extends MlApiError {
  get retryAfterSeconds(): number {
    const seconds = Number(this.problem.retryAfterSeconds)
    // At least 1 s, as the server promises; a missing or odd value must not become a busy retry loop.
    return Number.isFinite(seconds) && seconds >= 1 ? seconds : 1
  }
}

/** The class of each error tag the server answers with. */
export const errorClasses: { readonly [Tag in ApiErrorTag]: new(problem: ProblemDetails) => MlApiError } = {
  ValidationError,
  Unauthorized: UnauthorizedError,
  Forbidden: ForbiddenError,
  NotFound: NotFoundError,
  ModelNotFoundError,
  ModelConflictError,
  InvalidTransitionError,
  ArtifactStateError,
  ArtifactTooLargeError,
  IntegrityError,
  StorageError,
  RegisteredModelNotFoundError,
  RegisteredModelConflictError,
  AliasNotFoundError,
  ReservedAliasError,
  ProtectedAliasError,
  InsufficientStorage: InsufficientStorageError,
  ExperimentNotFoundError,
  ExperimentConflictError,
  ExperimentStateError,
  MonitorNotFoundError,
  MonitorConflictError,
  PipelineNotFoundError,
  PipelineConflictError,
  PayloadTooLarge: PayloadTooLargeError,
  UnsupportedMediaType: UnsupportedMediaTypeError,
  RateLimited: RateLimitedError,
  InternalError
}

const isApiErrorTag = (code: string): code is ApiErrorTag => Object.hasOwn(errorClasses, code)

/** Builds the typed error for a failed response, also when the body is not problem+json. */
export const errorFromResponse = async (response: Response): Promise<MlApiError> => {
  const text = await response.text().catch(() => "")
  let problem: ProblemDetails
  try {
    problem = JSON.parse(text) as ProblemDetails
    if (typeof problem !== "object" || problem === null || typeof problem.code !== "string") {
      throw new Error("not a problem")
    }
  } catch {
    problem = {
      type: "about:blank",
      title: response.statusText || "HTTP error",
      status: response.status,
      detail: text.slice(0, 500) || `HTTP ${response.status}`,
      code: `Http${response.status}`
    }
  }
  const Class = isApiErrorTag(problem.code) ? errorClasses[problem.code] : MlApiError
  return new Class(problem)
}
