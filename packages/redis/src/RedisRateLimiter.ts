/**
 * The RateLimiter port on Redis: one token bucket per key shared by every instance on the same
 * prefix. One Lua script refills the bucket from its stored timestamp using the Redis server's
 * TIME (so instance clocks never matter), takes a token, and sets a TTL of the refill time, so
 * an idle bucket disappears once it would be full anyway. The reply's tokens go through the
 * core's `decide`, so Retry-After is computed exactly as in the memory layer.
 */
import { RateLimiter } from "@org/ml-core"
import { Layer } from "effect"
import { guardedCall } from "./JsonDocuments.js"
import { RedisClient } from "./RedisClient.js"
import type { RedisConnection } from "./RedisCluster.js"
import { type InstanceGuard, unguarded } from "./RedisInstance.js"
import { rateLimitKey } from "./RedisKeys.js"

// KEYS[1] bucket; ARGV: perSecond, burst, ttl ms. Tokens are returned as a string: Lua numbers
// in replies are truncated to integers. The same refill rule as RateLimiter.refill.
const takeScript = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local stored = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(stored[1])
local at = tonumber(stored[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
end
if now > at then
  tokens = math.min(burst, tokens + (now - at) * rate / 1000)
  at = now
end
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', at)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return { allowed, string.format('%.17g', tokens) }
`

export const make = (
  redis: RedisConnection,
  prefix: string,
  limit: RateLimiter.RateLimit,
  guard: InstanceGuard = unguarded
): RateLimiter.RateLimiterShape => {
  const call = guardedCall(guard)
  const ttlMillis = String(RateLimiter.refillMillis(limit) + 1000)
  return {
    take: (key) =>
      call("rate limit", async () => {
        const [allowed, tokens] = await (redis.eval(
          takeScript,
          1,
          rateLimitKey(prefix, key),
          String(limit.perSecond),
          String(limit.burst),
          ttlMillis
        ) as Promise<[number, string]>)
        return RateLimiter.decide(allowed === 1, Number(tokens), limit)
      })
  }
}

export const layer = (limit: RateLimiter.RateLimit): Layer.Layer<RateLimiter.RateLimiter, never, RedisClient> =>
  Layer.effect(
    RateLimiter.RateLimiter,
    RedisClient.useSync(({ client, guard, prefix }) => make(client, prefix, limit, guard))
  )
