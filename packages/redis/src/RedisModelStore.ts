/**
 * Model metadata and audit trail in Redis, shared by every server instance. Each mutation is
 * one Lua script, so checking a revision or the production pointer and writing models, counts
 * and audit events happen atomically: no interleaving of instances can leave two production
 * versions of a name or an audit trail that disagrees with the models. The same script gives each
 * audit event its outbox sequence (INCR) and adds it to the outbox sorted set, so the outbox holds
 * exactly the committed events, numbered in commit order (scripts run one at a time).
 */
import {
  AuditEvent,
  matchesQuery,
  Model,
  ModelConflictError,
  ModelId,
  ModelStatus,
  ModelStore,
  RegisteredModel,
  searchModelsIn,
  StaleRevisionError,
  storedRecord
} from "@org/ml-core"
import { Effect, Layer, Schema } from "effect"
import { getJson, guardedCall, parseJson, pingCall } from "./JsonDocuments.js"
import { RedisClient } from "./RedisClient.js"
import { isCluster, type RedisConnection } from "./RedisCluster.js"
import { type InstanceGuard, markerCheckLua, unguarded } from "./RedisInstance.js"
import { instanceKey, registryKeys } from "./RedisKeys.js"

/** Lua appending the event JSON `json` to the outbox: the next sequence, the entry scored by it. */
const outboxAppendLua = (outbox: string, sequence: string, json: string) => `
do
  local seq = redis.call('INCR', ${sequence})
  redis.call('ZADD', ${outbox}, seq, '{"sequence":' .. seq .. ',"event":' .. ${json} .. '}')
end
`

const insertScript = `${markerCheckLua("KEYS[8]", "ARGV[5]")}
local existing = redis.call('GET', KEYS[1])
if existing then return existing end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[3], 0, ARGV[1])
redis.call('HINCRBY', KEYS[4], ARGV[4], 1)
redis.call('RPUSH', KEYS[5], ARGV[3])
redis.call('RPUSH', KEYS[6], ARGV[3])
${outboxAppendLua("KEYS[9]", "KEYS[10]", "ARGV[3]")}
if ARGV[4] == 'production' then redis.call('SET', KEYS[7], ARGV[1]) end
return false
`

// ARGV[1] is a plan whose numbers index KEYS; see commitPlan below.
const commitScript = `
local plan = cjson.decode(ARGV[1])
${markerCheckLua("KEYS[plan.instance]", "plan.marker")}
for _, e in ipairs(plan.expected) do
  local raw = redis.call('GET', KEYS[e.k])
  if not raw or cjson.decode(raw).revision ~= e.revision then return 'stale' end
end
if plan.production then
  local current = redis.call('GET', KEYS[plan.production.k]) or ''
  if current ~= plan.production.expected then return 'stale' end
end
if plan.registered then
  local raw = redis.call('GET', KEYS[plan.registered.k])
  local revision = 0
  if raw then revision = cjson.decode(raw).revision end
  if revision ~= plan.registered.expected then return 'stale' end
end
for _, p in ipairs(plan.put) do
  local old = redis.call('GET', KEYS[p.k])
  if old then
    redis.call('HINCRBY', KEYS[plan.counts], cjson.decode(old).status, -1)
  else
    redis.call('ZADD', KEYS[plan.index], 0, p.id)
  end
  redis.call('SET', KEYS[p.k], ARGV[p.json])
  redis.call('HINCRBY', KEYS[plan.counts], p.status, 1)
  if p.status == 'production' then
    redis.call('SET', KEYS[p.pk], p.id)
  elseif not p.replaced and redis.call('GET', KEYS[p.pk]) == p.id then
    redis.call('DEL', KEYS[p.pk])
  end
end
if plan.registered then
  redis.call('SET', KEYS[plan.registered.k], ARGV[plan.registered.json])
  redis.call('ZADD', KEYS[plan.registered.index], 0, plan.registered.name)
end
for _, ev in ipairs(plan.events) do
  redis.call('RPUSH', KEYS[ev.m], ARGV[ev.json])
  redis.call('RPUSH', KEYS[ev.n], ARGV[ev.json])
  ${outboxAppendLua("KEYS[plan.outbox]", "KEYS[plan.sequence]", "ARGV[ev.json]")}
end
return 'ok'
`

// Moves a consumer's cursor forward only: a late or repeated write never moves it back.
const advanceCursorScript = `${markerCheckLua("KEYS[2]", "ARGV[3]")}
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if tonumber(ARGV[2]) > current then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 'ok'
`

// What the scripts and hashes answer is decoded like any stored record, naming the key it came from.
const models = storedRecord(Model)
const registeredModels = storedRecord(RegisteredModel)
const auditEvents = storedRecord(AuditEvent)
/** The insert script answers the id already registered as (name, version), or null when it stored ours. */
const insertResults = storedRecord(Schema.NullOr(ModelId))
const commitResults = storedRecord(Schema.Literals(["ok", "stale"]))
const statusCounts = storedRecord(Schema.Record(Schema.String, Schema.FiniteFromString))
const isModelStatus = Schema.is(ModelStatus)
const recordedEvents = storedRecord(Schema.Struct({ sequence: Schema.Int, event: AuditEvent }))
const cursorValues = storedRecord(Schema.NullOr(Schema.FiniteFromString))

export const make = (
  redis: RedisConnection,
  prefix: string,
  guard: InstanceGuard = unguarded
): ModelStore.ModelStoreShape => {
  const call = guardedCall(guard)
  const cluster = isCluster(redis)
  const keys = registryKeys(prefix, cluster)
  const modelAt = (id: string) => getJson(redis, keys.model(id), models)
  const eventsAt = async (key: string): Promise<ReadonlyArray<AuditEvent>> =>
    (await redis.lrange(key, 0, -1)).map((raw, index) => parseJson(raw, `${key}[${index}]`, auditEvents))

  const get = (id: string) => call("get", () => modelAt(id))

  return {
    insert: (model, event) =>
      call("insert", () =>
        redis.eval(
          insertScript,
          10,
          keys.nameVersion(model.name, model.version),
          keys.model(model.id),
          keys.index(),
          keys.counts(),
          keys.auditOfModel(model.id),
          keys.auditOfName(model.name),
          keys.production(model.name),
          instanceKey(prefix, cluster),
          keys.events(),
          keys.eventSequence(),
          model.id,
          JSON.stringify(model),
          JSON.stringify(event),
          model.status,
          guard.markerId()
        )).pipe(
          Effect.flatMap((answer) => insertResults.decode(answer, `the insert script's answer for ${model.id}`)),
          Effect.flatMap((existingId) =>
            existingId === null
              ? Effect.void
              : Effect.fail(
                new ModelConflictError({
                  name: model.name,
                  version: model.version,
                  existingId,
                  message: `Model ${model.name} version ${model.version} is already registered`
                })
              )
          )
        ),

    get,

    findByNameVersion: (name, version) =>
      call("lookup", async () => {
        const id = await redis.get(keys.nameVersion(name, version))
        return id === null ? undefined : modelAt(id)
      }),

    productionOf: (name) =>
      call("production lookup", async () => {
        const id = await redis.get(keys.production(name))
        return id === null ? undefined : modelAt(id)
      }),

    list: (query) =>
      call("list", async () => {
        const found: Array<Model> = []
        let from = query.cursor === undefined ? "-" : `(${query.cursor}`
        const batch = Math.max(100, query.limit)
        for (;;) {
          const ids = await redis.zrangebylex(keys.index(), from, "+", "LIMIT", 0, batch)
          if (ids.length === 0) break
          const modelKeys = ids.map(keys.model)
          const raws = await redis.mget(modelKeys)
          for (let i = 0; i < raws.length; i++) {
            const raw = raws[i]!
            if (raw === null) continue
            const model = parseJson(raw, modelKeys[i]!, models)
            if (matchesQuery(model, query)) {
              found.push(model)
              if (found.length === query.limit) return found
            }
          }
          if (ids.length < batch) break
          from = `(${ids[ids.length - 1]}`
        }
        return found
      }),

    // Filtered and ordered in process over a scan of the index, as `list` is: the store keeps no
    // secondary indexes of metrics or tags, and a search reads each model once.
    search: (query) =>
      call("search", async () => {
        const found: Array<Model> = []
        let from = "-"
        const batch = 500
        for (;;) {
          const ids = await redis.zrangebylex(keys.index(), from, "+", "LIMIT", 0, batch)
          if (ids.length === 0) break
          const modelKeys = ids.map(keys.model)
          const raws = await redis.mget(modelKeys)
          for (let i = 0; i < raws.length; i++) {
            const raw = raws[i]!
            if (raw !== null) found.push(parseJson(raw, modelKeys[i]!, models))
          }
          if (ids.length < batch) break
          from = `(${ids[ids.length - 1]}`
        }
        return searchModelsIn(found, query)
      }),

    commit: (change) =>
      Effect.suspend(() => {
        const keyList: Array<string> = []
        const argv: Array<string> = ["plan"]
        const key = (k: string) => keyList.push(k)
        const arg = (value: string) => argv.push(value)
        const plan = {
          instance: key(instanceKey(prefix, cluster)),
          marker: guard.markerId(),
          counts: key(keys.counts()),
          index: key(keys.index()),
          outbox: key(keys.events()),
          sequence: key(keys.eventSequence()),
          expected: change.expected.map(({ id, revision }) => ({ k: key(keys.model(id)), revision })),
          // Omitted rather than null: cjson decodes null as a userdata value, not nil.
          ...(change.production
            ? {
              production: {
                k: key(keys.production(change.production.name)),
                expected: change.production.expectedId ?? ""
              }
            }
            : {}),
          put: change.put.map((model) => ({
            k: key(keys.model(model.id)),
            pk: key(keys.production(model.name)),
            id: model.id,
            status: model.status,
            json: arg(JSON.stringify(model)),
            replaced: change.put.some((other) => other.name === model.name && other.status === "production")
          })),
          // Revision 0 stands for "not stored yet" (the commit expects none).
          ...(change.registered
            ? {
              registered: {
                k: key(keys.registered(change.registered.put.name)),
                index: key(keys.registeredIndex()),
                name: change.registered.put.name,
                expected: change.registered.expectedRevision ?? 0,
                json: arg(JSON.stringify(change.registered.put))
              }
            }
            : {}),
          events: change.events.map((event) => ({
            m: key(keys.auditOfModel(event.modelId)),
            n: key(keys.auditOfName(event.name)),
            json: arg(JSON.stringify(event))
          }))
        }
        argv[0] = JSON.stringify(plan)
        return call("commit", () => redis.eval(commitScript, keyList.length, ...keyList, ...argv))
      }).pipe(
        Effect.flatMap((answer) => commitResults.decode(answer, "the commit script's answer")),
        Effect.flatMap((result) =>
          result === "ok"
            ? Effect.void
            : Effect.fail(
              new StaleRevisionError({ message: "A model or production version changed since it was read" })
            )
        )
      ),

    getRegistered: (name) =>
      call("registered model lookup", () => getJson(redis, keys.registered(name), registeredModels)),

    listRegistered: (query) =>
      call("registered model list", async () => {
        // Names are identifiers (ASCII), so Redis's bytewise order is the order the other stores use.
        const start = query.cursor !== undefined && (query.namePrefix === undefined || query.cursor >= query.namePrefix)
          ? `(${query.cursor}`
          : query.namePrefix !== undefined
          ? `[${query.namePrefix}`
          : "-"
        const names = (await redis.zrangebylex(keys.registeredIndex(), start, "+", "LIMIT", 0, query.limit))
          .filter((name) => query.namePrefix === undefined || name.startsWith(query.namePrefix))
        if (names.length === 0) return []
        const registeredKeys = names.map(keys.registered)
        const raws = await redis.mget(registeredKeys)
        return raws.flatMap((raw, i) => raw === null ? [] : [parseJson(raw, registeredKeys[i]!, registeredModels)])
      }),

    countByStatus: () =>
      call("count", async () => {
        const counts = ModelStore.emptyStatusCounts()
        const stored = statusCounts.orThrow(await redis.hgetall(keys.counts()), keys.counts())
        for (const [status, value] of Object.entries(stored)) {
          if (isModelStatus(status)) counts[status] = value
        }
        return counts
      }),

    historyOf: (id) => call("history", () => eventsAt(keys.auditOfModel(id))),
    historyOfName: (name) => call("history", () => eventsAt(keys.auditOfName(name))),
    eventsAfter: (sequence, limit) =>
      call("outbox read", async () => {
        const key = keys.events()
        const raws = await redis.zrangebyscore(
          key,
          `(${Math.max(0, Math.floor(sequence))}`,
          "+inf",
          "LIMIT",
          0,
          ModelStore.eventReadLimit(limit)
        )
        return raws.map((raw) => parseJson(raw, key, recordedEvents))
      }),
    eventCursor: (consumer) =>
      call("cursor read", async () => {
        const key = keys.eventCursors()
        return cursorValues.orThrow(await redis.hget(key, consumer), `${key} ${consumer}`) ?? 0
      }),
    advanceEventCursor: (consumer, sequence) =>
      call("cursor write", () =>
        redis.eval(
          advanceCursorScript,
          2,
          keys.eventCursors(),
          instanceKey(prefix, cluster),
          consumer,
          String(sequence),
          guard.markerId()
        )).pipe(Effect.asVoid),
    ping: () => pingCall(redis, guard)
  }
}

export const layer: Layer.Layer<ModelStore.ModelStore, never, RedisClient> = Layer.effect(
  ModelStore.ModelStore,
  RedisClient.useSync(({ client, guard, prefix }) => make(client, prefix, guard))
)
