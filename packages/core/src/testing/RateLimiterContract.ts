/**
 * Contract of the RateLimiter port, for any adapter: a burst is served, the request after it is
 * refused with a Retry-After of whole seconds, buckets of different keys are independent, and
 * concurrent requests never take more tokens than the bucket holds. The refill rate is so slow
 * that the real time a test takes adds no token, so nothing here depends on timing; the refill
 * math itself is tested on the pure functions with a TestClock.
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import type { RateLimit, RateLimiterShape } from "../access/RateLimiter.js"

/** One token per 1000 s: no token comes back while a test runs. */
const slowRefill = (burst: number): RateLimit => ({ perSecond: 0.001, burst })

export const rateLimiterContract = (
  adapter: string,
  makeLimiter: (limit: RateLimit) => Promise<RateLimiterShape>
) => {
  describe(`RateLimiter contract: ${adapter}`, () => {
    it("serves the burst, then refuses with a Retry-After in whole seconds", async () => {
      const limiter = await makeLimiter(slowRefill(3))
      const decisions = []
      for (let i = 0; i < 4; i++) decisions.push(await Effect.runPromise(limiter.take("caller")))
      expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false])
      expect(decisions.map((d) => d.remaining)).toEqual([2, 1, 0, 0])
      const refused = decisions[3]!
      expect(Number.isInteger(refused.retryAfterSeconds)).toBe(true)
      expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1)
      expect(refused.retryAfterSeconds).toBeLessThanOrEqual(1000)
    })

    it("keeps one bucket per key, also for keys holding separators", async () => {
      const limiter = await makeLimiter(slowRefill(1))
      const keys = ["a", "b", "a:b", "{a}", "a b"]
      for (const key of keys) expect((await Effect.runPromise(limiter.take(key))).allowed).toBe(true)
      for (const key of keys) expect((await Effect.runPromise(limiter.take(key))).allowed).toBe(false)
    })

    it("never lets concurrent requests take more than the burst", async () => {
      const limiter = await makeLimiter(slowRefill(5))
      const decisions = await Effect.runPromise(
        Effect.all(Array.from({ length: 20 }, () => limiter.take("crowd")), { concurrency: "unbounded" })
      )
      expect(decisions.filter((d) => d.allowed)).toHaveLength(5)
    })
  })
}
