/**
 * Test helpers (exported as @org/ml-adapter-redis/testing). The real Redis for integration
 * tests: ML_TEST_REDIS_URL (default 127.0.0.1:6379). A missing Redis fails the suite; it never
 * skips. Each run writes under a unique prefix and deletes only its own keys afterwards (never
 * FLUSHDB: the Redis may be shared).
 */
import { Redis } from "ioredis"

export const redisUrl = process.env.ML_TEST_REDIS_URL ?? "redis://127.0.0.1:6379"

export const uniquePrefix = (label: string) =>
  `mltest:${label}:${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}:`

export const connectOrFail = async (): Promise<Redis> => {
  const client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 3000 })
  client.on("error", () => undefined)
  try {
    await client.connect()
    await client.ping()
  } catch (cause) {
    client.disconnect()
    throw new Error(`Redis is required for these tests and did not answer at ${redisUrl}: ${String(cause)}`)
  }
  return client
}

export const deleteKeysWithPrefix = async (client: Redis, prefix: string): Promise<number> => {
  let cursor = "0"
  let deleted = 0
  do {
    const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000)
    cursor = next
    if (keys.length > 0) deleted += await client.del(...keys)
  } while (cursor !== "0")
  return deleted
}

/** Unique prefixes for one test file, handed out by `fresh`; `deleteAll` (in afterAll) removes their keys. */
export const prefixPool = (client: Redis) => {
  const prefixes: Array<string> = []
  return {
    fresh: (label: string) => {
      const prefix = uniquePrefix(label)
      prefixes.push(prefix)
      return prefix
    },
    deleteAll: async () => {
      for (const prefix of prefixes) await deleteKeysWithPrefix(client, prefix)
    }
  }
}
