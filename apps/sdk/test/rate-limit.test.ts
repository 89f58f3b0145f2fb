import { expect, it } from "vitest"
import { createClient, RateLimitedError } from "../src/index.js"
import { useServer } from "./serverFixture.js"

// One token a second, two at once: the test's own requests empty the bucket, so the batch gets a 429.
const server = useServer({
  ML_RATE_LIMIT_PER_SECOND: "1",
  ML_RATE_LIMIT_BURST: "2",
  ML_DRIFT_SCHEDULER_TICK_MS: "3600000"
})

/** Runs `call`, waiting out any 429 as the server says. */
const whenAllowed = async <A>(call: () => Promise<A>): Promise<A> => {
  for (;;) {
    try {
      return await call()
    } catch (error) {
      if (!(error instanceof RateLimitedError)) throw error
      await new Promise((resolve) => setTimeout(resolve, error.retryAfterSeconds * 1000))
    }
  }
}

it("the drift recorder waits Retry-After after a 429 from a real server and sends the batch again", async () => {
  const statuses: Array<number> = []
  const errors: Array<unknown> = []
  const ml = createClient({
    baseUrl: server.url,
    fetch: async (input, init) => {
      const response = await fetch(input, init)
      if (String(input).endsWith("/observations")) statuses.push(response.status)
      return response
    },
    driftRecorder: { batchSize: 1000, flushIntervalMs: 60_000, onError: (error) => errors.push(error) }
  })
  try {
    await whenAllowed(() =>
      ml.drift.createMonitor({ id: "limited", features: [{ name: "x", kind: "feature", type: "numeric" }] })
    )
    // Empty the bucket, so the batch below is refused first.
    let limited: unknown
    for (let i = 0; i < 20 && limited === undefined; i++) {
      limited = await ml.drift.getMonitor("limited").then(() => undefined, (error: unknown) => error)
    }
    expect(limited).toBeInstanceOf(RateLimitedError)
    expect((limited as RateLimitedError).retryAfterSeconds).toBeGreaterThanOrEqual(1)
    for (let i = 0; i < 300; i++) ml.drift.recordFeature("limited", "x", i)
    await ml.drift.flush()
    expect(errors).toEqual([])
    expect(statuses[0]).toBe(429)
    expect(statuses.at(-1)).toBe(202)
  } finally {
    await ml.drift.close()
  }
})
