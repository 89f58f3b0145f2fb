// Migrations at start: many instances starting at once apply each version exactly once (the
// advisory lock), the version is recorded, a newer schema than the code is refused by name, and a
// server that does not answer fails start-up naming it. Separate processes would test the same
// lock as separate pools do: each pool's connections are separate sessions of the server.
import { InstanceFile } from "@org/ml-adapter-fs"
import { sampleEvent, sampleModel } from "@org/ml-core/testing"
import { Effect } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import postgres from "postgres"
import { afterAll, describe, expect, it } from "vitest"
import { Migrations, PostgresClient, PostgresModelStore } from "../src/index.js"
import { freshDatabase, type TestDatabase, urlOfDatabase } from "../src/Testing.js"

const databases: Array<TestDatabase> = []
const fresh = async (label: string) => {
  const database = await freshDatabase(label)
  databases.push(database)
  return database
}
afterAll(async () => {
  for (const database of databases) await database.drop()
})

const versionsOf = async (url: string) => {
  const sql = postgres(url, { max: 1, onnotice: () => undefined })
  try {
    return (await sql<Array<{ version: number }>>`SELECT version FROM ml_schema_migrations ORDER BY version`)
      .map((row) => row.version)
  } finally {
    await sql.end()
  }
}

describe("PostgreSQL migrations", () => {
  it("apply each version once when eight instances start at once", async () => {
    const database = await fresh("migrate_concurrent")
    const pools = Array.from({ length: 8 }, () => PostgresClient.open({ url: database.url, maxConnections: 1 }))
    try {
      const outcomes = await Promise.all(pools.map((sql) => Migrations.migrate(sql)))
      const latest = Migrations.latestVersion()
      const allVersions = Migrations.migrations.map((m) => m.version)
      // Exactly one start applied everything; the others found the schema current.
      expect(outcomes.filter((o) => o.applied.length > 0)).toEqual([{ from: 0, to: latest, applied: allVersions }])
      expect(outcomes.filter((o) => o.applied.length === 0)).toHaveLength(7)
      expect(outcomes.every((o) => o.to === latest)).toBe(true)
      expect(await versionsOf(database.url)).toEqual(allVersions)
    } finally {
      await Promise.all(pools.map((sql) => sql.end()))
    }
  })

  it("apply only the versions a database lacks, keeping its data", async () => {
    const database = await fresh("migrate_partial")
    const first = Migrations.migrations.filter((m) => m.version === 1)
    const sql = PostgresClient.open({ url: database.url, maxConnections: 2 })
    try {
      expect(await Migrations.migrate(sql, first)).toEqual({ from: 0, to: 1, applied: [1] })
      const model = sampleModel()
      await Effect.runPromise(PostgresModelStore.make(PostgresClient.makeClient(sql)).insert(model, sampleEvent(model)))
      const outcome = await Migrations.migrate(sql)
      expect(outcome.from).toBe(1)
      expect(outcome.applied).toEqual(Migrations.migrations.filter((m) => m.version > 1).map((m) => m.version))
      expect(await Effect.runPromise(PostgresModelStore.make(PostgresClient.makeClient(sql)).get(model.id))).toEqual(
        model
      )
    } finally {
      await sql.end()
    }
  })

  it("refuse a schema newer than the code, naming both versions, and change nothing", async () => {
    const database = await fresh("migrate_newer")
    const sql = PostgresClient.open({ url: database.url, maxConnections: 1 })
    const future = Migrations.latestVersion() + 1
    try {
      await Migrations.migrate(sql)
      await sql`INSERT INTO ml_schema_migrations (version, name) VALUES (${future}, 'from a newer release')`
    } finally {
      await sql.end()
    }
    const error = await PostgresClient.connect({ url: database.url }).then(
      () => undefined,
      (e: unknown) => e
    )
    expect(error).toMatchObject({ _tag: "StorageError" })
    expect((error as Error).message).toBe(
      `The database schema is version ${future}, newer than this server knows (${Migrations.latestVersion()}): ` +
        `upgrade the server to a version that knows schema ${future}; it was not changed`
    )
    expect(await versionsOf(database.url)).toEqual([...Migrations.migrations.map((m) => m.version), future])
  })

  it("refuse at start a database emptied or replaced since this server last used it", async () => {
    const database = await fresh("instance")
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "ml-pg-instance-"))
    const instanceFile = `${dir}/postgres-instance.json`
    try {
      // Starts on the same database (and instances sharing the directory) agree, also several at
      // once in one process (the remembered file was once written through one temporary name per pid).
      const clients = await Promise.all(
        [0, 1, 2, 3].map(() =>
          PostgresClient.connect({ url: database.url, remembered: InstanceFile.open(instanceFile) })
        )
      )
      await Promise.all(clients.map((client) => client.end()))
      await (await PostgresClient.connect({ url: database.url, remembered: InstanceFile.open(instanceFile) })).end()
      const remembered = JSON.parse(await fs.readFile(instanceFile, "utf8")).id
      // Emptied: the same name, created again.
      const admin = postgres(urlOfDatabase("postgres"), { max: 1, onnotice: () => undefined })
      try {
        await admin.unsafe(`DROP DATABASE "${database.name}" WITH (FORCE)`)
        await admin.unsafe(`CREATE DATABASE "${database.name}"`)
      } finally {
        await admin.end()
      }
      const error = await PostgresClient.connect({ url: database.url, remembered: InstanceFile.open(instanceFile) })
        .then(
          () => undefined,
          (e: unknown) => e
        )
      expect(error).toMatchObject({ _tag: "StorageError" })
      expect((error as Error).message).toMatch(
        new RegExp(
          `is not the one this server used: its instance id is [0-9a-f-]{36}, ${instanceFile} remembers ${remembered}`
        )
      )
      // The operator's way out: forget the old instance, and the server starts on the database as it is.
      await fs.rm(instanceFile)
      await (await PostgresClient.connect({ url: database.url, remembered: InstanceFile.open(instanceFile) })).end()
    } finally {
      await fs.rm(dir, { recursive: true, force: true })
    }
  })

  it("fail start-up naming the server when nothing answers, without the password", async () => {
    // A port that was free a moment ago: nothing listens there.
    const net = await import("node:net")
    const port = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as { port: number }
        server.close(() => resolve(port))
      })
    })
    const error = await PostgresClient.connect({ url: `postgres://ml:secret@127.0.0.1:${port}/ml` }).then(
      () => undefined,
      (e: unknown) => e
    )
    expect(error).toMatchObject({ _tag: "StorageError" })
    expect((error as Error).message).toContain(`Cannot reach PostgreSQL at postgres://***@127.0.0.1:${port}/ml`)
    expect((error as Error).message).not.toContain("secret")
  })
})
