import { RedisKeys } from "@org/ml-adapter-redis"
import { connectOrFail, deleteKeysWithPrefix, redisUrl, uniquePrefix } from "@org/ml-adapter-redis/testing"
import { Access, RateLimiter } from "@org/ml-core"
import { Effect } from "effect"
import { Hono } from "hono"
import { afterAll, describe, expect, it } from "vitest"
import { rateLimit } from "../src/RateLimit.js"
import { makeTestApp } from "./helpers.js"

const admin = await connectOrFail()
const prefix = uniquePrefix("ratelimit")
afterAll(async () => {
  await deleteKeysWithPrefix(admin, prefix)
  admin.disconnect()
})

// One token per 1000 s: nothing refills while a test runs, so counts are exact without timing.
const slow = { ML_RATE_LIMIT_PER_SECOND: "0.001", ML_RATE_LIMIT_BURST: "3" }

const expectRateLimited = async (response: Response) => {
  expect(response.status).toBe(429)
  const retryAfter = Number(response.headers.get("retry-after"))
  expect(Number.isInteger(retryAfter) && retryAfter >= 1).toBe(true)
  const body = await response.json()
  expect(body).toMatchObject({ code: "RateLimited", status: 429, retryAfterSeconds: retryAfter })
  expect(body.detail).toContain("ML_RATE_LIMIT_PER_SECOND")
}

describe("per-key rate limits", () => {
  it("two instances on one Redis prefix share one bucket: the burst+1th request across both is 429", async () => {
    const env = { ...slow, ML_REDIS_URL: redisUrl, ML_REDIS_PREFIX: prefix }
    const first = await makeTestApp(env)
    const second = await makeTestApp(env)
    try {
      const statuses = []
      for (const app of [first.app, second.app, first.app]) statuses.push((await app.request("/v1/models")).status)
      expect(statuses).toEqual([200, 200, 200])
      await expectRateLimited(await second.app.request("/v1/models"))
      await expectRateLimited(await first.app.request("/v1/models"))
      // In-process requests have no socket: they share the bucket of the client address "local".
      expect(await admin.exists(RedisKeys.rateLimitKey(prefix, "address:local"))).toBe(1)
      // Health, readiness and metrics are never limited.
      for (const path of ["/healthz", "/readyz", "/metrics"]) expect((await first.app.request(path)).status).toBe(200)
    } finally {
      await first.close()
      await second.close()
    }
  })

  it("limits in-process in fs mode, and not at all by default", async () => {
    const limited = await makeTestApp(slow)
    const open = await makeTestApp()
    try {
      for (let i = 0; i < 3; i++) expect((await limited.app.request("/v1/models")).status).toBe(200)
      await expectRateLimited(await limited.app.request("/v1/models"))
      for (let i = 0; i < 50; i++) expect((await open.app.request("/v1/models")).status).toBe(200)
    } finally {
      await limited.close()
      await open.close()
    }
  })

  it("keys buckets by the authenticated principal, and by client address when anonymous", async () => {
    const limiter = await Effect.runPromise(RateLimiter.makeMemory({ perSecond: 0.001, burst: 1 }))
    const app = new Hono<{ Variables: { principal?: Access.Principal } }>()
    app.use("*", async (c, next) => {
      const id = c.req.header("x-test-principal")
      if (id !== undefined) c.set("principal", { id, name: id, role: "ingest" })
      return next()
    })
    app.use("*", rateLimit((bucket) => Effect.runPromise(limiter.take(bucket))))
    app.get("/v1/x", (c) => c.text("ok"))
    const call = (principal?: string) =>
      app.request("/v1/x", principal === undefined ? {} : { headers: { "x-test-principal": principal } })
    expect((await call("key-a")).status).toBe(200)
    expect((await call("key-a")).status).toBe(429)
    expect((await call("key-b")).status).toBe(200)
    expect((await call()).status).toBe(200)
    expect((await call(Access.anonymous.id)).status).toBe(429)
  })

  it("refuses a bad rate-limit setting at start-up, naming the variable", async () => {
    await expect(makeTestApp({ ML_RATE_LIMIT_PER_SECOND: "-1" })).rejects.toThrow(/ML_RATE_LIMIT_PER_SECOND/)
    await expect(makeTestApp({ ML_RATE_LIMIT_BURST: "0" })).rejects.toThrow(/ML_RATE_LIMIT_BURST/)
  })
})
