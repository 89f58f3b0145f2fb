// The outbox's order on PostgreSQL: a bigserial is handed out at INSERT, not at COMMIT, so without
// the store's ordering lock a reader could see sequence 6 committed before 5, move its cursor past
// 6 and never read 5. Here several instances (separate pools) commit events while a consumer
// follows the outbox as the delivery worker does (read after its cursor, move to the last read);
// it must end up having read every event exactly once.
import { ModelStore } from "@org/ml-core"
import { sampleEvent, sampleModel } from "@org/ml-core/testing"
import { Effect } from "effect"
import type { Sql } from "postgres"
import { afterAll, describe, expect, it } from "vitest"
import { PostgresClient, PostgresModelStore } from "../src/index.js"
import { freshDatabase } from "../src/Testing.js"

const database = await freshDatabase("outbox_order")
const pools: Array<Sql> = []
afterAll(async () => {
  await Promise.all(pools.map((sql) => sql.end()))
  await database.drop()
})
const store = async () => {
  const sql = await PostgresClient.connect({ url: database.url, maxConnections: 4 })
  pools.push(sql)
  return PostgresModelStore.make(PostgresClient.makeClient(sql))
}

describe("PostgreSQL outbox order", () => {
  it("lets a consumer following the outbox during concurrent commits read every event once", async () => {
    const writers = await Promise.all(Array.from({ length: 4 }, store))
    const reader = await store()
    let writing = true
    const seen: Array<number> = []
    const follow = (async () => {
      let cursor = 0
      for (;;) {
        const done = !writing
        const page = await Effect.runPromise(reader.eventsAfter(cursor, ModelStore.MAX_EVENTS_PER_READ))
        for (const { sequence } of page) seen.push(sequence)
        if (page.length > 0) cursor = page[page.length - 1]!.sequence
        else if (done) return
      }
    })()
    await Promise.all(writers.map(async (writer, w) => {
      for (let i = 0; i < 40; i++) {
        const model = sampleModel({ name: `outbox-${w}-${i}` })
        await Effect.runPromise(writer.insert(model, sampleEvent(model)))
        const next = { ...model, status: "testing" as const, revision: 2 }
        await Effect.runPromise(writer.commit({
          expected: [{ id: model.id, revision: 1 }],
          put: [next],
          events: [sampleEvent(next, { action: "promoted", from: "draft", to: "testing" })]
        }))
      }
    }))
    writing = false
    await follow
    const all = await Effect.runPromise(reader.eventsAfter(0, ModelStore.MAX_EVENTS_PER_READ))
    expect(all).toHaveLength(4 * 40 * 2)
    expect(seen).toEqual(all.map((r) => r.sequence))
  }, 120_000)
})
