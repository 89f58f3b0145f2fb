// The ModelStore contract on PostgreSQL, in a database of its own, plus what the contract cannot
// see: promotions racing through separate pools (separate instances) and rows that do not decode.
import { FsArtifactStore } from "@org/ml-adapter-fs"
import { MetricsSink, ModelRegistry, ModelStore } from "@org/ml-core"
import {
  aliasMovesAcrossInstances,
  modelRegistryContract,
  modelStoreContract,
  sampleEvent,
  sampleModel
} from "@org/ml-core/testing"
import { Effect, Exit, Layer } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import type { Sql } from "postgres"
import { afterAll, describe, expect, it } from "vitest"
import { PostgresClient, PostgresModelStore } from "../src/index.js"
import { freshDatabase } from "../src/Testing.js"

const database = await freshDatabase("model_store")
const artifactsDir = await fs.mkdtemp(path.join(os.tmpdir(), "ml-postgres-test-"))
const pools: Array<Sql> = []
afterAll(async () => {
  await Promise.all(pools.map((sql) => sql.end()))
  await database.drop()
  await fs.rm(artifactsDir, { recursive: true, force: true })
})
const pool = async () => {
  const sql = await PostgresClient.connect({ url: database.url, maxConnections: 2 })
  pools.push(sql)
  return sql
}

const storeLayer = () =>
  PostgresModelStore.layer.pipe(Layer.provide(PostgresClient.layer({ url: database.url, maxConnections: 4 })))

modelStoreContract("postgres", storeLayer)

// The registry's behaviour (promotions, demotions, lineage, audit) on this store; artifacts on files.
modelRegistryContract(
  "postgres",
  (settings) =>
    ModelRegistry.layer({ ...ModelRegistry.defaultRegistrySettings, ...settings }).pipe(
      Layer.provide(
        Layer.mergeAll(storeLayer(), FsArtifactStore.layer({ directory: artifactsDir }), MetricsSink.layerMemory)
      )
    )
)

// Each instance has its own pool, as separate server processes would.
aliasMovesAcrossInstances("postgres", () =>
  ModelRegistry.layer().pipe(
    Layer.provide(
      Layer.mergeAll(storeLayer(), FsArtifactStore.layer({ directory: artifactsDir }), MetricsSink.layerMemory)
    )
  ))

describe("PostgresModelStore across instances", () => {
  it("lets exactly one of concurrent first promotions of a name win, each through its own pool", async () => {
    const name = `race-${Math.random().toString(36).slice(2, 10)}`
    const candidates = Array.from({ length: 6 }, () => sampleModel({ name, status: "staging" }))
    const stores = await Promise.all(
      candidates.map(async () => PostgresModelStore.make(PostgresClient.makeClient(await pool())))
    )
    for (const model of candidates) await Effect.runPromise(stores[0]!.insert(model, sampleEvent(model)))
    const exits = await Promise.all(candidates.map((model, i) => {
      const promoted = { ...model, status: "production" as const, revision: 2 }
      return Effect.runPromise(Effect.exit(stores[i]!.commit({
        expected: [{ id: model.id, revision: 1 }],
        production: { name, expectedId: null },
        put: [promoted],
        events: [sampleEvent(promoted, { action: "promoted", from: "staging", to: "production" })]
      })))
    }))
    expect(exits.filter(Exit.isSuccess)).toHaveLength(1)
    const winner = candidates[exits.findIndex(Exit.isSuccess)]!
    const store = stores[0]!
    expect((await Effect.runPromise(store.productionOf(name)))?.id).toBe(winner.id)
    const listed = await Effect.runPromise(store.list({ name, status: "production", limit: 10 }))
    expect(listed.map((m) => m.id)).toEqual([winner.id])
    const promotions = (await Effect.runPromise(store.historyOfName(name))).filter((e) => e.action === "promoted")
    expect(promotions.map((e) => e.modelId)).toEqual([winner.id])
  })

  it("names the row of a stored model that does not decode", async () => {
    const sql = await pool()
    const model = sampleModel()
    const store = PostgresModelStore.make(PostgresClient.makeClient(sql))
    await Effect.runPromise(store.insert(model, sampleEvent(model)))
    await sql`UPDATE ml_models SET record = jsonb_set(record, '{revision}', '"one"') WHERE id = ${model.id}`
    const error = await Effect.runPromise(Effect.flip(store.get(model.id)))
    expect(error).toMatchObject({ _tag: "StorageError" })
    expect(error.message).toContain(`Stored record at ml_models row ${model.id} is not valid: revision`)
  })

  it("answers a failing query as a StorageError naming the operation", async () => {
    const sql = await pool()
    const store = PostgresModelStore.make(PostgresClient.makeClient(sql))
    await sql.end()
    const error = await Effect.runPromise(Effect.flip(
      ModelStore.ModelStore.use((s) => s.countByStatus()).pipe(
        Effect.provideService(ModelStore.ModelStore, store)
      )
    ))
    expect(error).toMatchObject({ _tag: "StorageError" })
    expect(error.message).toMatch(/^PostgreSQL count failed: /)
  })
})
