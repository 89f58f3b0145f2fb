/**
 * Experiments, sticky assignments and their aggregates in Redis (key layout in README):
 * `ab:experiment:<id>` (JSON, compare-and-set by Lua), `ab:assignment:<id>:<user>` (set if
 * absent by Lua, winner returned), `ab:exposures:<id>` (hash of counters),
 * `ab:exposure-days:<id>` (hash "<day>:<variant>" -> count, trimmed to the newest days by Lua) and
 * `ab:metrics:<id>` (hash "variant:metric" -> summary; "c:variant:metric" and "d:variant:metric" ->
 * the paired summaries of covariates and denominators) and `ab:sequential:<id>` (hash
 * "variant:metric" -> running minimum of the always-valid p-value, lowered by Lua); dimension
 * breakdowns in `ab:dimension-values:<id>`, `ab:dimension-metrics:<id>` and
 * `ab:dimension-exposures:<id>` (fields joined by \x1f, which names and values cannot hold). Summaries merge
 * inside Lua with the same Chan formula as the core, on numbers written with 17 significant
 * digits, so concurrent instances lose neither updates nor precision.
 * The compare-and-set of a definition appends to `ab:definitions:<id>` (the list of its definition
 * history, trimmed to the newest MAX_DEFINITION_HISTORY) in the same script.
 */
import {
  Assignment,
  DefinitionRevision,
  definitionRevisionOf,
  DimensionSlice,
  Experiment,
  ExperimentConflictError,
  ExperimentStore,
  MAX_DEFINITION_HISTORY,
  type PairedSummary,
  type RecordDecoder,
  StaleRevisionError,
  type StorageError,
  storedRecord,
  type Summary
} from "@org/ml-core"
import { Effect, Layer, Result, Schema } from "effect"
import { getJson, getJsonMany, guardedCall, pingCall } from "./JsonDocuments.js"
import { luaScript } from "./LuaScript.js"
import { RedisClient } from "./RedisClient.js"
import { isCluster, type RedisConnection, scanEach, scanStep } from "./RedisCluster.js"
import { type InstanceGuard, unguarded } from "./RedisInstance.js"
import { experimentKeys } from "./RedisKeys.js"
import { makeScriptBatcher, noKeys } from "./ScriptBatches.js"

export { experimentKeys }

export interface ExperimentStoreOptions {
  /**
   * How long the sticky assignments of a completed experiment are kept (seconds): they expire this
   * long after completion, so assignment keys do not grow without bound. Default 30 days.
   */
  readonly assignmentRetentionSeconds?: number | undefined
}

export const defaultAssignmentRetentionSeconds = 30 * 86_400

// KEYS[3] the definition history: its first entry (ARGV[3]) is written with the experiment.
const insertScript = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], 0, ARGV[2])
redis.call('RPUSH', KEYS[3], ARGV[3])
return 1
`

// On a cluster the index is elsewhere; the experiment and its history share a slot (one hash tag).
const insertDocumentScript = luaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('RPUSH', KEYS[2], ARGV[2])
return 1
`)

// Compare-and-set on the stored revision (ARGV[2]), appending the definition history entry
// (ARGV[3]) and trimming the history to the newest ARGV[4] entries, in one step.
const commitScript = luaScript(`
local raw = redis.call('GET', KEYS[1])
if not raw or cjson.decode(raw).revision ~= tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('RPUSH', KEYS[2], ARGV[3])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[4]), -1)
return 1
`)

// Replaces the history of a stored experiment (migration) with ARGV (oldest first).
const replaceDefinitionsScript = luaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('DEL', KEYS[2])
if #ARGV > 0 then redis.call('RPUSH', KEYS[2], unpack(ARGV)) end
return 1
`)

const assignScript = `
local existing = redis.call('GET', KEYS[1])
if existing then return {0, existing} end
redis.call('SET', KEYS[1], ARGV[1])
return {1, ARGV[1]}
`

// Summaries are "count|shift|shiftedMean|m2|min|max" with %.17g numbers (exact round trip); fields
// "c:..." and "d:..." hold paired summaries (below).
// mergeSummaries merges the (field, summary) pairs of ARGV from index `first` into the hash `key`.
const mergeLua = `
local function parse(s)
  local t = {}
  for part in string.gmatch(s, '[^|]+') do t[#t + 1] = tonumber(part) end
  return t
end
local function fmt(x) return string.format('%.17g', x) end
-- Paired summaries: "count|shiftX|shiftedMeanX|m2X|shiftY|shiftedMeanY|m2Y|coMoment", merged with
-- the core's mergePairedSummaries (Chan's formula with the co-moment term).
local function mergePaired(a, b)
  local count = a[1] + b[1]
  local dx = (b[2] - a[2]) + (b[3] - a[3])
  local dy = (b[5] - a[5]) + (b[6] - a[6])
  local weight = (a[1] * b[1]) / count
  return {
    count, a[2], a[3] + (dx * b[1]) / count, a[4] + b[4] + dx * dx * weight,
    a[5], a[6] + (dy * b[1]) / count, a[7] + b[7] + dy * dy * weight, a[8] + b[8] + dx * dy * weight
  }
end
local function mergeSummaries(key, first)
  for i = first, #ARGV, 2 do
    local field, incoming = ARGV[i], parse(ARGV[i + 1])
    local raw = redis.call('HGET', key, field)
    local merged
    local kind = string.sub(field, 1, 2)
    if not raw then
      merged = incoming
    elseif kind == 'c:' or kind == 'd:' then
      merged = mergePaired(parse(raw), incoming)
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
    for k = 1, #merged do text[k] = fmt(merged[k]) end
    redis.call('HSET', key, field, table.concat(text, '|'))
  end
end
`

// Running minima: ARGV holds (field, p-value) pairs, each p-value with 17 significant digits. A
// field takes the incoming text when it is absent or larger, so the minimum is exact across
// instances; the reply is the stored text of each field afterwards (strings: Lua numbers would
// come back as integers).
const lowerMinimaScript = luaScript(`
local stored = {}
for i = 1, #ARGV, 2 do
  local field, incoming = ARGV[i], ARGV[i + 1]
  local current = redis.call('HGET', KEYS[1], field)
  if not current or tonumber(incoming) < tonumber(current) then
    redis.call('HSET', KEYS[1], field, incoming)
    current = incoming
  end
  stored[#stored + 1] = current
end
return stored
`)

const mergeScript = luaScript(`${mergeLua}
mergeSummaries(KEYS[1], 1)
return 1
`)

// Breakdowns: the value kept for (dimension, value), decided in the same script as the merge so
// instances agree on which values fit under the cap (ARGV[1] the cap, ARGV[2] DIMENSION_OTHER, which
// takes no place). KEYS[1] holds "<dimension>" -> values kept and "<dimension>\x1f<value>" -> 1.
const dimensionValueLua = `
local function keptValue(valuesKey, dimension, value)
  local cap, other = tonumber(ARGV[1]), ARGV[2]
  if value ~= other then
    if redis.call('HEXISTS', valuesKey, dimension .. '\\31' .. value) == 1 then return value end
    if tonumber(redis.call('HGET', valuesKey, dimension) or '0') < cap then
      redis.call('HINCRBY', valuesKey, dimension, 1)
      redis.call('HSET', valuesKey, dimension .. '\\31' .. value, 1)
      return value
    end
  end
  redis.call('HSET', valuesKey, dimension .. '\\31' .. other, 1)
  return other
end
local function keptFields(valuesKey, first, step)
  for i = first, #ARGV, step do
    local dimension, value, rest = string.match(ARGV[i], '^([^\\31]*)\\31([^\\31]*)\\31(.*)$')
    ARGV[i] = dimension .. '\\31' .. keptValue(valuesKey, dimension, value) .. '\\31' .. rest
  end
end
`

// ARGV: cap, other, then (field, summary) pairs; the fields' values are capped in place, then merged.
const dimensionMergeScript = luaScript(`${mergeLua}${dimensionValueLua}
keptFields(KEYS[1], 3, 2)
mergeSummaries(KEYS[2], 3)
return 1
`)

// ARGV: cap, other, then (field, count) pairs.
const dimensionExposuresScript = luaScript(`${dimensionValueLua}
keptFields(KEYS[1], 3, 2)
for i = 3, #ARGV, 2 do redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1]) end
return 1
`)

// Dated exposures: totals and the day's counters in one step (counts: variant -> count); a hash
// holding more fields than maxDays days of every variant can is trimmed to the newest maxDays
// days (once a day at most).
const exposureCountingLua = `
local function countExposures(totals, dated, day, maxDays, variants, counts)
  for variant, count in pairs(counts) do
    redis.call('HINCRBY', totals, variant, count)
    redis.call('HINCRBY', dated, day .. ':' .. variant, count)
  end
  if redis.call('HLEN', dated) > maxDays * variants then
    local byDay, days = {}, {}
    for _, field in ipairs(redis.call('HKEYS', dated)) do
      local d = string.sub(field, 1, 10)
      if not byDay[d] then
        byDay[d] = {}
        days[#days + 1] = d
      end
      table.insert(byDay[d], field)
    end
    table.sort(days)
    for k = 1, #days - maxDays do redis.call('HDEL', dated, unpack(byDay[days[k]])) end
  end
end
local function countsFrom(first)
  local counts = {}
  for i = first, #ARGV, 2 do counts[ARGV[i]] = tonumber(ARGV[i + 1]) end
  return counts
end
`

const datedExposuresScript = luaScript(`${exposureCountingLua}
countExposures(KEYS[1], KEYS[2], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), countsFrom(4))
return 1
`)

// The planned (checked) scripts open with the check: KEYS[1] is the experiment, ARGV[1] the SHA-1
// of the stored text the plan was made from. A different text answers 'stale' with the stored
// text and its SHA-1 (computed here, so it matches byte for byte), and nothing is written.
const checkLua = `
local doc = redis.call('GET', KEYS[1])
if not doc then return {'missing'} end
if redis.sha1hex(doc) ~= ARGV[1] then return {'stale', doc, redis.sha1hex(doc)} end
`

const checkScript = luaScript(`${checkLua}
return {'ok'}
`)

// Users of one experiment: ARGV[2..4] day, maxDays, variants, then per user (variant, assignment
// JSON); an empty JSON counts an exposure (not sticky), '-' reads the next KEYS entry (a user the
// targeting leaves out of a sticky experiment keeps a stored assignment), otherwise the next KEYS
// entry (from KEYS[4]) is the user's assignment, set if absent and counted when created. Answers
// per user: '' (counted), 1 (created), the stored assignment, or 0 ('-' and none stored).
const assignPlannedScript = luaScript(`${checkLua}${exposureCountingLua}
local counts, answers, nextKey = {}, {}, 4
for i = 5, #ARGV, 2 do
  local variant, assignment = ARGV[i], ARGV[i + 1]
  if assignment == '' then
    counts[variant] = (counts[variant] or 0) + 1
    answers[#answers + 1] = ''
  elseif assignment == '-' then
    answers[#answers + 1] = redis.call('GET', KEYS[nextKey]) or 0
    nextKey = nextKey + 1
  else
    local existing = redis.call('GET', KEYS[nextKey])
    if existing then
      answers[#answers + 1] = existing
    else
      redis.call('SET', KEYS[nextKey], assignment)
      counts[variant] = (counts[variant] or 0) + 1
      answers[#answers + 1] = 1
    end
    nextKey = nextKey + 1
  end
end
countExposures(KEYS[2], KEYS[3], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), counts)
return {'ok', answers}
`)

// Metrics: KEYS[2] the summaries hash, ARGV from 2 the (field, summary) pairs.
const mergePlannedScript = luaScript(`${checkLua}${mergeLua}
mergeSummaries(KEYS[2], 2)
return {'ok'}
`)

// Exposures: ARGV[2..4] day, maxDays, variants, then (variant, count) pairs.
const exposuresPlannedScript = luaScript(`${checkLua}${exposureCountingLua}
countExposures(KEYS[2], KEYS[3], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), countsFrom(5))
return {'ok'}
`)

/**
 * The hot paths' scripts and their argument layouts (above), for the benchmark's minimal baseline
 * that does the same storage work without this package's code around it.
 */
export const hotPathScripts = { assign: assignPlannedScript, mergeMetrics: mergePlannedScript }

/** A checked script's answer: 'ok' (written; the rest is the script's), 'stale' (text, SHA-1) or 'missing'. */
type CheckedReply = readonly ["ok", ...Array<unknown>] | readonly ["stale", string, string] | readonly ["missing"]

/** The experiment definition this instance plans with, and the SHA-1 of the stored text it was decoded from. */
interface KnownExperiment {
  readonly sha: string
  readonly experiment: Experiment
  /** The experiment's document and counter keys, and its summaries' (names are encoded once, not per call). */
  readonly countKeys: ReadonlyArray<string>
  readonly metricKeys: ReadonlyArray<string>
}

/** A plan that refused (bad input for this definition): nothing was written. */
class PlanRefused<E> {
  constructor(readonly error: E) {}
}

/** Checks-and-replans before giving up: only a definition changing on every call exhausts them. */
const plannedAttempts = 10

// Numbers as JavaScript prints them (the shortest text that reads back as the same double, which
// Lua's tonumber does): exact, as %.17g is, at a tenth of toPrecision(17)'s cost.
const encodeSummary = (s: Summary) => `${s.count}|${s.shift}|${s.shiftedMean}|${s.m2}|${s.min}|${s.max}`
const encodePaired = (s: PairedSummary) =>
  `${s.count}|${s.shiftX}|${s.shiftedMeanX}|${s.m2X}|${s.shiftY}|${s.shiftedMeanY}|${s.m2Y}|${s.coMoment}`
/** The field prefix of each kind of paired summary in the metrics hash. */
const pairPrefix: Record<ExperimentStore.PairKind, string> = { covariatePairs: "c:", denominatorPairs: "d:" }
/** The (field, summary) arguments of the merge scripts: plain summaries, then any paired ones. */
const summaryArgs = (updates: ReadonlyArray<ExperimentStore.MetricUpdate>) =>
  updates.flatMap((u) => {
    const args = [`${u.variant}:${u.metric}`, encodeSummary(u.summary)]
    for (const kind of ExperimentStore.pairKinds) {
      const pairs = u[kind]
      if (pairs !== undefined) args.push(`${pairPrefix[kind]}${u.variant}:${u.metric}`, encodePaired(pairs))
    }
    return args
  })
/** The fields of a stored paired summary, unchecked (the counters decoder checks them). */
const pairedFields = (text: string) => {
  const [count, shiftX, shiftedMeanX, m2X, shiftY, shiftedMeanY, m2Y, coMoment] = text.split("|").map(Number)
  return { count, shiftX, shiftedMeanX, m2X, shiftY, shiftedMeanY, m2Y, coMoment }
}
/** The paired summaries of a metrics hash, by variant: fields "c:variant:metric" and "d:variant:metric". */
const pairedEntries = (hash: Record<string, string>) =>
  Object.entries(hash).flatMap(([field, value]) => {
    const kind = ExperimentStore.pairKinds.find((k) => field.startsWith(pairPrefix[k]))
    if (kind === undefined) return []
    const rest = field.slice(2)
    const separator = rest.indexOf(":")
    const summary = pairedFields(value) as unknown as PairedSummary
    return [{ kind, variant: Number(rest.slice(0, separator)), metric: rest.slice(separator + 1), summary }]
  })
/** The (variant, count) arguments of the exposure scripts: only variants with exposures. */
const countArgs = (counts: ReadonlyArray<number>) => counts.flatMap((c, i) => (c === 0 ? [] : [String(i), String(c)]))
/** The fields of a stored summary, unchecked: the counters decoder checks them all at once. */
const summaryFields = (text: string) => {
  const [count, shift, shiftedMean, m2, min, max] = text.split("|").map(Number)
  const mean = shift === undefined || shiftedMean === undefined ? undefined : shift + shiftedMean
  return { count, shift, shiftedMean, m2, min, max, mean }
}

const assignmentRecord = storedRecord(Assignment)
const sequentialRecord = storedRecord(Schema.Array(ExperimentStore.SequentialPValue))
const dimensionSlicesRecord = storedRecord(Schema.Array(DimensionSlice))
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
 * The hot paths in one round trip each (ExperimentStore.PlannedWrites): the definition is kept
 * per instance with the SHA-1 of its stored text, the plan is made from it, and the script checks
 * that SHA-1 before writing, so another instance's change (a stop, a re-split) is seen by the very
 * call that would have written. A stale answer carries the new text: decoded, kept, planned again.
 * The first call for an experiment reads it with the check alone. At most `limit` definitions are kept.
 */
const makePlannedWrites = (
  redis: RedisConnection,
  keys: ReturnType<typeof experimentKeys>,
  call: <A>(operation: string, f: () => Promise<A>) => Effect.Effect<A, StorageError>,
  experimentRecord: RecordDecoder<Experiment>,
  limit = 1024
): ExperimentStore.PlannedWrites => {
  const known = new Map<string, KnownExperiment>()
  /** Keeps what a stale or first answer carried; undefined when the experiment does not exist. */
  const remember = (id: string, reply: CheckedReply): KnownExperiment | undefined => {
    if (reply[0] !== "stale") {
      known.delete(id)
      return undefined
    }
    const experimentKey = keys.experiment(id)
    const fresh = {
      sha: reply[2],
      experiment: experimentRecord.fromJson(reply[1], experimentKey),
      countKeys: [experimentKey, keys.exposures(id), keys.exposureDays(id)],
      metricKeys: [experimentKey, keys.metrics(id)]
    }
    if (!known.has(id) && known.size >= limit) known.clear()
    known.set(id, fresh)
    return fresh
  }
  const check = async (id: string, sha: string) =>
    (await checkScript(redis, [keys.experiment(id)], [sha])) as CheckedReply
  type AssignedPlans = {
    readonly experiment: Experiment
    readonly outcomes: ReadonlyArray<ExperimentStore.PlannedAssignment>
  }
  /** `withDefinition` past its usual case: reads, re-plans and retries, at most `plannedAttempts` times. */
  const untilAccepted = async <A, E>(
    id: string,
    start: KnownExperiment | undefined,
    step: (definition: KnownExperiment) => Promise<CheckedReply | PlanRefused<E>>,
    answer: (definition: KnownExperiment, reply: ReadonlyArray<unknown>) => A,
    firstReply?: CheckedReply | PlanRefused<E>
  ): Promise<A | PlanRefused<E> | undefined> => {
    let definition = start ?? remember(id, await check(id, ""))
    let pending = firstReply
    for (let attempt = 0; definition !== undefined; attempt++) {
      if (attempt === plannedAttempts) {
        throw new Error(`Experiment ${id} changed during each of ${plannedAttempts} attempts to write`)
      }
      const reply = pending ?? await step(definition)
      pending = undefined
      if (reply instanceof PlanRefused) {
        const current = await check(id, definition.sha)
        if (current[0] === "ok") return reply
        definition = remember(id, current)
      } else if (reply[0] === "ok") return answer(definition, reply)
      else definition = remember(id, reply)
    }
    return undefined
  }
  /**
   * Runs `step` (plan and script) on the known definition until the script accepts it. A refused
   * plan stands only once the check confirms the definition it was refused on is current. The
   * usual case (a kept definition the script accepts) is one call and no async frame.
   */
  const withDefinition = <A, E>(
    id: string,
    step: (definition: KnownExperiment) => Promise<CheckedReply | PlanRefused<E>>,
    answer: (definition: KnownExperiment, reply: ReadonlyArray<unknown>) => A
  ): Promise<A | PlanRefused<E> | undefined> => {
    const definition = known.get(id)
    if (definition === undefined) return untilAccepted(id, undefined, step, answer)
    return step(definition).then((reply) =>
      !(reply instanceof PlanRefused) && reply[0] === "ok"
        ? answer(definition, reply)
        : untilAccepted(id, definition, step, answer, reply)
    )
  }
  /** A write planned as one value (or refused), run by `script`; answers the definition it was written against. */
  const plannedUpdate = <A, E>(
    operation: string,
    id: string,
    plan: (experiment: Experiment) => Result.Result<A, E>,
    script: (definition: KnownExperiment, planned: A) => Promise<unknown>
  ): Effect.Effect<Experiment | undefined, E | StorageError> =>
    call(operation, () =>
      withDefinition(
        id,
        (definition) => {
          const planned = plan(definition.experiment)
          if (Result.isFailure(planned)) return Promise.resolve(new PlanRefused(planned.failure))
          return script(definition, planned.success) as Promise<CheckedReply>
        },
        ({ experiment }) => experiment
      )).pipe(
        Effect.flatMap((result) => result instanceof PlanRefused ? Effect.fail(result.error) : Effect.succeed(result))
      )
  const exposureArgs = (day: string, variants: number) => [day, ExperimentStore.MAX_EXPOSURE_DAYS, variants]
  // Concurrent assignments and metric merges of one definition share one script call.
  const assignBatch = makeScriptBatcher((scriptKeys, args) => assignPlannedScript.now(redis, scriptKeys, args))
  const mergeBatch = makeScriptBatcher((scriptKeys, args) => mergePlannedScript.now(redis, scriptKeys, args))

  return {
    assignPlanned: (experimentId, userIds, plan, day) =>
      call("assignment", () =>
        withDefinition<AssignedPlans, never>(
          experimentId,
          ({ countKeys, experiment, sha }) => {
            const planOf = plan(experiment)
            const plans = userIds.map(planOf)
            const userKeys: Array<string> = []
            const args: Array<string | number> = []
            for (const p of plans) {
              if (p._tag === "Count") args.push(p.variant, "")
              if (p._tag === "Stick") {
                args.push(p.assignment.variant, JSON.stringify(p.assignment))
                userKeys.push(keys.assignment(experimentId, p.assignment.userId))
              }
              if (p._tag === "Keep") {
                args.push("", "-")
                userKeys.push(keys.assignment(experimentId, p.userId))
              }
            }
            return assignBatch(
              `${experimentId}\u0000${sha}\u0000${day}`,
              countKeys,
              [sha, day, ExperimentStore.MAX_EXPOSURE_DAYS, experiment.variants.length],
              userKeys,
              args,
              args.length / 2
            ).then((reply) => {
              const checked = reply as CheckedReply
              return checked[0] === "ok" ? ["ok", plans, checked[1]] as const : checked
            })
          },
          ({ experiment }, [, plans, answers]) => {
            const written = answers as ReadonlyArray<string | number>
            let next = 0
            const outcomes = (plans as ReadonlyArray<ExperimentStore.AssignmentPlan>).map((p) => {
              if (p._tag === "Nothing") return { plan: p, stored: undefined, created: false }
              const answer = written[next++]
              if (p._tag === "Count") return { plan: p, stored: undefined, created: true }
              if (p._tag === "Keep") {
                const stored = answer === 0
                  ? undefined
                  : assignmentRecord.fromJson(String(answer), keys.assignment(experimentId, p.userId))
                return { plan: p, stored, created: false }
              }
              return answer === 1
                ? { plan: p, stored: p.assignment, created: true }
                : {
                  plan: p,
                  // Another writer's assignment, decoded like any read.
                  stored: assignmentRecord.fromJson(
                    String(answer),
                    keys.assignment(experimentId, p.assignment.userId)
                  ),
                  created: false
                }
            })
            return { experiment, outcomes }
          }
          // The step never refuses (no PlanRefused), so the answer is the assignments or undefined.
        ) as Promise<AssignedPlans | undefined>),
    mergeMetricsPlanned: (experimentId, plan) =>
      plannedUpdate(
        "metrics merge",
        experimentId,
        plan,
        ({ metricKeys, sha }, updates) =>
          mergeBatch(`${experimentId}\u0000${sha}`, metricKeys, [sha], noKeys, summaryArgs(updates), 0)
      ),
    addExposuresPlanned: (experimentId, plan, day) =>
      plannedUpdate(
        "exposures",
        experimentId,
        plan,
        ({ countKeys, experiment, sha }, counts) =>
          exposuresPlannedScript(redis, countKeys, [
            sha,
            ...exposureArgs(day, experiment.variants.length),
            ...countArgs(counts)
          ])
      )
  }
}

/**
 * Copying a store's sticky assignments (ml-server migrate): pages are SCAN steps over the
 * experiment's assignment keys, read with one MGET per step; an import writes each key only if
 * absent, one pipeline per experiment (its keys share a slot on a cluster).
 */
const exportCursor = storedRecord(Schema.Struct({
  scan: Schema.optional(Schema.String),
  pending: Schema.Array(Schema.String)
}))

const assignmentTransfer = (
  redis: RedisConnection,
  keys: ReturnType<typeof experimentKeys>,
  call: ReturnType<typeof guardedCall>
): Pick<ExperimentStore.ExperimentStoreShape, "exportAssignments" | "importAssignments"> => ({
  exportAssignments: (experimentId, cursor, limit) =>
    call("assignment export", async () => {
      // SCAN's COUNT is a hint: a step may find more keys than the page holds. The rest wait in
      // the cursor (never served over HTTP) and make the next page, before the scan goes on.
      const { scan, pending } = cursor === undefined
        ? { scan: undefined, pending: [] }
        : exportCursor.orThrow(JSON.parse(cursor), "assignment export cursor")
      let found = pending
      let scanNext = scan
      if (found.length === 0) {
        const step = await scanStep(redis, keys.assignmentsOf(experimentId), scan, limit)
        found = step.keys
        scanNext = step.next
      }
      const page = found.slice(0, limit)
      const rest = found.slice(limit)
      // One experiment's keys share a hash slot, so one MGET reads them on a cluster too.
      const texts = page.length === 0 ? [] : await redis.mget(page)
      const assignments = texts.flatMap((text, i) =>
        // An assignment that expired between SCAN and MGET is gone, as it is for a reader.
        text === null ? [] : [assignmentRecord.fromJson(text, page[i]!)]
      )
      const next = rest.length === 0 && scanNext === undefined
        ? undefined
        : JSON.stringify({ scan: scanNext, pending: rest })
      return { assignments, next }
    }),
  importAssignments: (assignments) =>
    call("assignment import", async () => {
      const byExperiment = new Map<string, Array<Assignment>>()
      for (const a of assignments) {
        const batch = byExperiment.get(a.experimentId)
        if (batch === undefined) byExperiment.set(a.experimentId, [a])
        else batch.push(a)
      }
      let created = 0
      for (const batch of byExperiment.values()) {
        const pipeline = redis.pipeline()
        for (const a of batch) pipeline.set(keys.assignment(a.experimentId, a.userId), JSON.stringify(a), "NX")
        for (const [error, reply] of (await pipeline.exec()) ?? []) {
          if (error) throw error
          if (reply === "OK") created++
        }
      }
      return created
    })
})

/**
 * Gives every sticky assignment of the experiment the retention TTL (SCAN: assignments have no
 * index, so this walks the whole keyspace).
 */
export const expireAssignments = (redis: RedisConnection, prefix: string, experimentId: string, seconds: number) =>
  scanEach(redis, experimentKeys(prefix, isCluster(redis)).assignmentsOf(experimentId), async (node, found) => {
    const multi = node.multi()
    for (const key of found) multi.expire(key, seconds)
    await multi.exec()
  })

/**
 * Gives the experiment's dimension breakdowns (values, summaries, exposures: three keys of known
 * names) the retention of its sticky assignments, so a completed experiment leaves nothing behind
 * in Redis that grows with traffic.
 */
export const expireBreakdowns = async (
  redis: RedisConnection,
  prefix: string,
  experimentId: string,
  seconds: number
) => {
  const keys = experimentKeys(prefix, isCluster(redis))
  // One slot on a cluster (the keys share the experiment's hash tag), so one MULTI.
  const multi = redis.multi()
  for (const key of [keys.dimensionValues, keys.dimensionMetrics, keys.dimensionExposures]) {
    multi.expire(key(experimentId), seconds)
  }
  for (const [error] of (await multi.exec()) ?? []) if (error) throw error
}

/** The sweep running per connection and prefix, and whether another pass was asked for meanwhile. */
const sweeps = new WeakMap<RedisConnection, Map<string, { again: boolean }>>()

/**
 * Sets the TTL of the assignments and breakdowns of every experiment recorded in
 * `ab:assignment-expiry`, removing each record once they have it. One sweep at a time per connection and prefix; a
 * request during a sweep runs one more pass after it. Failures leave the records for the next sweep.
 */
export const sweepAssignmentExpiry = (redis: RedisConnection, prefix: string): void => {
  const running = sweeps.get(redis) ?? new Map<string, { again: boolean }>()
  sweeps.set(redis, running)
  const current = running.get(prefix)
  if (current !== undefined) {
    current.again = true
    return
  }
  const state = { again: false }
  running.set(prefix, state)
  const key = experimentKeys(prefix, isCluster(redis)).assignmentExpiry()
  const pass = async (): Promise<void> => {
    for (const [experimentId, seconds] of Object.entries(await redis.hgetall(key))) {
      await expireAssignments(redis, prefix, experimentId, Number(seconds))
      await expireBreakdowns(redis, prefix, experimentId, Number(seconds))
      await redis.hdel(key, experimentId)
    }
    if (state.again) {
      state.again = false
      await pass()
    }
  }
  void pass().catch(() => undefined).finally(() => running.delete(prefix))
}

/**
 * What completing an experiment does to its sticky assignments: records their retention and
 * returns; the TTLs are set by a sweep in the background, so completing costs the same with 10 or
 * 10,000 experiments (the sweep walks the keyspace). The record stays until its sweep has finished,
 * so a sweep cut short (a crash, a Redis failure) is done again by the next completion or the next
 * store made on the prefix. Run here and where another store holds the experiment (composed mode).
 */
export const scheduleAssignmentExpiry = async (
  redis: RedisConnection,
  prefix: string,
  experimentId: string,
  seconds: number
): Promise<void> => {
  await redis.hset(experimentKeys(prefix, isCluster(redis)).assignmentExpiry(), experimentId, String(seconds))
  sweepAssignmentExpiry(redis, prefix)
}

export const make = (
  redis: RedisConnection,
  prefix: string,
  guard: InstanceGuard = unguarded,
  options: ExperimentStoreOptions = {}
): ExperimentStore.ExperimentStoreShape => {
  const call = guardedCall(guard)
  const cluster = isCluster(redis)
  const keys = experimentKeys(prefix, cluster)
  // Assignments of experiments completed before a crash may still wait for their TTL.
  sweepAssignmentExpiry(redis, prefix)
  const retentionSeconds = options.assignmentRetentionSeconds ?? defaultAssignmentRetentionSeconds
  /**
   * On a cluster the index is in another slot than the document, so it is a second step after the
   * set-if-absent, as for monitors and pipelines (JsonDocuments.insertIndexed; README: Redis Cluster).
   */
  const insertSplit = async (experiment: Experiment): Promise<number> => {
    const inserted = await insertDocumentScript(redis, [
      keys.experiment(experiment.id),
      keys.definitions(experiment.id)
    ], [
      JSON.stringify(experiment),
      JSON.stringify(definitionRevisionOf(experiment))
    ])
    if (inserted !== 1) return 0
    await redis.zadd(keys.index(), 0, experiment.id)
    return 1
  }
  const experimentRecord = memoizedRecord(storedRecord(Experiment))
  const definitionRecord = storedRecord(DefinitionRevision)
  const planned = makePlannedWrites(redis, keys, call, experimentRecord)
  /**
   * After a stored change, its own command (the counter is in another cluster slot than the
   * definition). A bump lost to a failure here only delays the feeds: they also list now and then.
   */
  const bumpDefinitionChanges = () => redis.incr(keys.definitionChanges()).then(() => undefined, () => undefined)
  return {
    planned,
    definitionsToken: () =>
      call("experiment definitions token", async () => (await redis.get(keys.definitionChanges())) ?? "0"),
    insert: (experiment) =>
      call(
        "experiment insert",
        () =>
          cluster ? insertSplit(experiment) : redis.eval(
            insertScript,
            3,
            keys.experiment(experiment.id),
            keys.index(),
            keys.definitions(experiment.id),
            JSON.stringify(experiment),
            experiment.id,
            JSON.stringify(definitionRevisionOf(experiment))
          ) as Promise<number>
      )
        .pipe(
          Effect.tap((ok) => (ok === 1 ? Effect.promise(bumpDefinitionChanges) : Effect.void)),
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
          const stored = (await commitScript(redis, [keys.experiment(experiment.id), keys.definitions(experiment.id)], [
            JSON.stringify(experiment),
            expectedRevision,
            JSON.stringify(definitionRevisionOf(experiment)),
            MAX_DEFINITION_HISTORY
          ])) === 1
          if (stored) await bumpDefinitionChanges()
          if (stored && experiment.status === "completed") {
            await scheduleAssignmentExpiry(
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
          const pairs = countArgs(counts)
          if (pairs.length === 0) return
          await datedExposuresScript(
            redis,
            [keys.exposures(experimentId), keys.exposureDays(experimentId)],
            [day, ExperimentStore.MAX_EXPOSURE_DAYS, counts.length, ...pairs]
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
        await mergeScript(redis, [keys.metrics(experimentId)], summaryArgs(updates))
      }),
    counters: (experimentId, variantCount) =>
      call("counters", async () => {
        const [exposures, metrics] = await Promise.all([
          redis.hgetall(keys.exposures(experimentId)),
          redis.hgetall(keys.metrics(experimentId))
        ])
        const pairs = ExperimentStore.pairedCounters(pairedEntries(metrics), variantCount)
        const counters = {
          variants: Array.from({ length: variantCount }, (_, v) => ({
            ...pairs[v],
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
    lowerSequentialPValues: (experimentId, looks) =>
      call("sequential p-values", async () => {
        if (looks.length === 0) return []
        const key = keys.sequential(experimentId)
        const args = looks.flatMap((l) => [`${l.variant}:${l.metric}`, l.pValue.toPrecision(17)])
        const stored = (await lowerMinimaScript(redis, [key], args)) as ReadonlyArray<string>
        return sequentialRecord.orThrow(looks.map((l, i) => ({ ...l, pValue: Number(stored[i]) })), key)
      }),
    sequentialPValues: (experimentId) =>
      call("sequential p-values", async () => {
        const key = keys.sequential(experimentId)
        const minima = Object.entries(await redis.hgetall(key)).map(([field, value]) => {
          const separator = field.indexOf(":")
          return {
            variant: Number(field.slice(0, separator)),
            metric: field.slice(separator + 1),
            pValue: Number(value)
          }
        })
        return ExperimentStore.sortSequentialPValues(sequentialRecord.orThrow(minima, key))
      }),
    mergeDimensionMetrics: (experimentId, updates) =>
      call("dimension metrics", async () => {
        if (updates.length === 0) return
        const args = updates.flatMap((u) => [
          `${u.dimension}\x1f${u.value}\x1f${u.variant}:${u.metric}`,
          encodeSummary(u.summary)
        ])
        await dimensionMergeScript(
          redis,
          [keys.dimensionValues(experimentId), keys.dimensionMetrics(experimentId)],
          [ExperimentStore.MAX_DIMENSION_VALUES, ExperimentStore.DIMENSION_OTHER, ...args]
        )
      }),
    addDimensionExposures: (experimentId, updates) =>
      call("dimension exposures", async () => {
        if (updates.length === 0) return
        const args = updates.flatMap((u) => [`${u.dimension}\x1f${u.value}\x1f${u.variant}`, String(u.count)])
        await dimensionExposuresScript(
          redis,
          [keys.dimensionValues(experimentId), keys.dimensionExposures(experimentId)],
          [ExperimentStore.MAX_DIMENSION_VALUES, ExperimentStore.DIMENSION_OTHER, ...args]
        )
      }),
    dimensionCounters: (experimentId, dimension, variantCount) =>
      call("dimension counters", async () => {
        const [values, metrics, exposures] = await Promise.all([
          redis.hgetall(keys.dimensionValues(experimentId)),
          redis.hgetall(keys.dimensionMetrics(experimentId)),
          redis.hgetall(keys.dimensionExposures(experimentId))
        ])
        const prefixOf = `${dimension}\x1f`
        const kept = Object.keys(values).filter((f) => f.startsWith(prefixOf)).map((f) => f.slice(prefixOf.length))
        const slices = kept.sort().map((value) => ({
          value,
          variants: Array.from({ length: variantCount }, (_, variant) => {
            const slot = `${prefixOf}${value}\x1f${variant}`
            return {
              exposures: Number(exposures[slot] ?? 0),
              metrics: Object.fromEntries(
                Object.entries(metrics)
                  .filter(([field]) => field.startsWith(`${slot}:`))
                  .map(([field, text]) => [field.slice(slot.length + 1), summaryFields(text)])
              )
            }
          })
        }))
        return dimensionSlicesRecord.orThrow(slices, keys.dimensionMetrics(experimentId))
      }),
    dimensionNames: (experimentId) =>
      call(
        "dimension names",
        async () =>
          Object.keys(await redis.hgetall(keys.dimensionValues(experimentId))).filter((f) => !f.includes("\x1f")).sort()
      ),
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
    definitionHistory: (experimentId) =>
      call("experiment definition history", async () => {
        const key = keys.definitions(experimentId)
        return (await redis.lrange(key, 0, -1)).map((text) => definitionRecord.fromJson(text, key))
      }),
    importDefinitionHistory: (experimentId, entries) =>
      call("experiment definition history import", async () => {
        await replaceDefinitionsScript(
          redis,
          [keys.experiment(experimentId), keys.definitions(experimentId)],
          entries.slice(-MAX_DEFINITION_HISTORY).map((entry) => JSON.stringify(entry))
        )
      }),
    ...assignmentTransfer(redis, keys, call),
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
