// The RateLimiter contract on PostgreSQL; each limiter gets a database of its own (fresh buckets),
// seen through a pool of several connections so concurrent takes really race.
import { rateLimiterContract } from "@org/ml-core/testing"
import { Effect } from "effect"
import type { Sql } from "postgres"
import { afterAll, describe, expect, it } from "vitest"
import { PostgresClient, PostgresRateLimiter } from "../src/index.js"
import { freshDatabase, type TestDatabase } from "../src/Testing.js"

const databases: Array<TestDatabase> = []
const pools: Array<Sql> = []
afterAll(async () => {
  await Promise.all(pools.map((sql) => sql.end()))
  for (const database of databases) await database.drop()
})

rateLimiterContract("postgres", async (limit) => {
  const database = await freshDatabase("rate_limiter")
  databases.push(database)
  const sql = await PostgresClient.connect({ url: database.url, maxConnections: 4 })
  pools.push(sql)
  return PostgresRateLimiter.make(PostgresClient.makeClient(sql), limit)
})

describe("PostgresRateLimiter refill", () => {
  it("refills by the time elapsed on the database clock, up to the burst", async () => {
    const database = await freshDatabase("rate_refill")
    databases.push(database)
    const sql = await PostgresClient.connect({ url: database.url, maxConnections: 2 })
    pools.push(sql)
    // One token per 1000 s: the real time the test takes adds nothing that matters.
    const limiter = PostgresRateLimiter.make(PostgresClient.makeClient(sql), { perSecond: 0.001, burst: 2 })
    const take = () => Effect.runPromise(limiter.take("k"))
    expect((await take()).remaining).toBe(1)
    expect((await take()).remaining).toBe(0)
    // Whole seconds until a token is back; a stalled machine may have let a few seconds pass.
    const refused = await take()
    expect(refused.allowed).toBe(false)
    expect(refused.retryAfterSeconds).toBeGreaterThan(950)
    expect(refused.retryAfterSeconds).toBeLessThanOrEqual(1000)
    // 1500 s earlier: 1.5 tokens came back, one is taken, half a token is left.
    await sql`UPDATE ml_rate_buckets SET at_ms = at_ms - 1500000 WHERE key = 'k'`
    expect(await take()).toEqual({ allowed: true, remaining: 0, retryAfterSeconds: 0 })
    const halfway = await take()
    expect(halfway.allowed).toBe(false)
    expect(halfway.retryAfterSeconds).toBeGreaterThan(450)
    expect(halfway.retryAfterSeconds).toBeLessThanOrEqual(500)
    // A day earlier: full again, never above the burst.
    await sql`UPDATE ml_rate_buckets SET at_ms = at_ms - 86400000 WHERE key = 'k'`
    expect(await take()).toEqual({ allowed: true, remaining: 1, retryAfterSeconds: 0 })
  })
})
