// Bytes a pipeline's live learner state takes in each store per accepted update: format 1 (dense
// JSON, what the fs, Redis and PostgreSQL adapters wrote until format 2) against format 2 (sparse
// binary, what they write now), for the 2^20-slot hashed learner of learner-fixture.mjs.
//
//   node bench/live-state-bytes.mjs      (after a build; Redis at 127.0.0.1:6379, PostgreSQL at
//                                         127.0.0.1:5432 as for the tests, or ML_TEST_* URLs)
//
// Format 2 is written through each adapter's setLiveState and measured where it landed: the
// journal's growth (fs), STRLEN of the key (Redis), pg_column_size of the row's value (PostgreSQL,
// after TOAST compression). Format 1 is written the old way into the same storage and measured the
// same way. Every state read back through the adapter is checked to predict as the trained learner.
import { FsPipelineStore } from "@org/ml-adapter-fs"
import { PostgresClient, PostgresPipelineStore } from "@org/ml-adapter-postgres"
import { freshDatabase } from "@org/ml-adapter-postgres/testing"
import { RedisClient, RedisPipelineStore } from "@org/ml-adapter-redis"
import { loadLearner, PipelineStore } from "@org/ml-core"
import { Effect, Layer } from "effect"
import { Redis } from "ioredis"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { BITS, FEATURES, probes, SAMPLES, trainedLearner } from "./learner-fixture.mjs"
import { deleteKeysWithPrefix } from "./lib.mjs"

const redisUrl = process.env.ML_TEST_REDIS_URL ?? "redis://127.0.0.1:6379"

const learners = [
  ["sgd", { type: "sgd", learningRate: 0.05 }, false],
  ["adagrad + standardize", { type: "adagrad", learningRate: 0.1 }, true]
].map(([name, optimizer, standardize]) => {
  const learner = trainedLearner(optimizer, standardize)
  return { name, learner, state: learner.state() }
})

const checkReadBack = (learner, state) => {
  const restored = loadLearner(state)
  if (!probes.every((f) => restored.predict(f) === learner.predict(f))) {
    throw new Error("the state read back predicts differently")
  }
}

const prefix = `mlbench:live-state:${process.pid}:`
const redis = new Redis(redisUrl)
const database = await freshDatabase("live_state_bench")
const sql = await PostgresClient.connect({ url: database.url, maxConnections: 2 })
const directory = fs.mkdtempSync(path.join(os.tmpdir(), "ml-live-state-bench-"))
const runWith = (layer, f) => Effect.runPromise(Effect.provide(PipelineStore.PipelineStore.use(f), layer))
const redisLayer = RedisPipelineStore.layer.pipe(Layer.provide(RedisClient.layer({ url: redisUrl, prefix })))
const journal = path.join(directory, "pipelines.jsonl")
const rows = []
try {
  await sql`CREATE TABLE format_one (pipeline_id text PRIMARY KEY, state jsonb NOT NULL)`
  const postgresStore = PostgresPipelineStore.make(PostgresClient.makeClient(sql))
  for (const { learner, name, state } of learners) {
    const id = `bench-${name.replace(/\W+/g, "-")}`
    const json = JSON.stringify(state)

    const fsLayer = FsPipelineStore.layer({ directory })
    const journalBefore = fs.existsSync(journal) ? fs.statSync(journal).size : 0
    await runWith(fsLayer, (s) => s.setLiveState(id, state))
    const fsFormat2 = fs.statSync(journal).size - journalBefore
    checkReadBack(learner, await runWith(FsPipelineStore.layer({ directory }), (s) => s.liveState(id)))
    // The format-1 journal line: 8 hex digits of CRC-32, a space, the entry, a newline.
    const fsFormat1 = 10 + Buffer.byteLength(JSON.stringify({ op: "state", id, state }))

    const key = RedisPipelineStore.pipelineKeys(prefix).part(id, "state")
    await runWith(redisLayer, (s) => s.setLiveState(id, state))
    const redisFormat2 = await redis.strlen(key)
    checkReadBack(learner, await runWith(redisLayer, (s) => s.liveState(id)))
    await redis.set(`${key}:format-1`, json)
    const redisFormat1 = await redis.strlen(`${key}:format-1`)

    await Effect.runPromise(postgresStore.setLiveState(id, state))
    const [format2Row] = await sql`SELECT pg_column_size(encoded) AS size, octet_length(encoded) AS raw
      FROM ml_pipeline_states WHERE pipeline_id = ${id}`
    checkReadBack(learner, await Effect.runPromise(postgresStore.liveState(id)))
    await sql`INSERT INTO format_one (pipeline_id, state) VALUES (${id}, ${sql.json(state)})`
    const [format1Row] = await sql`SELECT pg_column_size(state) AS size, octet_length(state::text) AS raw
      FROM format_one WHERE pipeline_id = ${id}`

    for (
      const [store, before, after] of [
        ["fs journal", fsFormat1, fsFormat2],
        ["redis", redisFormat1, redisFormat2],
        ["postgres (stored)", Number(format1Row.size), Number(format2Row.size)],
        ["postgres (value)", Number(format1Row.raw), Number(format2Row.raw)]
      ]
    ) {
      rows.push({
        learner: name,
        store,
        "format 1 bytes": before,
        "format 2 bytes": after,
        "ratio (1/2)": (before / after).toFixed(1)
      })
    }
  }
} finally {
  await sql.end()
  await database.drop()
  await deleteKeysWithPrefix(redis, prefix)
  redis.disconnect()
  fs.rmSync(directory, { recursive: true, force: true })
}
console.log(`live state per accepted update: 2^${BITS} slots, ${FEATURES} features touched by ${SAMPLES} samples`)
console.table(rows)
