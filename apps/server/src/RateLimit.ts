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
import { problem, problemResponse } from "./Problem.js"
import { incomingOf } from "./RequestHeaders.js"

/** Takes one token from a bucket; rejects with a StorageError when the shared store fails (503). */
export type TakeToken = (bucket: string) => Promise<RateLimiter.Decision>

type PrincipalEnv = { Variables: { principal?: Access.Principal } }

/** The socket's peer address (Node server); requests not from a socket (in-process tests) share one bucket. */
const clientAddress = (c: Context): string => incomingOf(c)?.socket?.remoteAddress ?? "local"

/** The bucket of this request: its principal's, or its client address's when nobody authenticated. */
export const bucketOf = (c: Context<PrincipalEnv>): string => {
  const principal = c.get("principal") ?? Access.anonymous
  return principal.id === Access.anonymous.id ? `address:${clientAddress(c)}` : `principal:${principal.id}`
}

/** The middleware; with no limiter configured it lets everything through. */
export const rateLimit = (take: TakeToken | undefined): MiddlewareHandler<PrincipalEnv> => async (c, next) => {
  if (take === undefined) return next()
  const decision = await take(bucketOf(c))
  if (decision.allowed) return next()
  const seconds = decision.retryAfterSeconds
  return problemResponse(
    problem(
      "RateLimited",
      `Rate limit exceeded for this key; retry after ${seconds} s (ML_RATE_LIMIT_PER_SECOND, ML_RATE_LIMIT_BURST)`,
      { retryAfterSeconds: seconds },
      c.req.path
    ),
    { "retry-after": String(seconds) }
  )
}
