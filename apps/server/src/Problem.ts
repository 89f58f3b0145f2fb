/**
 * Typed errors to RFC 9457 problem+json responses. The status of each error tag comes from the
 * contract's typed table (@org/ml-api problemKinds), so a new error cannot silently become a
 * 500; the body keeps the error's own fields (model id, from/to, digests, field issues) so
 * clients can act on them.
 */
import { type ApiErrorTag, problem, type ProblemDetails, problemKinds } from "@org/ml-api"
import { Cause } from "effect"
import { Answer, toResponse } from "./Answer.js"

export type Problem = ProblemDetails
export { problem }

const isApiErrorTag = (tag: unknown): tag is ApiErrorTag => typeof tag === "string" && Object.hasOwn(problemKinds, tag)

/**
 * A storage failure: 507 naming the data directory when the write failed for want of space (the
 * operator must free space there), otherwise a 503 that does not expose server paths.
 */
const storageProblem = (fields: Record<string, unknown>, instance: string): Problem => {
  const { message, reason, directory } = fields
  if (reason !== "insufficient-storage") return problem("StorageError", String(message), {}, instance)
  const named = typeof directory === "string" ? directory : "the data directory"
  return problem(
    "InsufficientStorage",
    `Insufficient storage in ${named}: ${String(message)}`,
    { directory: named },
    instance
  )
}

/** The problem for a typed error: its own fields become extensions; field issues become `errors`. */
export const problemFromError = (error: unknown, instance: string): Problem | undefined => {
  const tagged = error as { _tag?: unknown } | null
  if (typeof tagged !== "object" || tagged === null || !isApiErrorTag(tagged._tag)) return undefined
  if (tagged._tag === "StorageError") return storageProblem(tagged as Record<string, unknown>, instance)
  const { _tag, message, cause: _cause, issues, ...fields } = tagged as Record<string, unknown>
  const errors = Array.isArray(issues)
    ? {
      errors: issues.map((issue: { path: ReadonlyArray<unknown>; message: string }) => ({
        path: issue.path.join("."),
        message: issue.message
      }))
    }
    : {}
  return problem(tagged._tag, String(message ?? _tag), { ...fields, ...errors }, instance)
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

/** A problem+json answer with extra headers (www-authenticate, retry-after). */
export const problemAnswer = (body: Problem, headers: Readonly<Record<string, string>> = {}): Answer =>
  new Answer(body.status, JSON.stringify(body), { "content-type": "application/problem+json", ...headers }, false)

export const problemResponse = (body: Problem, headers: Readonly<Record<string, string>> = {}): Response =>
  toResponse(problemAnswer(body, headers))

/**
 * The answer to an error thrown by a route (a body refused before decoding, a store failing under
 * the auth or rate-limit step): its typed problem, or a logged 500 that leaks nothing (App's onError).
 */
export const thrownErrorAnswer = (
  error: unknown,
  method: string,
  path: string,
  log: (line: string) => void
): Answer => {
  const typed = problemFromError(error, path)
  if (typed) return problemAnswer(typed)
  log(`Unhandled error on ${method} ${path}: ${(error instanceof Error ? error.stack : undefined) ?? String(error)}`)
  return problemAnswer(problem("InternalError", "The server failed to handle this request; see its log.", {}, path))
}
