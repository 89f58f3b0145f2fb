// The DriftStore contract (with its lease case) on PostgreSQL, in a database of its own.
import { DriftStore } from "@org/ml-core"
import { driftStoreContract } from "@org/ml-core/testing"
import { Effect, Layer } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { PostgresClient, PostgresDriftStore, PostgresLeases } from "../src/index.js"
import { freshDatabase } from "../src/Testing.js"

const database = await freshDatabase("drift_store")
afterAll(() => database.drop())

driftStoreContract(
  "postgres",
  () =>
    Layer.merge(PostgresDriftStore.layer, PostgresLeases.layer).pipe(
      Layer.provide(PostgresClient.layer({ url: database.url, maxConnections: 4 }))
    )
)

describe("PostgresDriftStore windows", () => {
  it("never brings back values that fell out when a later push allows a larger window", async () => {
    const sql = await PostgresClient.connect({ url: database.url, maxConnections: 2 })
    try {
      const store = PostgresDriftStore.make(PostgresClient.makeClient(sql))
      const memory = await Effect.runPromise(DriftStore.makeMemory)
      const steps: Array<[Array<number>, number]> = [[range(0, 12), 10], [range(12, 17), 20], [range(17, 40), 8]]
      for (const [values, size] of steps) {
        await Effect.runPromise(store.pushWindows("m", { f: values }, size))
        await Effect.runPromise(memory.pushWindows("m", { f: values }, size))
        expect(await Effect.runPromise(store.window("m", "f"))).toEqual(
          await Effect.runPromise(memory.window("m", "f"))
        )
      }
      expect(await Effect.runPromise(store.window("m", "f"))).toEqual(range(32, 40))
      // Batches entirely outside the window are deleted, not only skipped.
      const [chunks] = await sql<Array<{ n: string }>>`
        SELECT count(*) AS n FROM ml_drift_window_chunks WHERE monitor_id = 'm' AND feature = 'f'`
      expect(Number(chunks!.n)).toBe(1)
    } finally {
      await sql.end()
    }
  })
})

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i)
