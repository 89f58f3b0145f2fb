/**
 * Your own adapter against ML Pipeline's contract suite (exported from @org/ml-core/testing): the
 * Leases adapter of src/RedisLeases.ts on the real Redis (ML_TEST_REDIS_URL), under a unique
 * prefix whose keys are deleted afterwards; the client stays the test's.
 */
import { leasesContract } from "@org/ml-core/testing"
import { Redis } from "ioredis"
import { afterAll } from "vitest"
import * as RedisLeases from "../src/RedisLeases.js"

const redis = new Redis(process.env.ML_TEST_REDIS_URL ?? "redis://127.0.0.1:6379", { maxRetriesPerRequest: 1 })
const prefix = `example-leases:${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}:`

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`)
  if (keys.length > 0) await redis.del(...keys)
  await redis.quit()
})

leasesContract("the example's RedisLeases", () => RedisLeases.layer(redis, prefix))
