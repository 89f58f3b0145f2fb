/**
 * Typed errors to RFC 9457 problem+json responses. The status of each error tag comes from the
 * contract's typed table (@org/ml-api problemKinds), so a new error cannot silently become a
 * 500; the body keeps the error's own fields (model id, from/to, digests, field issues) so
 * clients can act on them.
 */
import { problem, type ProblemDetails, problemFromError } from "@org/ml-api"
import { Cause } from "effect"

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

export const problemResponse = (body: Problem, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), {
    status: body.status,
    headers: { "content-type": "application/problem+json", ...headers }
  })
