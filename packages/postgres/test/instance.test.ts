// The database's instance id is checked while the server runs, not only at start: a database
// dropped and recreated under it (or restored from another cluster) is refused by every call and
// by the readiness ping, instead of answering "not found" for acknowledged records and accepting
// writes into the wrong data. Restoring the original database lets calls resume.
import { InstanceFile } from "@org/ml-adapter-fs"
import { ModelStore, StorageError } from "@org/ml-core"
import { sampleEvent, sampleModel } from "@org/ml-core/testing"
import { Effect, Exit, Layer, ManagedRuntime } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import postgres, { type Sql } from "postgres"
import { afterAll, describe, expect, it } from "vitest"
import { PostgresClient, PostgresModelStore } from "../src/index.js"
import { adminUrl, freshDatabase } from "../src/Testing.js"

const database = await freshDatabase("instance")
const dir = await fs.mkdtemp(path.join(os.tmpdir(), "ml-postgres-instance-"))
const admin = postgres(adminUrl, { max: 1, onnotice: () => undefined })
afterAll(async () => {
  await admin.end({ timeout: 1 })
  await database.drop()
  await fs.rm(dir, { recursive: true, force: true })
})

/** Drops the test database under the running pool and creates an empty one of the same name. */
const recreate = async () => {
  await admin.unsafe(`DROP DATABASE "${database.name}" WITH (FORCE)`)
  await admin.unsafe(`CREATE DATABASE "${database.name}"`)
}

const failure = (exit: Exit.Exit<unknown, unknown>) => {
  if (Exit.isSuccess(exit)) return `succeeded with ${JSON.stringify(exit.value)}`
  const error = exit.cause.reasons.find((reason) => reason._tag === "Fail")?.error
  return error instanceof StorageError ? error.message : `failed otherwise: ${String(exit.cause)}`
}

const modelRuntime = (file: string) =>
  ManagedRuntime.make(
    PostgresModelStore.layer.pipe(
      Layer.provide(
        PostgresClient.layer({
          url: database.url,
          remembered: InstanceFile.open(path.join(dir, file)),
          // A minute: the connections the drop closed must make the next call check, not the timer.
          checkIntervalMillis: 60_000
        })
      )
    )
  )

/** Runs `f` on a pool of its own on the test database (as another program would). */
const onDatabase = async <A>(f: (sql: Sql) => Promise<A>): Promise<A> => {
  const sql = postgres(database.url, { max: 1, onnotice: () => undefined })
  try {
    return await f(sql)
  } finally {
    await sql.end({ timeout: 1 })
  }
}

const modelCount = () =>
  onDatabase(async (sql) => {
    const [row] = await sql<Array<{ count: string }>>`SELECT count(*)::text AS count FROM ml_models`
    return Number(row!.count)
  })

describe("PostgreSQL instance check while running", () => {
  it("refuses calls and readiness once the database is recreated (with the schema) under the server", async () => {
    const runtime = modelRuntime("restored.json")
    const run = <A, E>(f: (store: ModelStore.ModelStoreShape) => Effect.Effect<A, E>) =>
      runtime.runPromiseExit(ModelStore.ModelStore.use(f))
    try {
      const model = sampleModel()
      expect(Exit.isSuccess(await run((s) => s.insert(model, sampleEvent(model))))).toBe(true)
      // Recreated with the schema, and so another instance id, as a restore from elsewhere leaves it.
      await recreate()
      await (await PostgresClient.connect({ url: database.url })).end({ timeout: 1 })

      const refusal = /is not the one this server used/
      expect(failure(await run((s) => s.get(model.id)))).toMatch(refusal)
      const other = sampleModel()
      expect(failure(await run((s) => s.insert(other, sampleEvent(other))))).toMatch(refusal)
      expect(failure(await run((s) => s.ping()))).toMatch(refusal)
      expect(await modelCount()).toBe(0) // nothing was written into the wrong database
    } finally {
      await runtime.dispose()
    }
  })

  it("refuses an emptied database at the readiness ping and every call after", async () => {
    const runtime = modelRuntime("emptied.json")
    const run = <A, E>(f: (store: ModelStore.ModelStoreShape) => Effect.Effect<A, E>) =>
      runtime.runPromiseExit(ModelStore.ModelStore.use(f))
    try {
      expect(Exit.isSuccess(await run((s) => s.ping()))).toBe(true)
      await recreate()
      expect(failure(await run((s) => s.ping()))).toMatch(/has no instance id: it was emptied or replaced/)
      expect(failure(await run((s) => s.list({ limit: 10 })))).toMatch(/has no instance id/)
    } finally {
      await runtime.dispose()
    }
  })

  it("reads the id at the readiness ping even when no connection closed, and resumes once it is back", async () => {
    await (await PostgresClient.connect({ url: database.url })).end({ timeout: 1 })
    const runtime = modelRuntime("swapped.json")
    const run = <A, E>(f: (store: ModelStore.ModelStoreShape) => Effect.Effect<A, E>) =>
      runtime.runPromiseExit(ModelStore.ModelStore.use(f))
    try {
      expect(Exit.isSuccess(await run((s) => s.ping()))).toBe(true)
      const [row] = await onDatabase((sql) => sql<Array<{ id: string }>>`SELECT id FROM ml_instance`)
      await onDatabase((sql) => sql`UPDATE ml_instance SET id = 'another'`)
      expect(failure(await run((s) => s.ping()))).toMatch(/is not the one this server used/)
      expect(failure(await run((s) => s.list({ limit: 10 })))).toMatch(/is not the one this server used/)
      await onDatabase((sql) => sql`UPDATE ml_instance SET id = ${row!.id}`)
      expect(Exit.isSuccess(await run((s) => s.ping()))).toBe(true)
      expect(Exit.isSuccess(await run((s) => s.list({ limit: 10 })))).toBe(true)
    } finally {
      await runtime.dispose()
    }
  })
})
