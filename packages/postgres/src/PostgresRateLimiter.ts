/**
 * The RateLimiter port on PostgreSQL: one token bucket per key shared by every instance. One
 * INSERT ... ON CONFLICT DO UPDATE refills the bucket from its stored time by the database's clock
 * (so instance clocks never matter) and takes a token, atomically under the row's lock; the rule
 * is RateLimiter.refill's, and the answer goes through the core's `decide`, so Retry-After is
 * computed exactly as in the memory and Redis layers. Buckets idle long enough to be full again
 * are deleted now and then, so many distinct callers cannot grow the table without bound.
 */
import { RateLimiter } from "@org/ml-core"
import { Effect, Layer } from "effect"
import { PostgresClient, type PostgresClientShape } from "./PostgresClient.js"

/** Takes between sweeps of idle buckets, per instance. */
const sweepEvery = 1000

export const make = (
  { query, sql }: PostgresClientShape,
  limit: RateLimiter.RateLimit
): RateLimiter.RateLimiterShape => {
  let untilSweep = sweepEvery
  const sweep = () =>
    query("rate-limit sweep", () =>
      sql`DELETE FROM ml_rate_buckets
          WHERE at_ms < extract(epoch FROM clock_timestamp()) * 1000 - ${RateLimiter.refillMillis(limit)}`)
  const take = (key: string) =>
    query("rate limit", async () => {
      const [row] = await sql<Array<{ tokens: number; allowed: boolean }>>`
        INSERT INTO ml_rate_buckets AS b (key, tokens, at_ms, allowed)
        VALUES (${key}, ${limit.burst - 1}, extract(epoch FROM clock_timestamp()) * 1000, true)
        ON CONFLICT (key) DO UPDATE SET
          tokens = ml_bucket_refill(b.tokens, b.at_ms, excluded.at_ms, ${limit.burst}, ${limit.perSecond})
            - (ml_bucket_refill(b.tokens, b.at_ms, excluded.at_ms, ${limit.burst}, ${limit.perSecond}) >= 1)::int,
          allowed = ml_bucket_refill(b.tokens, b.at_ms, excluded.at_ms, ${limit.burst}, ${limit.perSecond}) >= 1,
          at_ms = greatest(excluded.at_ms, b.at_ms)
        RETURNING tokens, allowed`
      return RateLimiter.decide(row!.allowed, row!.tokens, limit)
    })
  return {
    take: (key) =>
      Effect.suspend(() => {
        if (--untilSweep > 0) return take(key)
        untilSweep = sweepEvery
        // A failed sweep is retried at the next; it never fails the request.
        return sweep().pipe(Effect.ignore, Effect.andThen(take(key)))
      })
  }
}

export const layer = (
  limit: RateLimiter.RateLimit
): Layer.Layer<RateLimiter.RateLimiter, never, PostgresClient> =>
  Layer.effect(RateLimiter.RateLimiter, PostgresClient.useSync((client) => make(client, limit)))
