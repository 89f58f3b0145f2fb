/**
 * Brings data written before key encoding and per-webhook delivery lists (no instance marker) to
 * the current layout, once, when a server adopts it. Only names that the encoding changes can
 * have moved: feature names (they may hold `:`) in baseline and window keys, and user ids in
 * sticky assignment keys; model names, versions and every id were already restricted to
 * letters, digits, '.', '_' and '-'. Each key is renamed only if the new one does not exist
 * (RENAMENX), so instances adopting at the same time, or a retry after a crash, are harmless.
 * The single delivery list becomes one bounded list per webhook.
 */
import { maxDeliveriesPerWebhook } from "@org/ml-core"
import { isCluster, type RedisConnection } from "./RedisCluster.js"
import { driftKeys, experimentKeys, globLiteral, keyPart } from "./RedisKeys.js"

const renameIfType = async (redis: RedisConnection, from: string, to: string, type: string) => {
  if (from === to || (await redis.type(from)) !== type) return
  await redis.renamenx(from, to)
}

const migrateFeatureKeys = async (redis: RedisConnection, prefix: string) => {
  const keys = driftKeys(prefix)
  for (const monitorId of await redis.smembers(keys.monitors())) {
    const raw = await redis.get(keys.monitor(monitorId))
    if (raw === null) continue
    const features = (JSON.parse(raw) as { features?: Array<{ name: string; type: string }> }).features ?? []
    for (const { name, type } of features) {
      if (keyPart(name) === name) continue
      const legacyWindow = `${prefix}drift:stats:${type}:${monitorId}:${name}`
      const window = keys.window(type, monitorId, name)
      await renameIfType(redis, `${prefix}drift:baseline:${monitorId}:${name}`, keys.baselines(monitorId, name), "list")
      // The legacy window of `f:meta` may be the meta hash of `f`: only a list is a window.
      await renameIfType(redis, legacyWindow, window, "list")
      await renameIfType(redis, keys.windowMeta(legacyWindow), keys.windowMeta(window), "hash")
    }
  }
}

const migrateAssignments = async (redis: RedisConnection, prefix: string) => {
  const keys = experimentKeys(prefix)
  const head = `${prefix}ab:assignment:`
  let cursor = "0"
  do {
    const [next, found] = await redis.scan(cursor, "MATCH", `${globLiteral(head)}*`, "COUNT", 1000)
    cursor = next
    for (const key of found) {
      const rest = key.slice(head.length)
      const separator = rest.indexOf(":") // experiment ids never held ':'; the user id is the rest
      if (separator < 0) continue
      const target = keys.assignment(rest.slice(0, separator), rest.slice(separator + 1))
      if (target !== key) await redis.renamenx(key, target)
    }
  } while (cursor !== "0")
}

const webhookIdOf = (raw: string): string | undefined => {
  try {
    const webhookId = (JSON.parse(raw) as { webhookId?: unknown }).webhookId
    return typeof webhookId === "string" ? webhookId : undefined
  } catch {
    return undefined
  }
}

const migrateDeliveries = async (redis: RedisConnection, prefix: string) => {
  const keys = driftKeys(prefix)
  const legacy = keys.legacyDeliveries()
  if ((await redis.type(legacy)) !== "list") return
  const records = await redis.lrange(legacy, 0, -1)
  const multi = redis.multi()
  for (const raw of records) {
    const webhookId = webhookIdOf(raw)
    if (webhookId === undefined) continue // not a record: reading it would have failed as well
    const sequence = await redis.incr(keys.deliverySequence())
    multi.rpush(keys.deliveriesOf(webhookId), `${sequence}|${raw}`)
      .ltrim(keys.deliveriesOf(webhookId), -maxDeliveriesPerWebhook, -1)
      .sadd(keys.deliveryHooks(), webhookId)
  }
  await multi.del(legacy).exec()
}

export const migrateLegacyKeys = async (redis: RedisConnection, prefix: string): Promise<void> => {
  // The cluster layout came after markers and key encoding: no cluster holds a legacy layout.
  if (isCluster(redis)) return
  await migrateFeatureKeys(redis, prefix)
  await migrateAssignments(redis, prefix)
  await migrateDeliveries(redis, prefix)
}
