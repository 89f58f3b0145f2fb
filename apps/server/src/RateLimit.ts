/**
 * Per-key rate limits on the /v1 API: each request takes a token from the bucket of who is
 * calling (the RateLimiter port: in-process in fs mode, shared by every instance on Redis). An
 * empty bucket answers 429 `RateLimited` with `Retry-After` in whole seconds. Mounted after auth,
 * so the bucket is the authenticated principal's; with auth off (every caller `anonymous`) it is
 * the client's socket address, so behind a reverse proxy all clients share the proxy's bucket.
 * Health, readiness and /metrics live outside /v1 and are never limited.
 */
import { Access, type RateLimiter } from "@org/ml-core"
import type { Context, MiddlewareHandler } from "hono"
import { type Answer, toResponse } from "./Answer.js"
import { problem, problemAnswer } from "./Problem.js"
import { incomingOf } from "./RequestHeaders.js"

/** Takes one token from a bucket; rejects with a StorageError when the shared store fails (503). */
export type TakeToken = (bucket: string) => Promise<RateLimiter.Decision>

type PrincipalEnv = { Variables: { principal?: Access.Principal } }

/** The socket's peer address (Node server); requests not from a socket (in-process tests) share one bucket. */
const clientAddress = (c: Context): string | undefined => incomingOf(c)?.socket?.remoteAddress

/** The bucket of a request: its principal's, or its client address's when nobody authenticated. */
export const bucketFor = (principal: Access.Principal, address: string | undefined): string =>
  principal.id === Access.anonymous.id ? `address:${address ?? "local"}` : `principal:${principal.id}`

/** The bucket of this request (Hono's view of it). */
export const bucketOf = (c: Context<PrincipalEnv>): string =>
  bucketFor(c.get("principal") ?? Access.anonymous, clientAddress(c))

/** The 429 of an empty bucket, with Retry-After in whole seconds. */
export const rateLimitedAnswer = (decision: RateLimiter.Decision, path: string): Answer => {
  const seconds = decision.retryAfterSeconds
  return problemAnswer(
    problem(
      "RateLimited",
      `Rate limit exceeded for this key; retry after ${seconds} s (ML_RATE_LIMIT_PER_SECOND, ML_RATE_LIMIT_BURST)`,
      { retryAfterSeconds: seconds },
      path
    ),
    { "retry-after": String(seconds) }
  )
}

/** The middleware; with no limiter configured it lets everything through. */
export const rateLimit = (take: TakeToken | undefined): MiddlewareHandler<PrincipalEnv> => async (c, next) => {
  if (take === undefined) return next()
  const decision = await take(bucketOf(c))
  return decision.allowed ? next() : toResponse(rateLimitedAnswer(decision, c.req.path))
}
