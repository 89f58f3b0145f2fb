/**
 * API keys in Redis, shared by every instance: `ml:keys` is a hash of token SHA-256 -> key
 * record (JSON), `ml:key-ids` a hash of key id -> token SHA-256 (to revoke by id), `ml:key-events`
 * a list of the audit events of key creation and revocation. Every lookup
 * reads Redis, nothing is cached, so a revocation on one instance is refused by all at the next
 * request. Two concurrent revocations of one key both mark it revoked; the last names revokedBy.
 */
import { KeyStore, storedRecord } from "@org/ml-core"
import { Effect, Layer } from "effect"
import { guardedCall, parseJson } from "./JsonDocuments.js"
import { RedisClient } from "./RedisClient.js"
import { isCluster, type RedisConnection } from "./RedisCluster.js"
import { type InstanceGuard, unguarded } from "./RedisInstance.js"
import { keyStorePrefix } from "./RedisKeys.js"

export const keyStoreKeys = (prefix: string) => ({
  /** Hash: token SHA-256 (hex) -> key record JSON. */
  byHash: () => `${prefix}ml:keys`,
  /** Hash: key id -> token SHA-256 (hex). */
  ids: () => `${prefix}ml:key-ids`,
  /** List: key audit events (JSON), oldest first, trimmed to the newest MAX_KEY_EVENTS. */
  events: () => `${prefix}ml:key-events`
})

const decoder = storedRecord(KeyStore.ApiKey)
const eventDecoder = storedRecord(KeyStore.KeyEvent)

export const make = (redis: RedisConnection, prefix = "", guard: InstanceGuard = unguarded): KeyStore.KeyStoreShape => {
  const keys = keyStoreKeys(keyStorePrefix(prefix, isCluster(redis)))
  const call = guardedCall(guard)
  const read = (raw: string | null, tokenHash: string) =>
    raw === null ? undefined : parseJson(raw, `${keys.byHash()}[${tokenHash}]`, decoder)
  return {
    create: (key, tokenHash) =>
      call(
        "create key",
        () =>
          // One MULTI: the key, its id and its audit event are written together or not at all.
          redis.multi().hset(keys.byHash(), tokenHash, JSON.stringify(key)).hset(keys.ids(), key.id, tokenHash)
            .rpush(keys.events(), JSON.stringify(KeyStore.keyEventOf(key)))
            .ltrim(keys.events(), -KeyStore.MAX_KEY_EVENTS, -1)
            .exec()
      ).pipe(Effect.asVoid),
    findByHash: (tokenHash) =>
      call("find key", () => redis.hget(keys.byHash(), tokenHash)).pipe(Effect.map((raw) => read(raw, tokenHash))),
    list: () =>
      call("list keys", () => redis.hgetall(keys.byHash())).pipe(
        Effect.map((all) =>
          Object.entries(all).map(([tokenHash, raw]) => read(raw, tokenHash)!).sort((a, b) =>
            a.createdAt.localeCompare(b.createdAt)
          )
        )
      ),
    exportRecords: () =>
      call("export keys", () => redis.hgetall(keys.byHash())).pipe(
        Effect.map((all) => Object.entries(all).map(([tokenHash, raw]) => ({ tokenHash, key: read(raw, tokenHash)! })))
      ),
    revoke: (id, revokedBy, at) =>
      call("revoke key", async () => {
        const tokenHash = await redis.hget(keys.ids(), id)
        if (tokenHash === null) return undefined
        const key = read(await redis.hget(keys.byHash(), tokenHash), tokenHash)
        if (key === undefined || key.revokedAt !== undefined) return undefined
        const revoked: KeyStore.ApiKey = { ...key, revokedAt: at, revokedBy }
        await redis.multi().hset(keys.byHash(), tokenHash, JSON.stringify(revoked))
          .rpush(keys.events(), JSON.stringify(KeyStore.keyEventOf(revoked)))
          .ltrim(keys.events(), -KeyStore.MAX_KEY_EVENTS, -1)
          .exec()
        return revoked
      }),
    events: () =>
      call("list key events", () => redis.lrange(keys.events(), 0, -1)).pipe(
        Effect.map((all) => all.map((raw, i) => parseJson(raw, `${keys.events()}[${i}]`, eventDecoder)))
      )
  }
}

export const layer: Layer.Layer<KeyStore.KeyStore, never, RedisClient> = Layer.effect(
  KeyStore.KeyStore,
  RedisClient.useSync(({ client, guard, prefix }) => KeyStore.KeyStore.of(make(client, prefix, guard)))
)
