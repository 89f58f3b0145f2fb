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
    const stores = pools.map((sql) => PostgresExperimentStore.make(PostgresClient.makeClient(sql)))
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

describe("PostgresExperimentStore assignment retention", () => {
  it("gives the assignments of a completed experiment its retention, then treats expired ones as absent", async () => {
    const sql = await PostgresClient.connect({ url: database.url, maxConnections: 2 })
    pools.push(sql)
    const store = PostgresExperimentStore.make(PostgresClient.makeClient(sql), { assignmentRetentionSeconds: 3600 })
    const experiment = sampleExperiment({ assignmentRetentionSeconds: 7200 })
    const assignment = (userId: string, variant: number) => ({
      experimentId: experiment.id,
      userId,
      variant,
      modelId: experiment.variants[variant]!.modelId,
      at: new Date().toISOString()
    })
    await Effect.runPromise(store.insert(experiment))
    await Effect.runPromise(store.assignIfAbsent(assignment("u1", 0)))
    await Effect.runPromise(store.assignIfAbsent(assignment("u2", 0)))
    const expiries = () =>
      sql<Array<{ user_id: string; seconds: number | null }>>`
        SELECT user_id, extract(epoch FROM expires_at - clock_timestamp())::float8 AS seconds
        FROM ml_assignments WHERE experiment_id = ${experiment.id} ORDER BY user_id`
    expect((await expiries()).map((r) => r.seconds)).toEqual([null, null])

    await Effect.runPromise(store.commit({ ...experiment, status: "completed", revision: 2 }, 1))
    // The experiment's own retention wins over the store's default.
    for (const { seconds } of await expiries()) {
      expect(seconds).toBeGreaterThan(7000)
      expect(seconds).toBeLessThanOrEqual(7200)
    }
    expect(await Effect.runPromise(store.getAssignment(experiment.id, "u1"))).toMatchObject({ variant: 0 })

    // Expired: absent for reads, replaced by a new assignment, and swept at the next commit.
    await sql`UPDATE ml_assignments SET expires_at = clock_timestamp() - interval '1 second'
              WHERE experiment_id = ${experiment.id}`
    expect(await Effect.runPromise(store.getAssignment(experiment.id, "u1"))).toBeUndefined()
    const again = await Effect.runPromise(store.assignIfAbsent(assignment("u1", 1)))
    expect(again).toMatchObject({ created: true, assignment: { variant: 1 } })
    await Effect.runPromise(store.commit({ ...experiment, status: "completed", revision: 3 }, 2))
    expect((await expiries()).map((r) => r.user_id)).toEqual(["u1"])
  })
})
