/**
 * The connection pool shared by the PostgreSQL adapters (the `postgres` driver), acquired when the
 * layer is built and closed when it is released. Building the layer checks the connection and
 * applies the schema migrations (Migrations.ts), so a wrong URL or a schema newer than this code
 * fails start-up with a clear StorageError instead of failing requests later.
 */
import { StorageError } from "@org/ml-core"
import { Context, Effect, Layer } from "effect"
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
