// The PipelineStore contract on PostgreSQL, in a database of its own.
import { PipelineStore } from "@org/ml-core"
import { pipelineStoreContract } from "@org/ml-core/testing"
import { Effect, Layer } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { PostgresClient, PostgresPipelineStore } from "../src/index.js"
import { freshDatabase } from "../src/Testing.js"

const database = await freshDatabase("pipeline_store")
afterAll(() => database.drop())

pipelineStoreContract(
  "postgres",
  () => PostgresPipelineStore.layer.pipe(Layer.provide(PostgresClient.layer({ url: database.url, maxConnections: 4 })))
)

describe("PostgresPipelineStore behaves as the memory store", () => {
  it("agrees on buffer, counters, progressive and validation windows over a random history", async () => {
    const sql = await PostgresClient.connect({ url: database.url, maxConnections: 2 })
    try {
      const store = PostgresPipelineStore.make(PostgresClient.makeClient(sql))
      const memory = await Effect.runPromise(PipelineStore.makeMemory)
      const limits = { maxBufferSize: 7, dedupWindow: 9, progressiveWindow: 5 }
      const id = `pipe-${Math.random().toString(36).slice(2)}`
      let seed = 7
      const next = (n: number) => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) % n
      const sample = (sampleId: string): PipelineStore.StoredSample => ({
        sampleId,
        features: { x: next(100) / 7, y: next(3) },
        label: next(2),
        weight: 1,
        receivedAt: "2030-01-01T00:00:00.000Z"
      })
      const both = async <A>(f: (s: PipelineStore.PipelineStoreShape) => Effect.Effect<A, unknown>) => {
        const [a, b] = [await Effect.runPromise(f(store)), await Effect.runPromise(f(memory))]
        expect(a).toEqual(b)
        return a
      }
      for (let step = 0; step < 40; step++) {
        const action = next(10)
        if (action < 6) {
          // Ids from a small range, so batches repeat ids of earlier batches and of themselves.
          const batch = Array.from({ length: 1 + next(6) }, () => sample(`s${next(25)}`))
          const predictions = next(2) === 0 ? batch.map(() => next(100) / 100) : undefined
          await both((s) => s.addSamples(id, batch, limits, predictions))
        } else if (action < 8) {
          const ids = Array.from({ length: next(3) }, () => `s${next(25)}`)
          await both((s) => s.removeSamples(id, ids))
        } else {
          const held = [sample(`v${step}`), sample(`w${step}`)]
          await both((s) => s.addValidation(id, held, 3))
        }
        await both((s) => s.buffer(id))
        await both((s) => s.bufferSize(id))
        await both((s) => s.counters(id))
        await both((s) => s.progressive(id))
        await both((s) => s.validation(id))
      }
    } finally {
      await sql.end()
    }
  })
})
