/**
 * Typed errors to RFC 9457 problem+json. Each error tag has one literal status; the body keeps
 * the error's own fields (model id, from/to, digests, field issues) so clients can act on them.
 */
import { Cause } from "effect"

export interface Problem {
  readonly type: string
  readonly title: string
  readonly status: number
  readonly detail: string
  readonly instance?: string
  readonly code: string
  readonly [extension: string]: unknown
}

const kinds: Record<string, { readonly status: number; readonly title: string }> = {
  ValidationError: { status: 400, title: "Invalid request" },
  Unauthorized: { status: 401, title: "Missing or invalid bearer token" },
  ModelNotFoundError: { status: 404, title: "Model not found" },
  NotFound: { status: 404, title: "Not found" },
  ModelConflictError: { status: 409, title: "Model version already registered" },
  ExperimentNotFoundError: { status: 404, title: "Experiment not found" },
  MonitorNotFoundError: { status: 404, title: "Drift monitor not found" },
  MonitorConflictError: { status: 409, title: "Drift monitor already exists" },
  PipelineNotFoundError: { status: 404, title: "Pipeline not found" },
  PipelineConflictError: { status: 409, title: "Pipeline already exists" },
  ExperimentConflictError: { status: 409, title: "Experiment already exists" },
  ExperimentStateError: { status: 409, title: "Experiment state conflict" },
  InvalidTransitionError: { status: 409, title: "Invalid lifecycle transition" },
  ArtifactStateError: { status: 409, title: "Artifact state conflict" },
  ArtifactTooLargeError: { status: 413, title: "Artifact too large" },
  PayloadTooLarge: { status: 413, title: "Request body too large" },
  UnsupportedMediaType: { status: 415, title: "Unsupported media type" },
  IntegrityError: { status: 422, title: "Artifact integrity check failed" },
  StorageError: { status: 503, title: "Storage unavailable" },
  InternalError: { status: 500, title: "Internal server error" }
}

const kebab = (tag: string) => tag.replace(/Error$/, "").replace(/([a-z])([A-Z])/g, "$1-$2").toLowerCase()

export const problem = (
  code: string,
  detail: string,
  extensions: Record<string, unknown> = {},
  instance?: string
): Problem => {
  const kind = kinds[code] ?? kinds.InternalError!
  // Extensions first: an error field can never override the standard members.
  return {
    ...extensions,
    type: `urn:ml-pipeline:problem:${kebab(code)}`,
    title: kind.title,
    status: kind.status,
    detail,
    ...(instance ? { instance } : {}),
    code
  }
}

/** The problem for a typed error: its own fields become extensions; field issues become `errors`. */
export const problemFromError = (error: unknown, instance: string): Problem | undefined => {
  const tagged = error as { _tag?: unknown } | null
  if (typeof tagged !== "object" || tagged === null || typeof tagged._tag !== "string" || !(tagged._tag in kinds)) {
    return undefined
  }
  const { _tag, message, cause: _cause, issues, ...fields } = tagged as Record<string, unknown>
  const errors = Array.isArray(issues)
    ? {
      errors: issues.map((issue: { path: ReadonlyArray<unknown>; message: string }) => ({
        path: issue.path.join("."),
        message: issue.message
      }))
    }
    : {}
  return problem(_tag as string, String(message ?? _tag), { ...fields, ...errors }, instance)
}

/** The problem for a failed use case: its typed error, or a 500 for a defect (never leaking internals). */
export const problemFromCause = (
  cause: Cause.Cause<unknown>,
  instance: string
): { readonly problem: Problem; readonly defect?: unknown } => {
  const failure = cause.reasons.find(Cause.isFailReason)
  const typed = failure ? problemFromError(failure.error, instance) : undefined
  if (typed) return { problem: typed }
  return {
    problem: problem("InternalError", "The server failed to handle this request; see its log.", {}, instance),
    defect: Cause.squash(cause)
  }
}

export const problemResponse = (body: Problem, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), {
    status: body.status,
    headers: { "content-type": "application/problem+json", ...headers }
  })
