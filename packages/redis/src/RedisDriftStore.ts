/**
 * Drift monitoring state in Redis, shared by every instance (key layout in README). A window is
 * the list `drift:stats:<type>:<monitor>:<feature>` of recorded batches ("<length>|<JSON array>"),
 * with `<...>:meta` holding the value count and how many values of the first batch are already
 * outside the window. One Lua script (by EVALSHA) appends a request's batch to every feature's
 * window and drops what fell out, so concurrent recorders lose nothing, a request costs one round
 * trip however many features it has, and a batch of 10,000 values costs Redis one list element.
 * Reports and alerts (`drift:alert:<id>`) are kept by time in a sorted set and pruned past the
 * retention; leases are SET NX PX.
 */
import {
  AlertState,
  Baseline,
  Delivery,
  DriftReport,
  DriftStore,
  Leases,
  maxDeliveriesPerWebhook,
  Monitor,
  MonitorConflictError,
  storedRecord,
  Webhook,
  type WindowValue,
  WindowValues
} from "@org/ml-core"
import { Effect, Layer } from "effect"
import { getJson, getJsonMany, guardedCall, insertIndexed, listIndexed, parseJson } from "./JsonDocuments.js"
import { luaScript } from "./LuaScript.js"
import { RedisClient } from "./RedisClient.js"
import { isCluster, type RedisConnection } from "./RedisCluster.js"
import { type InstanceGuard, unguarded } from "./RedisInstance.js"
import { driftKeys } from "./RedisKeys.js"
import { makeScriptBatcher, noKeys } from "./ScriptBatches.js"

// What is read back is decoded (a damaged or foreign record is a StorageError naming its key).
const monitorRecord = storedRecord(Monitor)
const baselineRecord = storedRecord(Baseline)
const alertStateRecord = storedRecord(AlertState)
const reportRecord = storedRecord(DriftReport)
const webhookRecord = storedRecord(Webhook)
const deliveryRecord = storedRecord(Delivery)
const windowChunk = storedRecord(WindowValues)

export { driftKeys }

/**
 * Appends one batch to the windows of several features of a monitor, atomically. KEYS: per
 * feature its chunks list and meta hash. ARGV: the window size, then per feature
 * "<len>|<json>" and len. Whole batches fall out of the front; of a batch only partly outside
 * the window, `skip` counts the values already gone.
 */
export const windowPushScript = luaScript(`
local n = tonumber(ARGV[1])
for k = 1, #KEYS / 2 do
  local list, meta = KEYS[2 * k - 1], KEYS[2 * k]
  redis.call('RPUSH', list, ARGV[2 * k])
  local count = tonumber(redis.call('HINCRBY', meta, 'count', tonumber(ARGV[2 * k + 1])))
  local skip = tonumber(redis.call('HGET', meta, 'skip') or '0')
  while count - skip > n do
    local first = redis.call('LINDEX', list, 0)
    local len = tonumber(string.match(first, '^(%d+)|'))
    if count - len >= n then
      redis.call('LPOP', list)
      count = count - len
      skip = 0
    else
      skip = count - n
    end
  end
  redis.call('HSET', meta, 'count', count, 'skip', skip)
end
return 1
`)

/**
 * The keys and per-feature arguments of windowPushScript for features' window keys and their
 * values; the script's first argument, the window size, goes before them.
 */
export const windowPushArguments = (
  features: ReadonlyArray<{ readonly windowKey: string; readonly values: ReadonlyArray<WindowValue> }>,
  metaKeyOf: (windowKey: string) => string
) => {
  const keys: Array<string> = []
  const args: Array<string | number> = []
  for (const { values, windowKey } of features) {
    keys.push(windowKey, metaKeyOf(windowKey))
    args.push(`${values.length}|${JSON.stringify(values)}`, values.length)
  }
  return { keys, args }
}

/** A monitor as this process keeps it: the record, each feature's type and window key. */
interface MonitorEntry {
  readonly monitor: Monitor
  readonly typeOf: ReadonlyMap<string, string>
  readonly windowOf: ReadonlyMap<string, string>
}

export const make = (
  redis: RedisConnection,
  prefix: string,
  guard: InstanceGuard = unguarded,
  /** Where monitors are read when another store holds them (PostgreSQL with Redis); default: this Redis. */
  monitorSource?: (id: string) => Promise<Monitor | undefined>
): DriftStore.DriftStoreShape => {
  const call = guardedCall(guard)
  const cluster = isCluster(redis)
  const keys = driftKeys(prefix, cluster)
  /**
   * Monitors never change once created (the port has no update or delete), so each is read and
   * decoded once per process: recording a batch costs no extra round trip for its monitor.
   */
  const monitors = new Map<string, MonitorEntry>()
  const pushBatch = makeScriptBatcher((scriptKeys, args) => windowPushScript.now(redis, scriptKeys, args))
  const readCached = async (id: string) => {
    const cached = monitors.get(id)
    if (cached !== undefined) return cached
    const monitor = monitorSource === undefined
      ? await getJson(redis, keys.monitor(id), monitorRecord)
      : await monitorSource(id)
    if (monitor === undefined) return undefined
    const typeOf = new Map(monitor.features.map((f) => [f.name, f.type]))
    // A monitor's features are fixed, so their window keys are built (names encoded) once.
    const windowOf = new Map(monitor.features.map((f) => [f.name, keys.window(f.type, id, f.name)]))
    const entry = { monitor, typeOf, windowOf }
    monitors.set(id, entry)
    return entry
  }
  const readMonitor = async (id: string) => (await readCached(id))?.monitor
  /** Each feature's window key holds its type, from the monitor. */
  const windowKeysOf = (monitorId: string, entry: MonitorEntry | undefined) => (feature: string) =>
    entry?.windowOf.get(feature) ?? keys.window(entry?.typeOf.get(feature) ?? "numeric", monitorId, feature)
  const windowKeys = async (monitorId: string) => windowKeysOf(monitorId, await readCached(monitorId))
  return {
    insertMonitor: (monitor) =>
      call("monitor insert", () => insertIndexed(redis, keys.monitor(monitor.id), keys.monitors(), monitor.id, monitor))
        .pipe(
          Effect.flatMap((
            inserted
          ) => (inserted
            ? Effect.void
            : Effect.fail(
              new MonitorConflictError({ monitorId: monitor.id, message: `Monitor ${monitor.id} already exists` })
            ))
          )
        ),
    getMonitor: (id) => {
      // A kept monitor is answered without a promise or a fiber suspension (every observations
      // request asks for its monitor first).
      const known = monitors.get(id)
      return known === undefined ? call("monitor get", () => readMonitor(id)) : Effect.succeed(known.monitor)
    },
    listMonitors: () => call("monitor list", () => listIndexed(redis, keys.monitors(), keys.monitor, monitorRecord)),
    addBaseline: (monitorId, feature, baseline) =>
      call("baseline add", () => redis.rpush(keys.baselines(monitorId, feature), JSON.stringify(baseline))).pipe(
        Effect.asVoid
      ),
    baselines: (monitorId, feature) =>
      call("baselines", async () => {
        const key = keys.baselines(monitorId, feature)
        return (await redis.lrange(key, 0, -1)).map((raw, i) => parseJson(raw, `${key}[${i}]`, baselineRecord))
      }),
    pushWindows: (monitorId, valuesByFeature, windowSize) =>
      call("window push", async () => {
        // A known monitor (every one after its first batch) needs no await.
        const known = monitors.get(monitorId)
        const windowKeyOf = known === undefined ? await windowKeys(monitorId) : windowKeysOf(monitorId, known)
        const features = []
        for (const feature of Object.keys(valuesByFeature)) {
          const values = valuesByFeature[feature]!
          if (values.length > 0) features.push({ windowKey: windowKeyOf(feature), values })
        }
        if (features.length === 0) return
        const { args, keys: scriptKeys } = windowPushArguments(features, keys.windowMeta)
        // Concurrent batches of one monitor share one script call (ScriptBatches.ts): the window
        // size first, then each batch's features in the order they came.
        await pushBatch(`${monitorId}\u0000${windowSize}`, noKeys, [windowSize], scriptKeys, args, 0)
      }),
    window: (monitorId, feature) =>
      call("window read", async () => {
        const key = (await windowKeys(monitorId))(feature)
        const [chunks, skip] = await Promise.all([redis.lrange(key, 0, -1), redis.hget(keys.windowMeta(key), "skip")])
        const values = chunks.flatMap((chunk, i) =>
          windowChunk.fromJson(chunk.slice(chunk.indexOf("|") + 1), `${key}[${i}]`)
        )
        return values.slice(Number(skip ?? 0))
      }),
    alertStates: (monitorId) =>
      call("alert states", async () => {
        const key = keys.states(monitorId)
        const fields = Object.entries(await redis.hgetall(key))
        return Object.fromEntries(
          fields.map(([feature, raw]) => [feature, parseJson(raw, `${key}.${feature}`, alertStateRecord)])
        )
      }),
    setAlertState: (monitorId, feature, state) =>
      call("alert state", () => redis.hset(keys.states(monitorId), feature, JSON.stringify(state))).pipe(Effect.asVoid),
    appendReport: (report, retainSince) =>
      call("report append", async () => {
        if (cluster) {
          // Other slots: the documents first, then the index entry that lists them.
          await Promise.all([
            redis.set(keys.report(report.id), JSON.stringify(report)),
            ...report.alerts.map((alert) => redis.set(keys.alert(alert.id), JSON.stringify(alert)))
          ])
          await redis.zadd(keys.reports(), Date.parse(report.at), report.id)
        } else {
          const multi = redis.multi().set(keys.report(report.id), JSON.stringify(report)).zadd(
            keys.reports(),
            Date.parse(report.at),
            report.id
          )
          for (const alert of report.alerts) multi.set(keys.alert(alert.id), JSON.stringify(alert))
          await multi.exec()
        }
        const expired = await redis.zrangebyscore(keys.reports(), "-inf", `(${Date.parse(retainSince)}`)
        if (expired.length > 0) {
          // Retention is per monitor: only this monitor's old reports (and their alerts) go.
          const old = (await getJsonMany(redis, expired.map(keys.report), reportRecord))
            .filter((r) => r.monitorId === report.monitorId)
          if (old.length > 0 && cluster) {
            // The index entries go first, so no listed report ever lacks its document.
            await redis.zrem(keys.reports(), ...old.map((r) => r.id))
            await Promise.all(
              [...old.map((r) => keys.report(r.id)), ...old.flatMap((r) => r.alerts.map((a) => keys.alert(a.id)))]
                .map((key) => redis.del(key))
            )
          } else if (old.length > 0) {
            await redis.multi()
              .del(...old.map((r) => keys.report(r.id)), ...old.flatMap((r) => r.alerts.map((a) => keys.alert(a.id))))
              .zrem(keys.reports(), ...old.map((r) => r.id))
              .exec()
          }
        }
      }),
    reports: (monitorId, since) =>
      call("reports", async () => {
        const ids = await redis.zrangebyscore(keys.reports(), since === undefined ? "-inf" : Date.parse(since), "+inf")
        return (await getJsonMany(redis, ids.map(keys.report), reportRecord))
          .filter((r) => monitorId === undefined || r.monitorId === monitorId)
      }),
    getReport: (id) => call("report get", () => getJson(redis, keys.report(id), reportRecord)),
    putWebhook: (webhook) =>
      call("webhook put", () => redis.hset(keys.webhooks(), webhook.id, JSON.stringify(webhook))).pipe(Effect.asVoid),
    deleteWebhook: (id) => call("webhook delete", () => redis.hdel(keys.webhooks(), id)).pipe(Effect.map((n) => n > 0)),
    listWebhooks: () =>
      call("webhooks", async () => {
        const key = keys.webhooks()
        return Object.entries(await redis.hgetall(key)).map(([id, raw]) =>
          parseJson(raw, `${key}.${id}`, webhookRecord)
        )
      }),
    appendDelivery: (delivery) =>
      call("delivery", async () => {
        // Each webhook keeps its newest records; a global sequence orders records across webhooks.
        const key = keys.deliveriesOf(delivery.webhookId)
        const sequence = await redis.incr(keys.deliverySequence())
        if (cluster) {
          // The webhook's list is another slot than the set naming it: the set first, so every list is found.
          await redis.sadd(keys.deliveryHooks(), delivery.webhookId)
          await redis.multi()
            .rpush(key, `${sequence}|${JSON.stringify(delivery)}`)
            .ltrim(key, -maxDeliveriesPerWebhook, -1)
            .exec()
          return
        }
        await redis.multi()
          .rpush(key, `${sequence}|${JSON.stringify(delivery)}`)
          .ltrim(key, -maxDeliveriesPerWebhook, -1)
          .sadd(keys.deliveryHooks(), delivery.webhookId)
          .exec()
      }),
    deliveries: (webhookId) =>
      call("deliveries", async () => {
        const hooks = webhookId === undefined ? await redis.smembers(keys.deliveryHooks()) : [webhookId]
        const records = await Promise.all(hooks.map(async (hook) => {
          const key = keys.deliveriesOf(hook)
          return (await redis.lrange(key, 0, -1)).map((entry, i) => {
            const separator = entry.indexOf("|")
            return {
              sequence: Number(entry.slice(0, separator)),
              delivery: parseJson(entry.slice(separator + 1), `${key}[${i}]`, deliveryRecord)
            }
          })
        }))
        return records.flat().sort((a, b) => a.sequence - b.sequence).map((r) => r.delivery)
      })
  }
}

export const makeLeases = (
  redis: RedisConnection,
  prefix: string,
  guard: InstanceGuard = unguarded
): Leases.LeasesShape => {
  const keys = driftKeys(prefix, isCluster(redis))
  const call = guardedCall(guard)
  return {
    acquire: (name, owner, ttlMillis) =>
      call("lease", () => redis.set(keys.lease(name), owner, "PX", Math.max(1, Math.round(ttlMillis)), "NX")).pipe(
        Effect.map((r) => r === "OK")
      ),
    release: (name, owner) =>
      call(
        "lease release",
        () =>
          redis.eval(
            "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
            1,
            keys.lease(name),
            owner
          )
      ).pipe(Effect.asVoid)
  }
}

export const layer: Layer.Layer<DriftStore.DriftStore | Leases.Leases, never, RedisClient> = Layer.mergeAll(
  Layer.effect(DriftStore.DriftStore, RedisClient.useSync(({ client, guard, prefix }) => make(client, prefix, guard))),
  Layer.effect(Leases.Leases, RedisClient.useSync(({ client, guard, prefix }) => makeLeases(client, prefix, guard)))
)
