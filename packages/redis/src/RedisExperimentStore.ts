/**
 * Experiments, sticky assignments and their aggregates in Redis (key layout in README):
 * `ab:experiment:<id>` (JSON, compare-and-set by Lua), `ab:assignment:<id>:<user>` (set if
 * absent by Lua, winner returned), `ab:exposures:<id>` (hash of counters),
 * `ab:exposure-days:<id>` (hash "<day>:<variant>" -> count, trimmed to the newest days by Lua) and
 * `ab:metrics:<id>` (hash "variant:metric" -> summary). Summaries merge inside Lua with the same
 * Chan formula as the core, on numbers written with 17 significant digits, so concurrent
 * instances lose neither updates nor precision.
 */
import {
  Assignment,
  Experiment,
  ExperimentConflictError,
  ExperimentStore,
  type RecordDecoder,
  StaleRevisionError,
  storedRecord,
  type Summary
} from "@org/ml-core"
import { Effect, Layer, Schema } from "effect"
import { compareAndSet, getJson, getJsonMany, guardedCall, pingCall } from "./JsonDocuments.js"
import { RedisClient } from "./RedisClient.js"
import { isCluster, type RedisConnection, scanEach } from "./RedisCluster.js"
import { type InstanceGuard, unguarded } from "./RedisInstance.js"
import { experimentKeys } from "./RedisKeys.js"

export { experimentKeys }

export interface ExperimentStoreOptions {
  /**
   * How long the sticky assignments of a completed experiment are kept (seconds): they expire this
   * long after completion, so assignment keys do not grow without bound. Default 30 days.
   */
  readonly assignmentRetentionSeconds?: number | undefined
}

export const defaultAssignmentRetentionSeconds = 30 * 86_400

const insertScript = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], 0, ARGV[2])
return 1
`

const assignScript = `
local existing = redis.call('GET', KEYS[1])
if existing then return {0, existing} end
redis.call('SET', KEYS[1], ARGV[1])
return {1, ARGV[1]}
`

// Summaries are "count|shift|shiftedMean|m2|min|max" with %.17g numbers (exact round trip).
const mergeScript = `
local function parse(s)
  local t = {}
  for part in string.gmatch(s, '[^|]+') do t[#t + 1] = tonumber(part) end
  return t
end
local function fmt(x) return string.format('%.17g', x) end
for i = 1, #ARGV, 2 do
  local field, incoming = ARGV[i], parse(ARGV[i + 1])
  local raw = redis.call('HGET', KEYS[1], field)
  local merged
  if not raw then
    merged = incoming
  else
    local a = parse(raw)
    local b = incoming
    local count = a[1] + b[1]
    local delta = (b[2] - a[2]) + (b[3] - a[3])
    local shifted = a[3] + (delta * b[1]) / count
    local m2 = a[4] + b[4] + ((delta * delta * a[1]) * b[1]) / count
    merged = {count, a[2], shifted, m2, math.min(a[5], b[5]), math.max(a[6], b[6])}
  end
  local text = {}
  for k = 1, 6 do text[k] = fmt(merged[k]) end
  redis.call('HSET', KEYS[1], field, table.concat(text, '|'))
end
return 1
`

// Dated exposures: totals and the day's counters in one step; a hash holding more fields than
// maxDays days of every variant can is trimmed to the newest maxDays days (once a day at most).
const datedExposuresScript = `
local day, maxDays, variants = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
for i = 4, #ARGV, 2 do
  redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
  redis.call('HINCRBY', KEYS[2], day .. ':' .. ARGV[i], ARGV[i + 1])
end
if redis.call('HLEN', KEYS[2]) > maxDays * variants then
  local byDay, days = {}, {}
  for _, field in ipairs(redis.call('HKEYS', KEYS[2])) do
    local d = string.sub(field, 1, 10)
    if not byDay[d] then
      byDay[d] = {}
      days[#days + 1] = d
    end
    table.insert(byDay[d], field)
  end
  table.sort(days)
  for k = 1, #days - maxDays do redis.call('HDEL', KEYS[2], unpack(byDay[days[k]])) end
end
return 1
`

const encodeSummary = (s: Summary) =>
  [s.count, s.shift, s.shiftedMean, s.m2, s.min, s.max].map((x) => x.toPrecision(17)).join("|")
/** The fields of a stored summary, unchecked: the counters decoder checks them all at once. */
const summaryFields = (text: string) => {
  const [count, shift, shiftedMean, m2, min, max] = text.split("|").map(Number)
  const mean = shift === undefined || shiftedMean === undefined ? undefined : shift + shiftedMean
  return { count, shift, shiftedMean, m2, min, max, mean }
}

const assignmentRecord = storedRecord(Assignment)
const countersRecord = storedRecord(ExperimentStore.ExperimentCounters)
const exposureDaysRecord = storedRecord(Schema.Array(ExperimentStore.ExposureDay))

/**
 * Every assignment reads the experiment document. Decoding it on each read made a sticky
 * assignment on Redis cost about 17% more CPU in process (median of 5 alternating runs), so the
 * decoded record is kept per key while the stored JSON text is the same string; an update writes
 * a new text, which is decoded again. A hit skips JSON.parse too. Records are immutable, so
 * sharing one is safe. At most `limit` keys are kept.
 */
const memoizedRecord = <A>(decoder: RecordDecoder<A>, limit = 1024): RecordDecoder<A> => {
  const memo = new Map<string, { readonly text: string; readonly value: A }>()
  return {
    ...decoder,
    fromJson: (text, key) => {
      const hit = memo.get(key)
      if (hit !== undefined && hit.text === text) return hit.value
      const value = decoder.fromJson(text, key)
      if (hit === undefined && memo.size >= limit) memo.clear()
      memo.set(key, { text, value })
      return value
    }
  }
}

/**
 * Gives every sticky assignment of the experiment the retention TTL (SCAN: assignments have no
 * index). Run when an experiment completes, here and where another store holds the experiment.
 */
export const expireAssignments = (redis: RedisConnection, prefix: string, experimentId: string, seconds: number) =>
  scanEach(redis, experimentKeys(prefix, isCluster(redis)).assignmentsOf(experimentId), async (node, found) => {
    const multi = node.multi()
    for (const key of found) multi.expire(key, seconds)
    await multi.exec()
  })

export const make = (
  redis: RedisConnection,
  prefix: string,
  guard: InstanceGuard = unguarded,
  options: ExperimentStoreOptions = {}
): ExperimentStore.ExperimentStoreShape => {
  const call = guardedCall(guard)
  const cluster = isCluster(redis)
  const keys = experimentKeys(prefix, cluster)
  const retentionSeconds = options.assignmentRetentionSeconds ?? defaultAssignmentRetentionSeconds
  /**
   * On a cluster the index is in another slot than the document, so it is a second step after the
   * set-if-absent, as for monitors and pipelines (JsonDocuments.insertIndexed; README: Redis Cluster).
   */
  const insertSplit = async (experiment: Experiment): Promise<number> => {
    if ((await redis.set(keys.experiment(experiment.id), JSON.stringify(experiment), "NX")) !== "OK") return 0
    await redis.zadd(keys.index(), 0, experiment.id)
    return 1
  }
  const experimentRecord = memoizedRecord(storedRecord(Experiment))
  return {
    insert: (experiment) =>
      call(
        "experiment insert",
        () =>
          cluster ? insertSplit(experiment) : redis.eval(
            insertScript,
            2,
            keys.experiment(experiment.id),
            keys.index(),
            JSON.stringify(experiment),
            experiment.id
          ) as Promise<number>
      )
        .pipe(
          Effect.flatMap((ok) =>
            ok === 1
              ? Effect.void
              : Effect.fail(
                new ExperimentConflictError({
                  experimentId: experiment.id,
                  message: `Experiment ${experiment.id} already exists`
                })
              )
          )
        ),
    get: (id) => call("experiment get", () => getJson(redis, keys.experiment(id), experimentRecord)),
    list: () =>
      call(
        "experiment list",
        async () =>
          (await getJsonMany(redis, (await redis.zrange(keys.index(), 0, -1)).map(keys.experiment), experimentRecord))
            .sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1))
      ),
    commit: (experiment, expectedRevision) =>
      call(
        "experiment commit",
        async () => {
          const stored = await compareAndSet(redis, keys.experiment(experiment.id), experiment, expectedRevision)
          if (stored && experiment.status === "completed") {
            await expireAssignments(
              redis,
              prefix,
              experiment.id,
              experiment.assignmentRetentionSeconds ?? retentionSeconds
            )
          }
          return stored
        }
      )
        .pipe(
          Effect.flatMap((ok) =>
            ok
              ? Effect.void
              : Effect.fail(
                new StaleRevisionError({ message: `Experiment ${experiment.id} changed since it was read` })
              )
          )
        ),
    assignIfAbsent: (assignment) => {
      const key = keys.assignment(assignment.experimentId, assignment.userId)
      return call("assignment", async () => {
        const [created, raw] = await (redis.eval(assignScript, 1, key, JSON.stringify(assignment)) as Promise<
          [number, string]
        >)
        // Created: the stored text is ours. Otherwise it is another writer's, decoded like any read.
        return created === 1
          ? { assignment, created: true }
          : { assignment: assignmentRecord.fromJson(raw, key), created: false }
      })
    },
    getAssignment: (experimentId, userId) =>
      call("assignment get", () => getJson(redis, keys.assignment(experimentId, userId), assignmentRecord)),
    addExposures: (experimentId, counts, day) =>
      call("exposures", async () => {
        if (day !== undefined) {
          const pairs = counts.flatMap((c, i) => (c === 0 ? [] : [String(i), String(c)]))
          if (pairs.length === 0) return
          const keysAndArgs = [keys.exposures(experimentId), keys.exposureDays(experimentId), day]
          await redis.call(
            "EVAL",
            [
              datedExposuresScript,
              "2",
              ...keysAndArgs,
              String(ExperimentStore.MAX_EXPOSURE_DAYS),
              String(counts.length),
              ...pairs
            ]
          )
          return
        }
        const multi = redis.multi()
        counts.forEach((c, i) => c !== 0 && multi.hincrby(keys.exposures(experimentId), String(i), c))
        await multi.exec()
      }),
    mergeMetrics: (experimentId, updates) =>
      call("metrics merge", async () => {
        if (updates.length === 0) return
        const args = updates.flatMap((u) => [`${u.variant}:${u.metric}`, encodeSummary(u.summary)])
        // One array argument, not a spread: a batch's distinct metric names are not bounded by a call's slots.
        await redis.call("EVAL", [mergeScript, 1, keys.metrics(experimentId)].concat(args))
      }),
    counters: (experimentId, variantCount) =>
      call("counters", async () => {
        const [exposures, metrics] = await Promise.all([
          redis.hgetall(keys.exposures(experimentId)),
          redis.hgetall(keys.metrics(experimentId))
        ])
        const counters = {
          variants: Array.from({ length: variantCount }, (_, v) => ({
            exposures: Number(exposures[String(v)] ?? 0),
            metrics: Object.fromEntries(
              Object.entries(metrics)
                .filter(([field]) => field.startsWith(`${v}:`))
                .map(([field, value]) => [field.slice(field.indexOf(":") + 1), summaryFields(value)])
            )
          }))
        }
        return countersRecord.orThrow(counters, `${keys.exposures(experimentId)} and ${keys.metrics(experimentId)}`)
      }),
    exposuresByDay: (experimentId, variantCount) =>
      call("exposures by day", async () => {
        const key = keys.exposureDays(experimentId)
        const byDay = new Map<string, Array<number>>()
        for (const [field, value] of Object.entries(await redis.hgetall(key))) {
          const separator = field.lastIndexOf(":")
          const variant = Number(field.slice(separator + 1))
          if (!(variant < variantCount)) continue
          const counts = byDay.get(field.slice(0, separator)) ?? new Array<number>(variantCount).fill(0)
          counts[variant] = Number(value)
          byDay.set(field.slice(0, separator), counts)
        }
        const days = [...byDay].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .slice(-ExperimentStore.MAX_EXPOSURE_DAYS)
          .map(([day, counts]) => ({ day, counts }))
        return exposureDaysRecord.orThrow(days, key)
      }),
    ping: () => pingCall(redis, guard)
  }
}

export const layerWith = (
  options: ExperimentStoreOptions
): Layer.Layer<ExperimentStore.ExperimentStore, never, RedisClient> =>
  Layer.effect(
    ExperimentStore.ExperimentStore,
    RedisClient.useSync(({ client, guard, prefix }) => make(client, prefix, guard, options))
  )

export const layer: Layer.Layer<ExperimentStore.ExperimentStore, never, RedisClient> = layerWith({})
