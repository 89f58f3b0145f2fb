// The ExperimentStore contract on PostgreSQL, in a database of its own, plus sticky assignments
// racing through separate pools, as separate server instances would.
import { experimentStoreContract, sampleExperiment } from "@org/ml-core/testing"
import { Effect, Layer } from "effect"
import type { Sql } from "postgres"
import { afterAll, describe, expect, it } from "vitest"
import { PostgresClient, PostgresExperimentStore } from "../src/index.js"
import { freshDatabase } from "../src/Testing.js"

const database = await freshDatabase("experiment_store")
const pools: Array<Sql> = []
afterAll(async () => {
  await Promise.all(pools.map((sql) => sql.end()))
  await database.drop()
})

experimentStoreContract(
  "postgres",
  () =>
    PostgresExperimentStore.layer.pipe(Layer.provide(PostgresClient.layer({ url: database.url, maxConnections: 4 })))
)

describe("PostgresExperimentStore across instances", () => {
  it("gives every instance the same sticky assignment when they all assign a user at once", async () => {
    for (let i = 0; i < 4; i++) pools.push(await PostgresClient.connect({ url: database.url, maxConnections: 3 }))
    const stores = pools.map(PostgresExperimentStore.make)
    const experiment = sampleExperiment()
    await Effect.runPromise(stores[0]!.insert(experiment))
    const users = Array.from({ length: 20 }, (_, i) => `user-${i}`)
    const results = await Promise.all(
      users.flatMap((userId) =>
        stores.map((store, i) =>
          Effect.runPromise(store.assignIfAbsent({
            experimentId: experiment.id,
            userId,
            variant: i % 2,
            modelId: experiment.variants[i % 2]!.modelId,
            at: new Date().toISOString()
          }))
        )
      )
    )
    for (const userId of users) {
      const ofUser = results.filter((r) => r.assignment.userId === userId)
      expect(ofUser.filter((r) => r.created)).toHaveLength(1)
      expect(new Set(ofUser.map((r) => r.assignment.variant)).size).toBe(1)
      const stored = await Effect.runPromise(stores[3]!.getAssignment(experiment.id, userId))
      expect(stored?.variant).toBe(ofUser[0]!.assignment.variant)
    }
  })
})
