import { rateLimiterContract } from "@org/ml-core/testing"
import { afterAll } from "vitest"
import { RedisRateLimiter } from "../src/index.js"
import { connectOrFail, prefixPool } from "../src/Testing.js"

const client = await connectOrFail()
const prefixes = prefixPool(client)

afterAll(async () => {
  await prefixes.deleteAll()
  client.disconnect()
})

rateLimiterContract("redis", async (limit) => RedisRateLimiter.make(client, prefixes.fresh("ratelimit"), limit))
