/**
 * Sticky bucketing in Redis for server-side local evaluation shared by many instances: one string
 * key per experiment and user, written with SET NX (set if absent, the first writer wins on every
 * instance, as the server's own sticky assignments), with an optional expiry. It takes any client
 * with ioredis's `get` and `set` signatures and imports nothing, so it is its own entry
 * (`@org/ml-sdk/redis-sticky`) and browser bundles of the SDK never pull a Redis driver.
 */
import { parseStickyAssignment, type StickyAssignment, stickyKey, type StickyStore } from "./StickyStore.js"

/** The two commands the store sends, as ioredis (and compatible clients) spell them. */
export interface RedisLike {
  get(key: string): Promise<string | null>
  set(key: string, value: string, nx: "NX"): Promise<unknown>
  set(key: string, value: string, secondsToken: "EX", seconds: number, nx: "NX"): Promise<unknown>
}

export interface RedisStickyStoreOptions {
  /** Key prefix (default "ml-sticky:"); give each deployment its own. */
  readonly prefix?: string | undefined
  /** Seconds a kept assignment lives (default: forever). */
  readonly ttlSeconds?: number | undefined
}

export const redisStickyStore = (redis: RedisLike, options: RedisStickyStoreOptions = {}): StickyStore => {
  const prefix = options.prefix ?? "ml-sticky:"
  const ttl = options.ttlSeconds === undefined ? undefined : Math.max(1, Math.ceil(options.ttlSeconds))
  const get = async (experimentId: string, userId: string) =>
    parseStickyAssignment(await redis.get(stickyKey(prefix, experimentId, userId)))
  return {
    get,
    setIfAbsent: async (experimentId, userId, assignment): Promise<StickyAssignment> => {
      const key = stickyKey(prefix, experimentId, userId)
      const value = JSON.stringify(assignment)
      const written = await (ttl === undefined ? redis.set(key, value, "NX") : redis.set(key, value, "EX", ttl, "NX"))
      if (written === "OK") return assignment
      // Another writer won: its assignment is the user's (or, unreadable, ours is served unkept).
      return (await get(experimentId, userId)) ?? assignment
    }
  }
}

export type { StickyAssignment, StickyStore } from "./StickyStore.js"
