/**
 * Leases in PostgreSQL: taking one is a single INSERT ... ON CONFLICT that replaces the row only
 * when the held lease has expired, so of many instances trying at once exactly one gets it.
 * Expiry is judged by the database's clock, the one clock every instance shares, so skew between
 * the instances' clocks cannot let two hold a lease.
 */
import { Leases } from "@org/ml-core"
import { Effect, Layer } from "effect"
import { PostgresClient, type PostgresClientShape } from "./PostgresClient.js"

export const make = ({ query, sql }: PostgresClientShape): Leases.LeasesShape => ({
  acquire: (name, owner, ttlMillis) =>
    query("lease", () =>
      sql`INSERT INTO ml_leases (name, owner, expires_at)
          VALUES (${name}, ${owner}, clock_timestamp() + ${ttlMillis} * interval '1 millisecond')
          ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
          WHERE ml_leases.expires_at <= clock_timestamp()
          RETURNING name`).pipe(Effect.map((rows) => rows.length === 1)),

  release: (name, owner) =>
    query("lease release", () => sql`DELETE FROM ml_leases WHERE name = ${name} AND owner = ${owner}`).pipe(
      Effect.asVoid
    )
})

export const layer: Layer.Layer<Leases.Leases, never, PostgresClient> = Layer.effect(
  Leases.Leases,
  PostgresClient.useSync((client) => make(client))
)
