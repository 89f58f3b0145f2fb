/**
 * Port: per-key rate limits as token buckets. A bucket holds up to `burst` tokens and refills at
 * `perSecond` tokens a second; each request takes one, and a request finding less than one token is
 * refused with the whole seconds until one is back (what `Retry-After` says). The refill math is
 * pure (plain functions over plain data) so the memory layer here and the Redis script, which
 * keeps the bucket shared across instances, agree; the memory layer reads time from Effect's Clock.
 */
import { Clock, Context, Effect, Layer } from "effect"
import type { StorageError } from "../shared/Errors.js"

export interface RateLimit {
  /** Tokens added per second (the sustained request rate); > 0. */
  readonly perSecond: number
  /** Bucket capacity: how many requests may arrive at once after a quiet period; >= 1. */
  readonly burst: number
}

/** A bucket as stored: its tokens when last touched, and when that was. */
export interface Bucket {
  readonly tokens: number
  readonly updatedAtMillis: number
}

export interface Decision {
  readonly allowed: boolean
  /** Whole tokens left after this request. */
  readonly remaining: number
  /** When refused: whole seconds until a token is back (>= 1); 0 when allowed. */
  readonly retryAfterSeconds: number
}

/** The bucket at `nowMillis`: refilled for the time elapsed, never above `burst` (a clock step back adds nothing). */
export const refill = (bucket: Bucket | undefined, nowMillis: number, limit: RateLimit): Bucket => {
  if (bucket === undefined) return { tokens: limit.burst, updatedAtMillis: nowMillis }
  const elapsedMillis = Math.max(0, nowMillis - bucket.updatedAtMillis)
  return {
    tokens: Math.min(limit.burst, bucket.tokens + (elapsedMillis * limit.perSecond) / 1000),
    updatedAtMillis: Math.max(nowMillis, bucket.updatedAtMillis)
  }
}

/** The answer for a bucket holding `tokensLeft` after the request was (or was not) `allowed`. */
export const decide = (allowed: boolean, tokensLeft: number, limit: RateLimit): Decision => ({
  allowed,
  remaining: Math.floor(tokensLeft),
  // Rounded up, so a client waiting this long finds a token; at least 1, as Retry-After 0 means "now".
  retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((1 - tokensLeft) / limit.perSecond))
})

/** Refills the bucket, then takes one token if there is one. */
export const take = (
  bucket: Bucket | undefined,
  nowMillis: number,
  limit: RateLimit
): { readonly bucket: Bucket; readonly decision: Decision } => {
  const current = refill(bucket, nowMillis, limit)
  const allowed = current.tokens >= 1
  const tokens = allowed ? current.tokens - 1 : current.tokens
  return { bucket: { ...current, tokens }, decision: decide(allowed, tokens, limit) }
}

/** How long an untouched bucket takes to be full again: after that, forgetting it changes nothing. */
export const refillMillis = (limit: RateLimit): number => Math.ceil((limit.burst / limit.perSecond) * 1000)

export interface RateLimiterShape {
  /** Takes one token from the bucket of `key` (a principal or a client address). */
  readonly take: (key: string) => Effect.Effect<Decision, StorageError>
}

export class RateLimiter extends Context.Service<RateLimiter, RateLimiterShape>()("@org/ml-core/RateLimiter") {}

/** Buckets kept before full ones are forgotten, so many distinct callers cannot grow memory without bound. */
const sweepThreshold = 10_000

/** Every request allowed: the service when no rate limit is configured. */
export const layerUnlimited: Layer.Layer<RateLimiter> = Layer.succeed(RateLimiter, {
  take: () => Effect.succeed({ allowed: true, remaining: Number.MAX_SAFE_INTEGER, retryAfterSeconds: 0 })
})

/** In-process buckets: one server (fs mode) or tests. */
export const makeMemory = (limit: RateLimit) =>
  Effect.sync((): RateLimiterShape => {
    const buckets = new Map<string, Bucket>()
    const sweep = (nowMillis: number) => {
      for (const [key, bucket] of buckets) {
        if (nowMillis - bucket.updatedAtMillis >= refillMillis(limit)) buckets.delete(key)
      }
    }
    return {
      take: (key) =>
        Clock.currentTimeMillis.pipe(Effect.map((nowMillis) => {
          if (buckets.size >= sweepThreshold) sweep(nowMillis)
          const { bucket, decision } = take(buckets.get(key), nowMillis, limit)
          buckets.set(key, bucket)
          return decision
        }))
    }
  })

export const layerMemory = (limit: RateLimit): Layer.Layer<RateLimiter> => Layer.effect(RateLimiter, makeMemory(limit))
