/**
 * API keys in PostgreSQL, found by the SHA-256 of their token. Creating or revoking a key writes
 * the key and its audit event in one transaction; revocation is one conditional UPDATE, so of two
 * instances revoking the same key at once exactly one records the revocation. Nothing is cached:
 * every lookup reads the row, so a revocation holds for every instance at once.
 */
import { KeyStore, storedRecord } from "@org/ml-core"
import { Layer } from "effect"
import type { TransactionSql } from "postgres"
import { PostgresClient, type PostgresClientShape } from "./PostgresClient.js"

const apiKeys = storedRecord(KeyStore.ApiKey)
const keyEvents = storedRecord(KeyStore.KeyEvent)

const appendEvent = async (tx: TransactionSql, event: KeyStore.KeyEvent) => {
  await tx`INSERT INTO ml_key_events (event) VALUES (${tx.json(event as never)})`
  // Keep the newest MAX_KEY_EVENTS; key changes are rare, so trimming on each is cheap.
  await tx`DELETE FROM ml_key_events WHERE seq <= (
    SELECT seq FROM ml_key_events ORDER BY seq DESC OFFSET ${KeyStore.MAX_KEY_EVENTS} LIMIT 1)`
}

export const make = ({ query, sql }: PostgresClientShape): KeyStore.KeyStoreShape => ({
  create: (key, tokenHash) =>
    query("key creation", () =>
      sql.begin(async (tx) => {
        await tx`INSERT INTO ml_api_keys (token_hash, id, created_at, revoked_at, record)
                 VALUES (${tokenHash}, ${key.id}, ${key.createdAt}, ${key.revokedAt ?? null}, ${tx.json(key as never)})`
        await appendEvent(tx, KeyStore.keyEventOf(key))
      })),

  findByHash: (tokenHash) =>
    query("key lookup", async () => {
      const [row] = await sql<Array<{ id: string; record: unknown }>>`
        SELECT id, record FROM ml_api_keys WHERE token_hash = ${tokenHash}`
      return row === undefined ? undefined : apiKeys.orThrow(row.record, `ml_api_keys row ${row.id}`)
    }),

  list: () =>
    query(
      "key list",
      async () =>
        (await sql<Array<{ id: string; record: unknown }>>`SELECT id, record FROM ml_api_keys ORDER BY created_at, id`)
          .map((row) => apiKeys.orThrow(row.record, `ml_api_keys row ${row.id}`))
    ),

  exportRecords: () =>
    query("key export", async () =>
      (await sql<Array<{ id: string; token_hash: string; record: unknown }>>`
        SELECT id, token_hash, record FROM ml_api_keys ORDER BY created_at, id`)
        .map((row) => ({ tokenHash: row.token_hash, key: apiKeys.orThrow(row.record, `ml_api_keys row ${row.id}`) }))),

  revoke: (id, revokedBy, at) =>
    query("key revocation", () =>
      sql.begin(async (tx) => {
        const [row] = await tx<Array<{ id: string; record: unknown }>>`
          UPDATE ml_api_keys
          SET revoked_at = ${at}, record = record || ${tx.json({ revokedAt: at, revokedBy })}
          WHERE id = ${id} AND revoked_at IS NULL
          RETURNING id, record`
        if (row === undefined) return undefined
        const revoked = apiKeys.orThrow(row.record, `ml_api_keys row ${row.id}`)
        await appendEvent(tx, KeyStore.keyEventOf(revoked))
        return revoked
      })),

  events: () =>
    query("key events", async () =>
      (await sql<Array<{ seq: string; event: unknown }>>`
        SELECT seq, event FROM (
          SELECT seq, event FROM ml_key_events ORDER BY seq DESC LIMIT ${KeyStore.MAX_KEY_EVENTS}
        ) newest ORDER BY seq`).map((row) => keyEvents.orThrow(row.event, `ml_key_events row ${row.seq}`)))
})

export const layer: Layer.Layer<KeyStore.KeyStore, never, PostgresClient> = Layer.effect(
  KeyStore.KeyStore,
  PostgresClient.useSync((client) => make(client))
)
