/**
 * Drift monitoring state in PostgreSQL. A window is a row (its lock, value count and how many
 * values of its oldest batch already fell out) plus one row per recorded batch; pushing locks the
 * window row, appends the batch and drops the batches that fell out entirely, in one transaction,
 * so concurrent recorders on any instance lose nothing. Reports and deliveries are appended and
 * pruned in the same transaction. Everything read is decoded through the core's schemas.
 */
import {
  AlertState,
  Baseline,
  Delivery,
  DriftReport,
  DriftStore,
  maxDeliveriesPerWebhook,
  Monitor,
  MonitorConflictError,
  storedRecord,
  Webhook,
  WindowValues
} from "@org/ml-core"
import { Effect, Layer } from "effect"
import { PostgresClient, type PostgresClientShape } from "./PostgresClient.js"

const monitors = storedRecord(Monitor)
const baselines = storedRecord(Baseline)
const alertStates = storedRecord(AlertState)
const reports = storedRecord(DriftReport)
const webhooks = storedRecord(Webhook)
const deliveries = storedRecord(Delivery)
const windowChunks = storedRecord(WindowValues)

export const make = ({ query, sql }: PostgresClientShape): DriftStore.DriftStoreShape => ({
  insertMonitor: (monitor) =>
    query(
      "monitor insert",
      () =>
        sql`INSERT INTO ml_drift_monitors (id, record) VALUES (${monitor.id}, ${sql.json(monitor as never)})
          ON CONFLICT (id) DO NOTHING RETURNING id`
    ).pipe(
      Effect.flatMap((rows) =>
        rows.length === 1 ? Effect.void : Effect.fail(
          new MonitorConflictError({ monitorId: monitor.id, message: `Monitor ${monitor.id} already exists` })
        )
      )
    ),

  getMonitor: (id) =>
    query("monitor read", async () => {
      const [row] = await sql<Array<{ record: unknown }>>`SELECT record FROM ml_drift_monitors WHERE id = ${id}`
      return row === undefined ? undefined : monitors.orThrow(row.record, `ml_drift_monitors row ${id}`)
    }),

  listMonitors: () =>
    query(
      "monitor list",
      async () =>
        (await sql<Array<{ id: string; record: unknown }>>`SELECT id, record FROM ml_drift_monitors ORDER BY seq`)
          .map((row) => monitors.orThrow(row.record, `ml_drift_monitors row ${row.id}`))
    ),

  addBaseline: (monitorId, feature, baseline) =>
    query("baseline insert", () =>
      sql`INSERT INTO ml_drift_baselines (monitor_id, feature, baseline)
          VALUES (${monitorId}, ${feature}, ${sql.json(baseline as never)})`).pipe(Effect.asVoid),

  baselines: (monitorId, feature) =>
    query("baseline read", async () =>
      (await sql<Array<{ seq: string; baseline: unknown }>>`
        SELECT seq, baseline FROM ml_drift_baselines WHERE monitor_id = ${monitorId} AND feature = ${feature}
        ORDER BY seq`).map((row) => baselines.orThrow(row.baseline, `ml_drift_baselines row ${row.seq}`))),

  // One transaction for the batch; window rows are locked in feature-name order, so two batches
  // over the same features cannot deadlock.
  pushWindows: (monitorId, valuesByFeature, windowSize) =>
    query("window push", async () => {
      const features = Object.entries(valuesByFeature).filter(([, values]) => values.length > 0)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      if (features.length === 0) return
      await sql.begin(async (tx) => {
        for (const [feature, values] of features) {
          await tx`INSERT INTO ml_drift_windows (monitor_id, feature, count, skip)
                   VALUES (${monitorId}, ${feature}, 0, 0) ON CONFLICT (monitor_id, feature) DO NOTHING`
          const [window] = await tx<Array<{ count: string; skip: string }>>`
          SELECT count, skip FROM ml_drift_windows WHERE monitor_id = ${monitorId} AND feature = ${feature}
          FOR UPDATE`
          await tx`INSERT INTO ml_drift_window_chunks (monitor_id, feature, length, "values")
                 VALUES (${monitorId}, ${feature}, ${values.length}, ${tx.json(values as never)})`
          const count = Number(window!.count) + values.length
          // Values already skipped stay dropped even if the window grows later, as in every other store.
          const drop = Math.max(Number(window!.skip), count - windowSize)
          let removed = 0
          if (drop > 0) {
            const [row] = await tx<Array<{ removed: string | null }>>`
            WITH running AS (
              SELECT seq, sum(length) OVER (ORDER BY seq) AS through FROM ml_drift_window_chunks
              WHERE monitor_id = ${monitorId} AND feature = ${feature}
            ), gone AS (
              DELETE FROM ml_drift_window_chunks
              WHERE seq IN (SELECT seq FROM running WHERE through <= ${drop}) RETURNING length
            )
            SELECT sum(length) AS removed FROM gone`
            removed = Number(row?.removed ?? 0)
          }
          await tx`UPDATE ml_drift_windows SET count = ${count - removed}, skip = ${drop - removed}
                 WHERE monitor_id = ${monitorId} AND feature = ${feature}`
        }
      })
    }),

  window: (monitorId, feature) =>
    query("window read", async () => {
      // One snapshot for the count and the chunks: REPEATABLE READ.
      return await sql.begin("isolation level repeatable read", async (tx) => {
        const [window] = await tx<Array<{ skip: string }>>`
          SELECT skip FROM ml_drift_windows WHERE monitor_id = ${monitorId} AND feature = ${feature}`
        if (window === undefined) return []
        const chunks = await tx<Array<{ seq: string; values: unknown }>>`
          SELECT seq, "values" FROM ml_drift_window_chunks WHERE monitor_id = ${monitorId} AND feature = ${feature}
          ORDER BY seq`
        const all: Array<DriftStore.WindowValue> = []
        for (const chunk of chunks) {
          for (const value of windowChunks.orThrow(chunk.values, `ml_drift_window_chunks row ${chunk.seq}`)) {
            all.push(value)
          }
        }
        return all.slice(Number(window.skip))
      })
    }),

  alertStates: (monitorId) =>
    query("alert state read", async () => {
      const states: Record<string, AlertState> = {}
      for (
        const row of await sql<Array<{ feature: string; state: unknown }>>`
        SELECT feature, state FROM ml_drift_alert_states WHERE monitor_id = ${monitorId}`
      ) {
        states[row.feature] = alertStates.orThrow(row.state, `ml_drift_alert_states row (${monitorId}, ${row.feature})`)
      }
      return states
    }),

  setAlertState: (monitorId, feature, state) =>
    query("alert state write", () =>
      sql`INSERT INTO ml_drift_alert_states (monitor_id, feature, state)
          VALUES (${monitorId}, ${feature}, ${sql.json(state as never)})
          ON CONFLICT (monitor_id, feature) DO UPDATE SET state = excluded.state`).pipe(Effect.asVoid),

  appendReport: (report, retainSince) =>
    query("report append", () =>
      sql.begin(async (tx) => {
        await tx`DELETE FROM ml_drift_reports WHERE monitor_id = ${report.monitorId} AND at < ${retainSince}`
        await tx`INSERT INTO ml_drift_reports (monitor_id, at, record)
                 VALUES (${report.monitorId}, ${report.at}, ${tx.json(report as never)})`
      })),

  reports: (monitorId, since) =>
    query("report read", async () =>
      (await sql<Array<{ seq: string; record: unknown }>>`
        SELECT seq, record FROM ml_drift_reports WHERE true
        ${monitorId === undefined ? sql`` : sql`AND monitor_id = ${monitorId}`}
        ${since === undefined ? sql`` : sql`AND at >= ${since}`}
        ORDER BY seq`).map((row) => reports.orThrow(row.record, `ml_drift_reports row ${row.seq}`))),

  getReport: (id) =>
    query("report read", async () => {
      // Indexed by the record's id (migration 11).
      const [row] = await sql<Array<{ seq: string; record: unknown }>>`
        SELECT seq, record FROM ml_drift_reports WHERE (record->>'id') = ${id}`
      return row === undefined ? undefined : reports.orThrow(row.record, `ml_drift_reports row ${row.seq}`)
    }),

  putWebhook: (webhook) =>
    query(
      "webhook write",
      () =>
        sql`INSERT INTO ml_drift_webhooks (id, record) VALUES (${webhook.id}, ${sql.json(webhook as never)})
          ON CONFLICT (id) DO UPDATE SET record = excluded.record`
    ).pipe(Effect.asVoid),

  deleteWebhook: (id) =>
    query("webhook delete", () => sql`DELETE FROM ml_drift_webhooks WHERE id = ${id} RETURNING id`).pipe(
      Effect.map((rows) => rows.length === 1)
    ),

  listWebhooks: () =>
    query(
      "webhook list",
      async () =>
        (await sql<Array<{ id: string; record: unknown }>>`SELECT id, record FROM ml_drift_webhooks ORDER BY seq`)
          .map((row) => webhooks.orThrow(row.record, `ml_drift_webhooks row ${row.id}`))
    ),

  appendDelivery: (delivery) =>
    query("delivery append", () =>
      sql.begin(async (tx) => {
        await tx`INSERT INTO ml_drift_deliveries (webhook_id, record)
                 VALUES (${delivery.webhookId}, ${tx.json(delivery as never)})`
        await tx`DELETE FROM ml_drift_deliveries WHERE webhook_id = ${delivery.webhookId} AND seq <= (
                   SELECT seq FROM ml_drift_deliveries WHERE webhook_id = ${delivery.webhookId}
                   ORDER BY seq DESC OFFSET ${maxDeliveriesPerWebhook} LIMIT 1)`
      })),

  deliveries: (webhookId) =>
    query("delivery read", async () =>
      (await sql<Array<{ seq: string; record: unknown }>>`
        SELECT seq, record FROM ml_drift_deliveries
        ${webhookId === undefined ? sql`` : sql`WHERE webhook_id = ${webhookId}`}
        ORDER BY seq`).map((row) => deliveries.orThrow(row.record, `ml_drift_deliveries row ${row.seq}`)))
})

export const layer: Layer.Layer<DriftStore.DriftStore, never, PostgresClient> = Layer.effect(
  DriftStore.DriftStore,
  PostgresClient.useSync((client) => make(client))
)
