/**
 * SDK connections in Redis, shared by every instance: `ml:sdk-connections` is a hash of id ->
 * connection (JSON), `ml:sdk-client-keys` a hash of client key -> id, `ml:sdk-connection-events`
 * the audit list. Each change writes the records and its event in one MULTI (in Cluster mode the
 * keys share the `{ml-sdk}` hash tag). Nothing is cached: a deleted connection's client key stops
 * serving on every instance at the next request.
 */
import { SdkConnections, storedRecord } from "@org/ml-core"
import { Effect, Layer } from "effect"
import { guardedCall, parseJson } from "./JsonDocuments.js"
import { RedisClient } from "./RedisClient.js"
import { isCluster, type RedisConnection } from "./RedisCluster.js"
import { type InstanceGuard, unguarded } from "./RedisInstance.js"

export const sdkConnectionKeys = (prefix: string, cluster = false) => {
  const base = prefix + (cluster ? "{ml-sdk}" : "")
  return {
    byId: () => `${base}ml:sdk-connections`,
    clientKeys: () => `${base}ml:sdk-client-keys`,
    events: () => `${base}ml:sdk-connection-events`
  }
}

const decoder = storedRecord(SdkConnections.SdkConnection)
const eventDecoder = storedRecord(SdkConnections.SdkConnectionEvent)

export const make = (
  redis: RedisConnection,
  prefix = "",
  guard: InstanceGuard = unguarded
): SdkConnections.SdkConnectionStoreShape => {
  const keys = sdkConnectionKeys(prefix, isCluster(redis))
  const call = guardedCall(guard)
  const read = (raw: string | null, id: string) =>
    raw === null ? undefined : parseJson(raw, `${keys.byId()}[${id}]`, decoder)
  const { MAX_SDK_CONNECTION_EVENTS } = SdkConnections
  return {
    create: (connection) =>
      call("create SDK connection", () =>
        redis.multi()
          .hset(keys.byId(), connection.id, JSON.stringify(connection))
          .hset(keys.clientKeys(), connection.clientKey, connection.id)
          .rpush(keys.events(), JSON.stringify(SdkConnections.createdEvent(connection)))
          .ltrim(keys.events(), -MAX_SDK_CONNECTION_EVENTS, -1)
          .exec()).pipe(Effect.asVoid),
    list: () =>
      call("list SDK connections", () => redis.hgetall(keys.byId())).pipe(
        Effect.map((all) =>
          Object.entries(all).map(([id, raw]) => read(raw, id)!).sort((a, b) => a.createdAt.localeCompare(b.createdAt))
        )
      ),
    findByClientKey: (clientKey) =>
      call("find SDK connection", async () => {
        const id = await redis.hget(keys.clientKeys(), clientKey)
        return id === null ? undefined : read(await redis.hget(keys.byId(), id), id)
      }),
    remove: (id, actor, at) =>
      call("delete SDK connection", async () => {
        const connection = read(await redis.hget(keys.byId(), id), id)
        if (connection === undefined) return undefined
        const event: SdkConnections.SdkConnectionEvent = {
          at,
          action: "deleted",
          actor,
          connectionId: id,
          connectionName: connection.name
        }
        await redis.multi()
          .hdel(keys.byId(), id)
          .hdel(keys.clientKeys(), connection.clientKey)
          .rpush(keys.events(), JSON.stringify(event))
          .ltrim(keys.events(), -MAX_SDK_CONNECTION_EVENTS, -1)
          .exec()
        return connection
      }),
    events: () =>
      call("list SDK connection events", () => redis.lrange(keys.events(), 0, -1)).pipe(
        Effect.map((all) => all.map((raw, i) => parseJson(raw, `${keys.events()}[${i}]`, eventDecoder)))
      )
  }
}

export const layer: Layer.Layer<SdkConnections.SdkConnectionStore, never, RedisClient> = Layer.effect(
  SdkConnections.SdkConnectionStore,
  RedisClient.useSync(({ client, guard, prefix }) => SdkConnections.SdkConnectionStore.of(make(client, prefix, guard)))
)
