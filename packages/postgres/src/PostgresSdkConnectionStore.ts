/**
 * SDK connections in PostgreSQL: one row per connection, found by its unique client key; creation
 * and deletion write the row change and its audit event in one transaction. Nothing is cached, so
 * a deleted connection stops serving on every instance at once.
 */
import { SdkConnections, storedRecord } from "@org/ml-core"
import { Layer } from "effect"
import type { TransactionSql } from "postgres"
import { PostgresClient, type PostgresClientShape } from "./PostgresClient.js"

const connections = storedRecord(SdkConnections.SdkConnection)
const events = storedRecord(SdkConnections.SdkConnectionEvent)

const appendEvent = async (tx: TransactionSql, event: SdkConnections.SdkConnectionEvent) => {
  await tx`INSERT INTO ml_sdk_connection_events (event) VALUES (${tx.json(event as never)})`
  await tx`DELETE FROM ml_sdk_connection_events WHERE seq <= (
    SELECT seq FROM ml_sdk_connection_events ORDER BY seq DESC
    OFFSET ${SdkConnections.MAX_SDK_CONNECTION_EVENTS} LIMIT 1)`
}

type Row = { id: string; record: unknown }
const decode = (row: Row) => connections.orThrow(row.record, `ml_sdk_connections row ${row.id}`)

export const make = ({ query, sql }: PostgresClientShape): SdkConnections.SdkConnectionStoreShape => ({
  create: (connection) =>
    query("SDK connection creation", () =>
      sql.begin(async (tx) => {
        await tx`INSERT INTO ml_sdk_connections (id, client_key, created_at, record)
                 VALUES (${connection.id}, ${connection.clientKey}, ${connection.createdAt},
                         ${tx.json(connection as never)})`
        await appendEvent(tx, SdkConnections.createdEvent(connection))
      })),
  list: () =>
    query(
      "SDK connection list",
      async () => (await sql<Array<Row>>`SELECT id, record FROM ml_sdk_connections ORDER BY created_at, id`).map(decode)
    ),
  findByClientKey: (clientKey) =>
    query("SDK connection lookup", async () => {
      const [row] = await sql<Array<Row>>`SELECT id, record FROM ml_sdk_connections WHERE client_key = ${clientKey}`
      return row === undefined ? undefined : decode(row)
    }),
  remove: (id, actor, at) =>
    query("SDK connection deletion", () =>
      sql.begin(async (tx) => {
        const [row] = await tx<Array<Row>>`DELETE FROM ml_sdk_connections WHERE id = ${id} RETURNING id, record`
        if (row === undefined) return undefined
        const removed = decode(row)
        await appendEvent(tx, { at, action: "deleted", actor, connectionId: id, connectionName: removed.name })
        return removed
      })),
  events: () =>
    query("SDK connection events", async () =>
      (await sql<Array<{ seq: string; event: unknown }>>`
        SELECT seq, event FROM (
          SELECT seq, event FROM ml_sdk_connection_events ORDER BY seq DESC
          LIMIT ${SdkConnections.MAX_SDK_CONNECTION_EVENTS}
        ) newest ORDER BY seq`).map((row) => events.orThrow(row.event, `ml_sdk_connection_events row ${row.seq}`)))
})

export const layer: Layer.Layer<SdkConnections.SdkConnectionStore, never, PostgresClient> = Layer.effect(
  SdkConnections.SdkConnectionStore,
  PostgresClient.useSync((client) => make(client))
)
