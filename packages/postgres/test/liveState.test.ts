// A pipeline's live learner state in PostgreSQL: written as format-2 bytes in the bytea column of
// schema version 10, while a format-1 jsonb row written before that version still reads back.
import { encodeLearnerState, isBinaryLearnerState, loadLearner } from "@org/ml-core"
import { samplePipeline, trainedHashedLearner } from "@org/ml-core/testing"
import { Effect } from "effect"
import type { Sql } from "postgres"
import { afterAll, describe, expect, it } from "vitest"
import { Migrations, PostgresClient, PostgresPipelineStore } from "../src/index.js"
import { freshDatabase, type TestDatabase } from "../src/Testing.js"

const databases: Array<TestDatabase> = []
afterAll(async () => {
  for (const database of databases) await database.drop()
})

const withDatabase = async <A>(label: string, f: (url: string) => Promise<A>): Promise<A> => {
  const database = await freshDatabase(label)
  databases.push(database)
  return f(database.url)
}

const storedRow = async (sql: Sql, id: string) => {
  const [row] = await sql<Array<{ state: unknown; encoded: Buffer | null }>>`
    SELECT state, encoded FROM ml_pipeline_states WHERE pipeline_id = ${id}`
  return row!
}

describe("live learner state in PostgreSQL", () => {
  it("is stored as format-2 bytes: the touched slots of a 2^20-slot learner, not every slot", async () => {
    await withDatabase("live_state_binary", async (url) => {
      const sql = await PostgresClient.connect({ url, maxConnections: 2 })
      try {
        const store = PostgresPipelineStore.make(PostgresClient.makeClient(sql))
        const pipeline = samplePipeline()
        const state = trainedHashedLearner(20).learner.state()
        await Effect.runPromise(store.setLiveState(pipeline.id, state))
        const row = await storedRow(sql, pipeline.id)
        expect(row.state).toBeNull()
        expect(isBinaryLearnerState(row.encoded!)).toBe(true)
        expect(row.encoded!.equals(encodeLearnerState(state))).toBe(true)
        expect(row.encoded!.length * 10).toBeLessThan(JSON.stringify(state).length)
      } finally {
        await sql.end()
      }
    })
  }, 60_000)

  it(
    "reads a format-1 row written before schema version 10, and replaces it by format 2 on the next write",
    async () => {
      await withDatabase("live_state_legacy", async (url) => {
        const pipeline = samplePipeline()
        const { learner, probes } = trainedHashedLearner(12)
        // The schema and the row as the release before format 2 left them.
        const before = PostgresClient.open({ url, maxConnections: 1 })
        try {
          await Migrations.migrate(before, Migrations.migrations.filter((m) => m.version < 10))
          await before`INSERT INTO ml_pipeline_states (pipeline_id, state)
          VALUES (${pipeline.id}, ${before.json(learner.state() as never)})`
        } finally {
          await before.end()
        }
        const sql = await PostgresClient.connect({ url, maxConnections: 2 })
        try {
          const store = PostgresPipelineStore.make(PostgresClient.makeClient(sql))
          const legacy = await Effect.runPromise(store.liveState(pipeline.id))
          expect(legacy).toEqual(learner.state())
          const restored = loadLearner(legacy)
          for (const features of probes) expect(restored.predict(features)).toBe(learner.predict(features))
          await Effect.runPromise(store.setLiveState(pipeline.id, legacy!))
          const row = await storedRow(sql, pipeline.id)
          expect(row.state).toBeNull()
          expect(isBinaryLearnerState(row.encoded!)).toBe(true)
          expect(await Effect.runPromise(store.liveState(pipeline.id))).toEqual(learner.state())
        } finally {
          await sql.end()
        }
      })
    },
    60_000
  )

  it("names the row when the stored bytes are damaged", async () => {
    await withDatabase("live_state_damaged", async (url) => {
      const sql = await PostgresClient.connect({ url, maxConnections: 2 })
      try {
        const bytes = Buffer.from(encodeLearnerState(trainedHashedLearner(8).learner.state()))
        bytes[bytes.length - 10]! ^= 0xff
        await sql`INSERT INTO ml_pipeline_states (pipeline_id, encoded) VALUES ('damaged', ${bytes})`
        const exit = await Effect.runPromiseExit(
          PostgresPipelineStore.make(PostgresClient.makeClient(sql)).liveState("damaged")
        )
        expect(exit._tag).toBe("Failure")
        expect(String(exit)).toContain("ml_pipeline_states row damaged")
        expect(String(exit)).toContain("CRC-32")
      } finally {
        await sql.end()
      }
    })
  }, 60_000)
})
