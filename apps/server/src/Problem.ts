/**
 * Typed errors to RFC 9457 problem+json responses. The status of each error tag comes from the
 * contract's typed table (@org/ml-api problemKinds), so a new error cannot silently become a
 * 500; the body keeps the error's own fields (model id, from/to, digests, field issues) so
 * clients can act on them.
 */
import { problem, type ProblemDetails, problemFromError } from "@org/ml-api"
import { Cause } from "effect"
import { Answer, toResponse } from "./Answer.js"

export type Problem = ProblemDetails
export { problem, problemFromError }

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
