/**
 * The connection pool shared by the PostgreSQL adapters (the `postgres` driver), acquired when the
 * layer is built and closed when it is released. Building the layer checks the connection and
 * applies the schema migrations (Migrations.ts), so a wrong URL or a schema newer than this code
 * fails start-up with a clear StorageError instead of failing requests later. With `instanceFile`
 * the server remembers the database's instance id (written once with the schema) and refuses, at
 * start, a database with another id: one emptied or replaced would otherwise be served as if every
 * acknowledged record had never existed.
 */
import { StorageError } from "@org/ml-core"
import { Context, Effect, Layer } from "effect"
import { randomUUID } from "node:crypto"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import postgres, { type Sql } from "postgres"
import { migrate, migrationFailure } from "./Migrations.js"

export interface PostgresClientShape {
  readonly sql: Sql
}

export class PostgresClient
  extends Context.Service<PostgresClient, PostgresClientShape>()("@org/ml-adapter-postgres/PostgresClient")
{}

export interface PostgresOptions {
  /** postgres://user:password@host:port/database */
  readonly url: string
  /** Connections in the pool (default 10). */
  readonly maxConnections?: number | undefined
  /** How long connecting may take, in seconds (default 5). */
  readonly connectTimeoutSeconds?: number | undefined
  /** Where this server remembers the database's instance id between starts (`<storage dir>/postgres-instance.json`). */
  readonly instanceFile?: string | undefined
}

/**
 * Compares the database's instance id with the one `file` remembers, remembering it when the file
 * is absent; rejects with a StorageError naming both when they differ.
 */
export const checkInstance = async (sql: Sql, url: string, file: string): Promise<void> => {
  const [row] = await sql<Array<{ id: string }>>`SELECT id FROM ml_instance`
  if (row === undefined) throw new StorageError({ message: `The database at ${redactUrl(url)} has no instance id` })
  let remembered: string | undefined
  try {
    remembered = (JSON.parse(await fs.readFile(file, "utf8")) as { id?: unknown }).id as string | undefined
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new StorageError({ message: `Cannot read ${file}: ${(cause as Error).message}`, cause })
    }
  }
  if (remembered === undefined) {
    // Written aside, then renamed: instances sharing the directory never see half a file. The name is
    // unique per call, as several servers in one process may start on one directory at once.
    const temporary = `${file}.${process.pid}.${randomUUID()}.tmp`
    await fs.mkdir(path.dirname(file), { recursive: true })
    await fs.writeFile(temporary, JSON.stringify({ id: row.id }) + "\n")
    await fs.rename(temporary, file)
    return
  }
  if (remembered !== row.id) {
    throw new StorageError({
      message: `The PostgreSQL database at ${redactUrl(url)} is not the one this server used: its instance id is ` +
        `${row.id}, ${file} remembers ${remembered}. It was emptied or replaced; restore it, or delete ${file} ` +
        `to serve it as it is`
    })
  }
}

export const redactUrl = (url: string) => url.replace(/\/\/[^@/]*@/, "//***@")

/** A pool with the adapters' settings; nothing is connected until the first query. */
export const open = (options: PostgresOptions): Sql =>
  postgres(options.url, {
    max: options.maxConnections ?? 10,
    connect_timeout: options.connectTimeoutSeconds ?? 5,
    // "relation already exists, skipping" and the like: nothing an operator acts on.
    onnotice: () => undefined
  })

/** Connects, then migrates; the pool is closed again when either fails. */
export const connect = async (options: PostgresOptions): Promise<Sql> => {
  const sql = open(options)
  try {
    await sql`SELECT 1`
  } catch (cause) {
    await sql.end({ timeout: 1 }).catch(() => undefined)
    throw new StorageError({
      message: `Cannot reach PostgreSQL at ${redactUrl(options.url)}: ${
        cause instanceof Error ? cause.message : String(cause)
      }`,
      cause
    })
  }
  try {
    await migrate(sql)
  } catch (cause) {
    await sql.end({ timeout: 1 }).catch(() => undefined)
    throw migrationFailure(cause)
  }
  if (options.instanceFile !== undefined) {
    try {
      await checkInstance(sql, options.url, options.instanceFile)
    } catch (cause) {
      await sql.end({ timeout: 1 }).catch(() => undefined)
      throw cause instanceof StorageError
        ? cause
        : new StorageError({ message: `Checking the database instance failed: ${String(cause)}`, cause })
    }
  }
  return sql
}

const storageError = (cause: unknown) =>
  cause instanceof StorageError
    ? cause
    : new StorageError({ message: cause instanceof Error ? cause.message : String(cause), cause })

export const layer = (options: PostgresOptions): Layer.Layer<PostgresClient, StorageError> =>
  Layer.effect(
    PostgresClient,
    Effect.acquireRelease(
      Effect.tryPromise({ try: async () => ({ sql: await connect(options) }), catch: storageError }),
      ({ sql }) => Effect.promise(() => sql.end({ timeout: 5 }))
    )
  )

/**
 * Runs a query as an Effect that fails with a StorageError naming the operation; a StorageError
 * thrown inside (a stored record that does not decode) is kept as it is.
 */
export const query = <A>(operation: string, f: () => Promise<A>): Effect.Effect<A, StorageError> =>
  Effect.tryPromise({
    try: f,
    catch: (cause) =>
      cause instanceof StorageError ? cause : new StorageError({
        message: `PostgreSQL ${operation} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
        cause
      })
  })
