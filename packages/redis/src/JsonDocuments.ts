/**
 * What every Redis adapter does with JSON documents stored one per key: run a command as an
 * Effect that fails with a StorageError naming the operation, read one or many documents,
 * insert a document listed in an index set unless its key exists, and replace one only if its
 * stored `revision` is the expected one (compare-and-set in Lua).
 */
import { type RecordDecoder, StorageError } from "@org/ml-core"
import { Effect } from "effect"
import { luaScript } from "./LuaScript.js"
import { checkClusterState, isCluster, type RedisConnection } from "./RedisCluster.js"
import { type InstanceGuard, InstanceRefused, isMarkerMismatch, unguarded } from "./RedisInstance.js"

const describeFailure = (operation: string, cause: unknown) =>
  cause instanceof InstanceRefused
    ? cause.message
    : `Redis ${operation} failed: ${cause instanceof Error ? cause.message : String(cause)}`

/**
 * Runs a command as an Effect that fails with a StorageError naming the operation. With a guard,
 * the command waits until the instance marker was read after a reconnect, and is refused (the
 * refusal's message) while the marker is missing or changed.
 */
export const redisCall = <A>(
  operation: string,
  f: () => Promise<A>,
  guard: InstanceGuard = unguarded
): Effect.Effect<A, StorageError> =>
  Effect.tryPromise({
    try: () => {
      // A script that found the marker changed: read it now, which refuses with the full message.
      const run = () => f().catch(async (error) => Promise.reject(isMarkerMismatch(error) ? await check(error) : error))
      const check = (error: unknown) => guard.check().then(() => error, (refusal) => refusal)
      const waiting = guard.ready()
      return waiting === undefined ? run() : waiting.then(run)
    },
    catch: (cause) => new StorageError({ message: describeFailure(operation, cause), cause })
  })

/** `redisCall` bound to one guard, as each store uses it. */
export const guardedCall =
  (guard: InstanceGuard) => <A>(operation: string, f: () => Promise<A>): Effect.Effect<A, StorageError> =>
    redisCall(operation, f, guard)

/**
 * A readiness probe: the marker read now (a plain PING when there is no guard), and on a cluster
 * every node's cluster_state.
 */
export const pingCall = (redis: RedisConnection, guard: InstanceGuard) =>
  redisCall<unknown>("ping", async () => {
    await (guard === unguarded ? redis.ping() : guard.check())
    if (isCluster(redis)) await checkClusterState(redis)
  }, unguarded).pipe(Effect.asVoid)

/** Parses a stored JSON document and decodes it (when a decoder is given), naming the key on failure. */
export const parseJson = <A>(raw: string, key: string, decoder?: RecordDecoder<A>): A =>
  decoder === undefined ? JSON.parse(raw) as A : decoder.fromJson(raw, key)

export const getJson = async <A>(
  redis: RedisConnection,
  key: string,
  decoder?: RecordDecoder<A>
): Promise<A | undefined> => {
  const raw = await redis.get(key)
  return raw === null ? undefined : parseJson(raw, key, decoder)
}

/** The documents that exist among `keys`, in their order. */
export const getJsonMany = async <A>(
  redis: RedisConnection,
  keys: ReadonlyArray<string>,
  decoder?: RecordDecoder<A>
): Promise<Array<A>> => {
  if (keys.length === 0) return []
  // On a cluster the documents live in many slots: one GET each (ioredis pipelines them per node).
  const raws = isCluster(redis) ? await Promise.all(keys.map((key) => redis.get(key))) : await redis.mget(...keys)
  return raws.flatMap((raw, i) => raw === null ? [] : [parseJson(raw, keys[i]!, decoder)])
}

/** Stores the document unless `key` exists, then lists `id` in `indexKey`; false when it existed. */
export const insertIndexed = async (
  redis: RedisConnection,
  key: string,
  indexKey: string,
  id: string,
  document: unknown
): Promise<boolean> => {
  if ((await redis.set(key, JSON.stringify(document), "NX")) !== "OK") return false
  await redis.sadd(indexKey, id)
  return true
}

/** Every document listed in the index set `indexKey`. */
export const listIndexed = async <A>(
  redis: RedisConnection,
  indexKey: string,
  keyOf: (id: string) => string,
  decoder?: RecordDecoder<A>
): Promise<Array<A>> => getJsonMany<A>(redis, (await redis.smembers(indexKey)).map(keyOf), decoder)

const compareAndSetScript = luaScript(`
local raw = redis.call('GET', KEYS[1])
if not raw or cjson.decode(raw).revision ~= tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
return 1
`)

/** Replaces the document at `key` if its stored revision is `expectedRevision`; false when it is not. */
export const compareAndSet = async (
  redis: RedisConnection,
  key: string,
  document: unknown,
  expectedRevision: number
): Promise<boolean> => (await compareAndSetScript(redis, [key], [JSON.stringify(document), expectedRevision])) === 1
