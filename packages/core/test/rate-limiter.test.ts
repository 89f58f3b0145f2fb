import { Effect } from "effect"
import { TestClock } from "effect/testing"
import { describe, expect, it } from "vitest"
import { RateLimiter } from "../src/index.js"
import { rateLimiterContract } from "../src/testing/index.js"

const limit = { perSecond: 2, burst: 4 }

describe("token bucket math", () => {
  it("starts full, refills at the rate, and never above the burst", () => {
    const empty = { tokens: 0, updatedAtMillis: 1000 }
    expect(RateLimiter.refill(undefined, 0, limit).tokens).toBe(4)
    expect(RateLimiter.refill(empty, 1500, limit).tokens).toBe(1)
    expect(RateLimiter.refill(empty, 1000 + 60_000, limit).tokens).toBe(4)
  })

  it("adds nothing when the clock steps back", () => {
    const bucket = { tokens: 1, updatedAtMillis: 5000 }
    expect(RateLimiter.refill(bucket, 4000, limit)).toEqual(bucket)
  })

  it("says how many whole seconds until the next token, at least 1", () => {
    expect(RateLimiter.decide(false, 0, { perSecond: 0.25, burst: 1 }).retryAfterSeconds).toBe(4)
    expect(RateLimiter.decide(false, 0.9, { perSecond: 0.25, burst: 1 }).retryAfterSeconds).toBe(1)
    expect(RateLimiter.decide(false, 0, { perSecond: 100, burst: 1 }).retryAfterSeconds).toBe(1)
    expect(RateLimiter.decide(true, 2.5, limit)).toEqual({ allowed: true, remaining: 2, retryAfterSeconds: 0 })
  })
})

describe("memory RateLimiter with a TestClock", () => {
  it("serves again after Retry-After seconds, and not before", async () => {
    const program = Effect.gen(function*() {
      const limiter = yield* RateLimiter.makeMemory({ perSecond: 0.5, burst: 2 })
      expect((yield* limiter.take("k")).allowed).toBe(true)
      expect((yield* limiter.take("k")).allowed).toBe(true)
      const refused = yield* limiter.take("k")
      expect(refused).toEqual({ allowed: false, remaining: 0, retryAfterSeconds: 2 })
      yield* TestClock.adjust("1999 millis")
      expect((yield* limiter.take("k")).allowed).toBe(false)
      yield* TestClock.adjust("1 millis")
      expect((yield* limiter.take("k")).allowed).toBe(true)
      expect((yield* limiter.take("k")).allowed).toBe(false)
    })
    await Effect.runPromise(program.pipe(Effect.provide(TestClock.layer())))
  })

  it("forgets full buckets once many keys were seen, so memory stays bounded", async () => {
    const program = Effect.gen(function*() {
      const limiter = yield* RateLimiter.makeMemory({ perSecond: 1, burst: 1 })
      for (let i = 0; i < 10_000; i++) yield* limiter.take(`caller-${i}`)
      // After the refill time every bucket is full again: forgetting them must not change answers.
      yield* TestClock.adjust("1 second")
      expect((yield* limiter.take("caller-0")).allowed).toBe(true)
      expect((yield* limiter.take("caller-0")).allowed).toBe(false)
    })
    await Effect.runPromise(program.pipe(Effect.provide(TestClock.layer())))
  })
})

rateLimiterContract("memory", (limit) => Effect.runPromise(RateLimiter.makeMemory(limit)))
