/**
 * Model metadata and audit trail in PostgreSQL. Each mutation is one transaction: the model rows a
 * commit expects are locked (SELECT ... FOR UPDATE, in id order so two commits cannot deadlock)
 * and their revisions compared, and every name whose production pointer may change is locked by a
 * transaction-scoped advisory lock, so checking the pointer and moving it cannot interleave with
 * another instance's promotion. Models are stored as JSONB beside the columns the queries filter
 * on, and decoded through the core's schema when read.
 *
 * The outbox is `ml_audit_events` in `seq` order. A bigserial alone is not commit order (a
 * transaction can take seq 5, another 6 and commit first, and a reader past 6 would never see 5),
 * so every transaction that appends events takes one transaction-scoped advisory lock before its
 * first event: sequences are then given out, and made visible, one transaction at a time. It is
 * taken last, after the name and row locks, so it adds no lock-order cycle.
 */
import {
  AuditEvent,
  type ListModelsQuery,
  Model,
  ModelConflictError,
  ModelStore,
  RegisteredModel,
  StaleRevisionError,
  storedRecord
} from "@org/ml-core"
import { Effect, Layer } from "effect"
import type { TransactionSql } from "postgres"
import { PostgresClient, type PostgresClientShape } from "./PostgresClient.js"
import { searchModels } from "./PostgresModelSearch.js"

const models = storedRecord(Model)
const registeredModels = storedRecord(RegisteredModel)
const auditEvents = storedRecord(AuditEvent)

// The second key of the advisory locks that guard a name's production pointer (the first is the name's hash).
const productionLockSpace = 1_836_016_741

// The key of the advisory lock that orders the outbox (see the module comment).
const outboxLockSpace = 1_836_016_742

const lockOutbox = (tx: TransactionSql) => tx`SELECT pg_advisory_xact_lock(${outboxLockSpace}, 0)`

const likePrefix = (prefix: string) => `${prefix.replace(/[\\%_]/g, "\\$&")}%`

const lockNames = async (tx: TransactionSql, names: Iterable<string>) => {
  // Sorted, so two transactions locking overlapping names take them in the same order.
  for (const name of [...new Set(names)].sort()) {
    await tx`SELECT pg_advisory_xact_lock(${productionLockSpace}, hashtext(${name}))`
  }
}

const upsertModel = (tx: TransactionSql, model: Model) =>
  tx`INSERT INTO ml_models (id, name, version, status, framework, parent_model_id, tags, revision, record)
     VALUES (${model.id}, ${model.name}, ${model.version}, ${model.status}, ${model.framework},
             ${model.parentModelId}, ${tx.array([...model.tags], 25)}, ${model.revision}, ${tx.json(model as never)})
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, version = excluded.version, status = excluded.status,
       framework = excluded.framework, parent_model_id = excluded.parent_model_id, tags = excluded.tags,
       revision = excluded.revision, record = excluded.record`

/** Appends an audit event to the log and the outbox: under the ordering lock, so any writer of events takes it. */
const appendEvent = async (tx: TransactionSql, event: AuditEvent) => {
  // Taken again by the same transaction it returns at once (held until commit either way).
  await lockOutbox(tx)
  await tx`INSERT INTO ml_audit_events (model_id, name, event)
     VALUES (${event.modelId}, ${event.name}, ${tx.json(event as never)})`
}

const setProduction = (tx: TransactionSql, name: string, id: string | null) =>
  id === null
    ? tx`DELETE FROM ml_production WHERE name = ${name}`
    : tx`INSERT INTO ml_production (name, model_id) VALUES (${name}, ${id})
         ON CONFLICT (name) DO UPDATE SET model_id = excluded.model_id`

const decodeModels = (rows: ReadonlyArray<{ id: string; record: unknown }>) =>
  rows.map((row) => models.orThrow(row.record, `ml_models row ${row.id}`))

const decodeEvents = (rows: ReadonlyArray<{ seq: string; event: unknown }>) =>
  rows.map((row) => auditEvents.orThrow(row.event, `ml_audit_events row ${row.seq}`))

const decodeRecorded = (rows: ReadonlyArray<{ seq: string; event: unknown }>) =>
  rows.map((row) => ({
    sequence: Number(row.seq),
    event: auditEvents.orThrow(row.event, `ml_audit_events row ${row.seq}`)
  }))

export const make = ({ ping, query, sql }: PostgresClientShape): ModelStore.ModelStoreShape => {
  const one = async (rows: Promise<ReadonlyArray<{ id: string; record: unknown }>>) => decodeModels(await rows)[0]

  const list = (q: ListModelsQuery & { readonly limit: number }) =>
    sql<Array<{ id: string; record: unknown }>>`
      SELECT id, record FROM ml_models WHERE true
      ${q.cursor === undefined ? sql`` : sql`AND id > ${q.cursor}`}
      ${q.name === undefined ? sql`` : sql`AND name = ${q.name}`}
      ${q.namePrefix === undefined ? sql`` : sql`AND name LIKE ${likePrefix(q.namePrefix)}`}
      ${q.parentModelId === undefined ? sql`` : sql`AND parent_model_id = ${q.parentModelId}`}
      ${q.status === undefined ? sql`` : sql`AND status = ${q.status}`}
      ${q.framework === undefined ? sql`` : sql`AND framework = ${q.framework}`}
      ${q.tag === undefined ? sql`` : sql`AND ${q.tag} = ANY (tags)`}
      ORDER BY id LIMIT ${q.limit}`

  return {
    insert: (model, event) =>
      query("insert", () =>
        sql.begin(async (tx) => {
          if (model.status === "production") await lockNames(tx, [model.name])
          const inserted = await upsertIfAbsent(tx, model)
          if (!inserted) {
            const [existing] = await tx<Array<{ id: string }>>`
              SELECT id FROM ml_models WHERE name = ${model.name} AND version = ${model.version}`
            return existing?.id ?? model.id
          }
          await appendEvent(tx, event)
          if (model.status === "production") await setProduction(tx, model.name, model.id)
          return null
        })).pipe(
          Effect.flatMap((existingId) =>
            existingId === null ? Effect.void : Effect.fail(
              new ModelConflictError({
                name: model.name,
                version: model.version,
                existingId: String(existingId),
                message: `Model ${model.name} version ${model.version} is already registered`
              })
            )
          )
        ),

    get: (id) => query("get", () => one(sql`SELECT id, record FROM ml_models WHERE id = ${id}`)),

    findByNameVersion: (name, version) =>
      query("lookup", () => one(sql`SELECT id, record FROM ml_models WHERE name = ${name} AND version = ${version}`)),

    productionOf: (name) =>
      query(
        "production lookup",
        () =>
          one(sql`SELECT m.id, m.record FROM ml_production p JOIN ml_models m ON m.id = p.model_id
                WHERE p.name = ${name}`)
      ),

    list: (q) => query("list", async () => decodeModels(await list(q))),

    search: (q) => query("search", async () => decodeModels(await searchModels(sql, q))),

    commit: (change) =>
      query("commit", () =>
        sql.begin(async (tx): Promise<"ok" | "stale"> => {
          const names = change.put.map((m) => m.name)
          if (change.production) names.push(change.production.name)
          // The registered model's name lock also serializes two first writes (expecting no row).
          await lockNames(tx, change.registered ? [...names, change.registered.put.name] : names)
          const ids = [...new Set([...change.expected.map((e) => e.id), ...change.put.map((m) => m.id)])].sort()
          const locked = ids.length === 0 ? [] : await tx<Array<{ id: string; revision: number }>>`
            SELECT id, revision FROM ml_models WHERE id IN ${tx(ids)} ORDER BY id FOR UPDATE`
          const revisions = new Map(locked.map((row) => [row.id, row.revision]))
          if (change.expected.some(({ id, revision }) => revisions.get(id) !== revision)) return "stale"
          const pointers = new Map<string, string>()
          const pointerNames = [...new Set(names)]
          if (pointerNames.length > 0) {
            for (
              const row of await tx<Array<{ name: string; model_id: string }>>`
              SELECT name, model_id FROM ml_production WHERE name IN ${tx(pointerNames)}`
            ) pointers.set(row.name, row.model_id)
          }
          if (change.production && (pointers.get(change.production.name) ?? null) !== change.production.expectedId) {
            return "stale"
          }
          if (change.registered) {
            const { expectedRevision, put } = change.registered
            const [row] = await tx<Array<{ revision: number }>>`
              SELECT revision FROM ml_registered_models WHERE name = ${put.name} FOR UPDATE`
            if ((row?.revision ?? null) !== expectedRevision) return "stale"
            await tx`INSERT INTO ml_registered_models (name, revision, record)
              VALUES (${put.name}, ${put.revision}, ${tx.json(put as never)})
              ON CONFLICT (name) DO UPDATE SET revision = excluded.revision, record = excluded.record`
          }
          for (const model of change.put) await upsertModel(tx, model)
          for (const { name, id } of ModelStore.productionPointerChanges(change.put, (n) => pointers.get(n))) {
            await setProduction(tx, name, id)
          }
          for (const event of change.events) await appendEvent(tx, event)
          return "ok"
        })).pipe(
          Effect.flatMap((result) =>
            result === "ok" ? Effect.void : Effect.fail(
              new StaleRevisionError({ message: "A model or production version changed since it was read" })
            )
          )
        ),

    getRegistered: (name) =>
      query("registered model lookup", async () => {
        const [row] = await sql<
          Array<{ record: unknown }>
        >`SELECT record FROM ml_registered_models WHERE name = ${name}`
        return row === undefined ? undefined : registeredModels.orThrow(row.record, `ml_registered_models row ${name}`)
      }),

    listRegistered: (q) =>
      query("registered model list", async () => {
        const rows = await sql<Array<{ name: string; record: unknown }>>`
          SELECT name, record FROM ml_registered_models WHERE true
          ${q.cursor === undefined ? sql`` : sql`AND name > ${q.cursor}`}
          ${q.namePrefix === undefined ? sql`` : sql`AND name LIKE ${likePrefix(q.namePrefix)}`}
          ORDER BY name LIMIT ${q.limit}`
        return rows.map((row) => registeredModels.orThrow(row.record, `ml_registered_models row ${row.name}`))
      }),

    countByStatus: () =>
      query("count", async () => {
        const counts = ModelStore.emptyStatusCounts()
        const rows = await sql<Array<{ status: string; count: string }>>`
          SELECT status, count(*) AS count FROM ml_models GROUP BY status`
        for (const { status, count } of rows) {
          if (status in counts) counts[status as keyof typeof counts] = Number(count)
        }
        return counts
      }),

    historyOf: (id) =>
      query(
        "history",
        async () => decodeEvents(await sql`SELECT seq, event FROM ml_audit_events WHERE model_id = ${id} ORDER BY seq`)
      ),

    historyOfName: (name) =>
      query(
        "history",
        async () => decodeEvents(await sql`SELECT seq, event FROM ml_audit_events WHERE name = ${name} ORDER BY seq`)
      ),

    eventsAfter: (sequence, limit) =>
      query("outbox read", async () =>
        decodeRecorded(
          await sql`SELECT seq, event FROM ml_audit_events WHERE seq > ${Math.max(0, Math.floor(sequence))}
                    ORDER BY seq LIMIT ${ModelStore.eventReadLimit(limit)}`
        )),

    eventCursor: (consumer) =>
      query("cursor read", async () => {
        const [row] = await sql<Array<{ sequence: string }>>`
          SELECT sequence FROM ml_event_cursors WHERE consumer = ${consumer}`
        return row === undefined ? 0 : Number(row.sequence)
      }),

    advanceEventCursor: (consumer, sequence) =>
      query("cursor write", async () => {
        await sql`INSERT INTO ml_event_cursors (consumer, sequence) VALUES (${consumer}, ${sequence})
                  ON CONFLICT (consumer) DO UPDATE
                  SET sequence = GREATEST(ml_event_cursors.sequence, excluded.sequence)`
      }),

    ping: () => ping()
  }
}

/** Inserts the model unless its (name, version) is taken; a concurrent insert of the same pair waits for ours. */
const upsertIfAbsent = async (tx: TransactionSql, model: Model): Promise<boolean> => {
  const rows = await tx`
    INSERT INTO ml_models (id, name, version, status, framework, parent_model_id, tags, revision, record)
    VALUES (${model.id}, ${model.name}, ${model.version}, ${model.status}, ${model.framework},
            ${model.parentModelId}, ${tx.array([...model.tags], 25)}, ${model.revision}, ${tx.json(model as never)})
    ON CONFLICT (name, version) DO NOTHING RETURNING id`
  return rows.length === 1
}

export const layer: Layer.Layer<ModelStore.ModelStore, never, PostgresClient> = Layer.effect(
  ModelStore.ModelStore,
  PostgresClient.useSync((client) => make(client))
)
