/**
 * The connection pool shared by the PostgreSQL adapters (the `postgres` driver), acquired when the
 * layer is built and closed when it is released. Building the layer checks the connection and
 * applies the schema migrations (Migrations.ts), so a wrong URL or a schema newer than this code
 * fails start-up with a clear StorageError instead of failing requests later. The database's
 * instance id is then checked against the one the data directory remembers and kept checking while
 * the server runs (PostgresInstance.ts): every query of the stores goes through `query`, which
 * waits for that check and fails once the database was emptied or replaced.
 */
import { redactUrl, type RememberedInstances, StorageError } from "@org/ml-core"
import { Context, Effect, Layer } from "effect"
import postgres, { type Sql } from "postgres"
import { migrate, migrationFailure } from "./Migrations.js"
import { checkRemembered, type InstanceGuard, unguarded, watch } from "./PostgresInstance.js"

export interface PostgresClientShape {
  readonly sql: Sql
  /** Runs a query once the database is known to be the one this server used (`query` below, guarded). */
  readonly query: <A>(operation: string, f: () => Promise<A>) => Effect.Effect<A, StorageError>
  /** The readiness probe: the instance id read now. */
  readonly ping: () => Effect.Effect<void, StorageError>
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
  /** Where this server remembers the database's id (the server: `<storage dir>/postgres-instance.json`). */
  readonly remembered?: RememberedInstances | undefined
  /** How often a running server reads the instance id again (default 1000 ms). */
  readonly checkIntervalMillis?: number | undefined
  /** Where the loud line goes when the database changes under the server (default stderr). */
  readonly log?: ((line: string) => void) | undefined
}

/** A pool with the adapters' settings; nothing is connected until the first query. */
export const open = (options: PostgresOptions, onConnectionClosed: () => void = () => undefined): Sql =>
  postgres(options.url, {
    max: options.maxConnections ?? 10,
    connect_timeout: options.connectTimeoutSeconds ?? 5,
    // "relation already exists, skipping" and the like: nothing an operator acts on.
    onnotice: () => undefined,
    onclose: () => onConnectionClosed()
  })

const connectChecked = async (
  options: PostgresOptions,
  onConnectionClosed?: () => void
): Promise<{ readonly sql: Sql; readonly id: string }> => {
  const sql = open(options, onConnectionClosed)
  const fail = async (error: StorageError) => {
    await sql.end({ timeout: 1 }).catch(() => undefined)
    return error
  }
  try {
    await sql`SELECT 1`
  } catch (cause) {
    throw await fail(
      new StorageError({
        message: `Cannot reach PostgreSQL at ${redactUrl(options.url)}: ${
          cause instanceof Error ? cause.message : String(cause)
        }`,
        cause
      })
    )
  }
  try {
    await migrate(sql)
  } catch (cause) {
    throw await fail(migrationFailure(cause))
  }
  try {
    return { sql, id: await checkRemembered(sql, options.url, options.remembered) }
  } catch (cause) {
    throw await fail(
      cause instanceof StorageError
        ? cause
        : new StorageError({ message: `Checking the database instance failed: ${String(cause)}`, cause })
    )
  }
}

/**
 * Connects, migrates and checks the instance id against `remembered` (remembering it the first
 * time); the pool is closed again when any fails.
 */
export const connect = async (options: PostgresOptions): Promise<Sql> => (await connectChecked(options)).sql

const storageError = (cause: unknown) =>
  cause instanceof StorageError
    ? cause
    : new StorageError({ message: cause instanceof Error ? cause.message : String(cause), cause })

/** The client of the stores: `query` waits for `guard` and tells it about failures. */
export const makeClient = (sql: Sql, guard: InstanceGuard = unguarded): PostgresClientShape => ({
  sql,
  query: (operation, f) =>
    query(operation, async () => {
      const waiting = guard.ready()
      if (waiting !== undefined) await waiting
      try {
        return await f()
      } catch (cause) {
        // Perhaps the connection, perhaps the database: the next query reads the id first.
        guard.suspect()
        throw cause
      }
    }),
  ping: () =>
    query("ping", async () => {
      if (guard === unguarded) await sql`SELECT 1`
      else await guard.check()
    })
})

export const layer = (options: PostgresOptions): Layer.Layer<PostgresClient, StorageError> =>
  Layer.effect(
    PostgresClient,
    Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => {
          let guard: InstanceGuard = unguarded
          // A closed connection may come back to another database of the same name: check first.
          const { sql, id } = await connectChecked(options, () => guard.suspect())
          guard = watch(sql, { ...options, id })
          return { client: makeClient(sql, guard), guard }
        },
        catch: storageError
      }),
      ({ client, guard }) =>
        Effect.promise(() => {
          guard.close()
          return client.sql.end({ timeout: 5 })
        })
    ).pipe(Effect.map(({ client }) => client))
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
