/**
 * Online-learning pipelines in Redis, so samples from every instance reach one buffer:
 * `ml:pipeline:<id>` (JSON, compare-and-set by Lua), `:buffer` (list of sample JSON), `:seen`
 * (set of recent sampleIds, for deduplication) with `:seen-order` (the same ids, oldest first, to
 * forget those beyond the window), `:counters`, `:state` (live learner state, format-2 bytes), `:progressive`
 * and `:validation` (bounded lists), and `ml:update:<update_id>` records listed in `:updates`.
 * One Lua script (by EVALSHA) checks the pipeline's revision and deduplicates, appends, trims and
 * counts a batch atomically: one round trip per batch. What is read back
 * decodes through the core's schemas (a list entry is named `<key>[<index>]` when it does not).
 */
import {
  decodeLiveState,
  encodeLiveState,
  Pipeline,
  PipelineConflictError,
  PipelineStore,
  type RecordDecoder,
  StaleRevisionError,
  storedRecord,
  UpdateRecord
} from "@org/ml-core"
import { Effect, Layer, Schema } from "effect"
import {
  compareAndSet,
  getJson,
  getJsonMany,
  guardedCall,
  insertIndexed,
  listIndexed,
  parseJson
} from "./JsonDocuments.js"
import { luaScript } from "./LuaScript.js"
import { RedisClient } from "./RedisClient.js"
import { isCluster, type RedisConnection } from "./RedisCluster.js"
import { type InstanceGuard, unguarded } from "./RedisInstance.js"
import { pipelineKeys } from "./RedisKeys.js"
import { makeSharedCalls } from "./ScriptBatches.js"

export { pipelineKeys }

/**
 * Deduplicates, appends, trims and counts one batch of samples. KEYS: buffer, seen, counters,
 * seen-order, progressive, the pipeline record. ARGV: max buffer, dedup window, progressive
 * window, expected revision ("" for any), then triples (sampleId, sample JSON, progressive entry
 * JSON or ""). A record of another revision takes nothing and answers {-1, revision}. Ids beyond
 * the window leave the seen set oldest first (seen-order lists them); only new samples are
 * scored. Answers added, duplicates, dropped and the buffer's length after.
 */
export const sampleAddScript = luaScript(`
if ARGV[4] ~= '' then
  local raw = redis.call('GET', KEYS[6])
  local revision = raw and cjson.decode(raw).revision or -1
  if revision ~= tonumber(ARGV[4]) then return {-1, revision, 0, 0} end
end
local fresh, ids, scores, dup = {}, {}, {}, 0
for i = 5, #ARGV, 3 do
  if redis.call('SADD', KEYS[2], ARGV[i]) == 1 then
    fresh[#fresh + 1] = ARGV[i + 1]
    ids[#ids + 1] = ARGV[i]
    if ARGV[i + 2] ~= '' then scores[#scores + 1] = ARGV[i + 2] end
  else
    dup = dup + 1
  end
end
-- One RPUSH per 1000 elements, not per sample (unpack's stack is bounded).
local function pushAll(key, list)
  for j = 1, #list, 1000 do redis.call('RPUSH', key, unpack(list, j, math.min(j + 999, #list))) end
end
pushAll(KEYS[1], fresh)
pushAll(KEYS[4], ids)
pushAll(KEYS[5], scores)
local added, scored = #fresh, #scores
local forget = redis.call('LLEN', KEYS[4]) - tonumber(ARGV[2])
while forget > 0 do
  local chunk = math.min(forget, 1000)
  redis.call('SREM', KEYS[2], unpack(redis.call('LRANGE', KEYS[4], 0, chunk - 1)))
  redis.call('LTRIM', KEYS[4], chunk, -1)
  forget = forget - chunk
end
if scored > 0 then redis.call('LTRIM', KEYS[5], -tonumber(ARGV[3]), -1) end
local max = tonumber(ARGV[1])
local len = redis.call('LLEN', KEYS[1])
local dropped = 0
if len > max then
  dropped = len - max
  redis.call('LTRIM', KEYS[1], dropped, -1)
end
redis.call('HINCRBY', KEYS[3], 'received', (#ARGV - 4) / 3)
redis.call('HINCRBY', KEYS[3], 'duplicates', dup)
redis.call('HINCRBY', KEYS[3], 'dropped', dropped)
return {added, dup, dropped, len - dropped}
`)

/**
 * The pipeline record unless it still has the revision the caller holds. KEYS: the record.
 * ARGV: the known revision. Answers 1 (unchanged), the record's text (changed) or nil (none), so
 * a prediction with a cached pipeline costs a few bytes each way and no decoding.
 */
export const recordIfChangedScript = luaScript(`
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
if cjson.decode(raw).revision == tonumber(ARGV[1]) then return 1 end
return raw
`)

const pipelines = storedRecord(Pipeline)
const updateRecords = storedRecord(UpdateRecord)
const samples = storedRecord(PipelineStore.StoredSample)
const progressiveEntries = storedRecord(PipelineStore.ProgressiveEntry)
/** The script's reply: added, duplicates, dropped, buffered (added -1: another revision). */
const addReply = storedRecord(Schema.Tuple([Schema.Int, Schema.Int, Schema.Int, Schema.Int]))

/** Values per RPUSH/SADD when a whole list is written at once (keeps each command's size bounded). */
const transferChunk = 10_000

/**
 * Copying a pipeline's sample side (ml-server migrate): read list by list (the deployment is
 * stopped), written in one MULTI that first deletes what was there (every key shares the
 * pipeline's slot on a cluster).
 */
const sampleTransfer = (
  redis: RedisConnection,
  keys: ReturnType<typeof pipelineKeys>,
  call: ReturnType<typeof guardedCall>
): Pick<PipelineStore.PipelineStoreShape, "exportSampleData" | "importSampleData"> => ({
  exportSampleData: (id) =>
    call("sample data export", async () => {
      const list = (part: "buffer" | "seen-order" | "progressive" | "validation") =>
        redis.lrange(keys.part(id, part), 0, -1)
      const [buffer, seen, counters, progressive, validation] = await Promise.all([
        list("buffer"),
        list("seen-order"),
        redis.hgetall(keys.part(id, "counters")),
        list("progressive"),
        list("validation")
      ])
      const decoded = <A>(raws: Array<string>, decoder: RecordDecoder<A>, key: string) =>
        raws.map((raw, i) => decoder.fromJson(raw, `${key}[${i}]`))
      return {
        buffer: decoded(buffer, samples, keys.part(id, "buffer")),
        seen,
        counters: {
          received: Number(counters.received ?? 0),
          duplicates: Number(counters.duplicates ?? 0),
          dropped: Number(counters.dropped ?? 0),
          processed: Number(counters.processed ?? 0)
        },
        progressive: decoded(progressive, progressiveEntries, keys.part(id, "progressive")),
        validation: decoded(validation, samples, keys.part(id, "validation"))
      }
    }),
  importSampleData: (id, data) =>
    call("sample data import", async () => {
      const parts = ["buffer", "seen", "seen-order", "counters", "progressive", "validation"] as const
      const multi = redis.multi().del(...parts.map((part) => keys.part(id, part)))
      const push = (command: "RPUSH" | "SADD", key: string, values: ReadonlyArray<string>) => {
        for (let i = 0; i < values.length; i += transferChunk) {
          multi.call(command, [key].concat(values.slice(i, i + transferChunk)))
        }
      }
      push("RPUSH", keys.part(id, "buffer"), data.buffer.map((s) => JSON.stringify(s)))
      push("SADD", keys.part(id, "seen"), data.seen)
      push("RPUSH", keys.part(id, "seen-order"), data.seen)
      push("RPUSH", keys.part(id, "progressive"), data.progressive.map((e) => JSON.stringify(e)))
      push("RPUSH", keys.part(id, "validation"), data.validation.map((s) => JSON.stringify(s)))
      const { dropped, duplicates, processed, received } = data.counters
      multi.hset(keys.part(id, "counters"), { received, duplicates, dropped, processed })
      for (const [error] of (await multi.exec()) ?? []) if (error) throw error
    })
})

export const make = (
  redis: RedisConnection,
  prefix: string,
  guard: InstanceGuard = unguarded
): PipelineStore.PipelineStoreShape => {
  const call = guardedCall(guard)
  const cluster = isCluster(redis)
  const keys = pipelineKeys(prefix, cluster)
  // Concurrent predictions of one pipeline share one revision check (ScriptBatches.ts).
  const sharedCheck = makeSharedCalls<unknown>()
  const pushBounded = (key: string, values: ReadonlyArray<unknown>, max: number) =>
    call("window", async () => {
      if (values.length === 0) return
      // One array argument, not a spread: a batch can hold more values than a call has argument slots.
      await redis.multi().call("RPUSH", [key].concat(values.map((v) => JSON.stringify(v)))).ltrim(key, -max, -1).exec()
    })
  const readList = <A>(key: string, decoder: RecordDecoder<A>) =>
    call("read", async () => (await redis.lrange(key, 0, -1)).map((raw, i) => decoder.fromJson(raw, `${key}[${i}]`)))
  return {
    insert: (pipeline) =>
      call(
        "pipeline insert",
        () => insertIndexed(redis, keys.pipeline(pipeline.id), keys.pipelines(), pipeline.id, pipeline)
      ).pipe(
        Effect.flatMap((
          inserted
        ) => (inserted
          ? Effect.void
          : Effect.fail(
            new PipelineConflictError({ pipelineId: pipeline.id, message: `Pipeline ${pipeline.id} already exists` })
          ))
        )
      ),
    get: (id) => call("pipeline get", () => getJson(redis, keys.pipeline(id), pipelines)),
    getIfChanged: (id, knownRevision) =>
      call("pipeline revision", async () => {
        const key = keys.pipeline(id)
        const reply = await sharedCheck(
          `${key}\u0000${knownRevision}`,
          () => recordIfChangedScript.now(redis, [key], [knownRevision])
        )
        if (reply === null) return undefined
        return reply === 1 ? "unchanged" as const : parseJson(String(reply), key, pipelines)
      }),
    list: () => call("pipeline list", () => listIndexed(redis, keys.pipelines(), keys.pipeline, pipelines)),
    commit: (pipeline, expected) =>
      call("pipeline commit", () => compareAndSet(redis, keys.pipeline(pipeline.id), pipeline, expected))
        .pipe(
          Effect.flatMap((ok) => (ok
            ? Effect.void
            : Effect.fail(new StaleRevisionError({ message: `Pipeline ${pipeline.id} changed since it was read` })))
          )
        ),
    addSamples: (id, samples, { dedupWindow, maxBufferSize, progressiveWindow }, predictions, expectedRevision) =>
      call("samples", async () => {
        const args: Array<string | number> = [
          maxBufferSize,
          dedupWindow,
          progressiveWindow,
          expectedRevision ?? ""
        ]
        for (let i = 0; i < samples.length; i++) {
          const s = samples[i]!
          args.push(
            s.sampleId,
            JSON.stringify(s),
            predictions ? `{"prediction":${JSON.stringify(predictions[i])},"label":${JSON.stringify(s.label)}}` : ""
          )
        }
        // Written at once: left for the next automatic pipeline, a batch waited for the rest of
        // the event-loop turn, the largest part of the route's tail at half its peak rate.
        const reply = await sampleAddScript.now(redis, [
          keys.part(id, "buffer"),
          keys.part(id, "seen"),
          keys.part(id, "counters"),
          keys.part(id, "seen-order"),
          keys.part(id, "progressive"),
          keys.pipeline(id)
        ], args)
        const [added, duplicates, dropped, buffered] = addReply.orThrow(
          reply,
          `samples script reply for ${keys.pipeline(id)}`
        )
        return added === -1 ? undefined : { added, duplicates, dropped, buffered }
      }).pipe(Effect.flatMap((added) =>
        added === undefined
          ? Effect.fail(new StaleRevisionError({ message: `Pipeline ${id} changed since it was read` }))
          : Effect.succeed(added)
      )),
    buffer: (id) => readList(keys.part(id, "buffer"), samples),
    bufferSize: (id) => call("buffer size", () => redis.llen(keys.part(id, "buffer"))),
    removeSamples: (id, sampleIds) =>
      call("samples remove", async () => {
        if (sampleIds.length === 0) return
        // Consumed samples are usually the oldest: drop that prefix, then any stragglers by value.
        const wanted = new Set(sampleIds)
        const key = keys.part(id, "buffer")
        const raws = await redis.lrange(key, 0, -1)
        const multi = redis.multi()
        raws.forEach((raw, i) => {
          if (wanted.has(samples.fromJson(raw, `${key}[${i}]`).sampleId)) multi.lrem(key, 1, raw)
        })
        await multi.exec()
      }),
    counters: (id) =>
      call("counters", async () => {
        const c = await redis.hgetall(keys.part(id, "counters"))
        return {
          received: Number(c.received ?? 0),
          duplicates: Number(c.duplicates ?? 0),
          dropped: Number(c.dropped ?? 0),
          processed: Number(c.processed ?? 0)
        }
      }),
    addProcessed: (id, count) =>
      call("processed", () => redis.hincrby(keys.part(id, "counters"), "processed", count)).pipe(Effect.asVoid),
    liveState: (id) =>
      call("state", async () => {
        // Format-2 bytes since this release; format-1 JSON from earlier ones reads the same way.
        const key = keys.part(id, "state")
        const bytes = await redis.getBuffer(key)
        return bytes === null ? undefined : decodeLiveState(bytes, key)
      }),
    setLiveState: (id, state) =>
      call("state set", () => {
        const bytes = encodeLiveState(state)
        return redis.set(keys.part(id, "state"), Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
      }).pipe(Effect.asVoid),
    progressive: (id) => readList(keys.part(id, "progressive"), progressiveEntries),
    addValidation: (id, samples, max) => pushBounded(keys.part(id, "validation"), samples, max),
    validation: (id) => readList(keys.part(id, "validation"), samples),
    appendUpdate: (record) =>
      call("update append", async () => {
        if (cluster) {
          // The record's slot is not the pipeline's: the record first, then the list entry naming it.
          await redis.set(keys.update(record.id), JSON.stringify(record))
          await redis.rpush(keys.part(record.pipelineId, "updates"), record.id)
          return
        }
        await redis.multi().set(keys.update(record.id), JSON.stringify(record)).rpush(
          keys.part(record.pipelineId, "updates"),
          record.id
        ).exec()
      }),
    updates: (id) =>
      call(
        "updates",
        async () =>
          getJsonMany(redis, (await redis.lrange(keys.part(id, "updates"), 0, -1)).map(keys.update), updateRecords)
      ),
    ...sampleTransfer(redis, keys, call)
  }
}

export const layer: Layer.Layer<PipelineStore.PipelineStore, never, RedisClient> = Layer.effect(
  PipelineStore.PipelineStore,
  RedisClient.useSync(({ client, guard, prefix }) => make(client, prefix, guard))
)
