/**
 * Port: what drift monitoring keeps. Windows are "push, then keep the last N" in one atomic
 * step so many instances can record at once; baselines are versioned (re-baselining keeps the
 * old ones); reports and alerts are appended and pruned past the retention.
 */
import { Context, Effect, Layer } from "effect"
import { type StorageError } from "../shared/Errors.js"
import type { AlertState } from "./AlertState.js"
import type { Baseline } from "./Baseline.js"
import { MonitorConflictError } from "./Errors.js"
import type { Monitor } from "./Monitor.js"
import type { DriftReport } from "./Report.js"
import type { WindowValue } from "./ValueArrays.js"
import { type Delivery, maxDeliveriesPerWebhook, type Webhook } from "./Webhook.js"

// The record types, also under this module's name, as adapters have used them (DriftStore.Webhook, ...).
export type { AlertState, Delivery, Webhook, WindowValue }

export interface DriftStoreShape {
  readonly insertMonitor: (monitor: Monitor) => Effect.Effect<void, MonitorConflictError | StorageError>
  readonly getMonitor: (id: string) => Effect.Effect<Monitor | undefined, StorageError>
  readonly listMonitors: () => Effect.Effect<ReadonlyArray<Monitor>, StorageError>
  /** Appends a baseline version for a feature. */
  readonly addBaseline: (monitorId: string, feature: string, baseline: Baseline) => Effect.Effect<void, StorageError>
  /** Every version of a feature's baseline, oldest first. */
  readonly baselines: (monitorId: string, feature: string) => Effect.Effect<ReadonlyArray<Baseline>, StorageError>
  /**
   * Appends each feature's values to its window and keeps only the last `windowSize` of each,
   * atomically per window; one call for a whole batch, so a store can write it in one step.
   */
  readonly pushWindows: (
    monitorId: string,
    valuesByFeature: Readonly<Record<string, ReadonlyArray<WindowValue>>>,
    windowSize: number
  ) => Effect.Effect<void, StorageError>
  /** The window, oldest value first. */
  readonly window: (monitorId: string, feature: string) => Effect.Effect<ReadonlyArray<WindowValue>, StorageError>
  readonly alertStates: (monitorId: string) => Effect.Effect<Readonly<Record<string, AlertState>>, StorageError>
  readonly setAlertState: (monitorId: string, feature: string, state: AlertState) => Effect.Effect<void, StorageError>
  /** Appends a report and drops that monitor's reports older than `retainSince` (ISO time). */
  readonly appendReport: (report: DriftReport, retainSince: string) => Effect.Effect<void, StorageError>
  /** Reports at or after `since`, of one monitor or all, oldest first. */
  readonly reports: (
    monitorId: string | undefined,
    since: string | undefined
  ) => Effect.Effect<ReadonlyArray<DriftReport>, StorageError>
  /** One report by id, found without reading the others; undefined when none has it (or it was pruned). */
  readonly getReport: (id: string) => Effect.Effect<DriftReport | undefined, StorageError>
  readonly putWebhook: (webhook: Webhook) => Effect.Effect<void, StorageError>
  readonly deleteWebhook: (id: string) => Effect.Effect<boolean, StorageError>
  readonly listWebhooks: () => Effect.Effect<ReadonlyArray<Webhook>, StorageError>
  /** Appends a delivery and keeps only that webhook's newest `maxDeliveriesPerWebhook`. */
  readonly appendDelivery: (delivery: Delivery) => Effect.Effect<void, StorageError>
  /** Deliveries, newest last; of one webhook or all. */
  readonly deliveries: (webhookId: string | undefined) => Effect.Effect<ReadonlyArray<Delivery>, StorageError>
}

export class DriftStore extends Context.Service<DriftStore, DriftStoreShape>()("@org/ml-core/DriftStore") {}

export const makeMemory = Effect.sync((): DriftStoreShape => {
  const monitors = new Map<string, Monitor>()
  const baselineVersions = new Map<string, Array<Baseline>>()
  const windows = new Map<string, Array<WindowValue>>()
  const states = new Map<string, Record<string, AlertState>>()
  let reports: Array<DriftReport> = []
  const reportsById = new Map<string, DriftReport>()
  const webhooks = new Map<string, Webhook>()
  // Per webhook, the newest `maxDeliveriesPerWebhook`; the sequence number restores the global order.
  const deliveries = new Map<string, Array<{ readonly sequence: number; readonly delivery: Delivery }>>()
  let deliverySequence = 0
  const key = (monitorId: string, feature: string) => `${monitorId}\u0000${feature}`
  return {
    insertMonitor: (monitor) =>
      Effect.suspend(() => {
        if (monitors.has(monitor.id)) {
          return Effect.fail(
            new MonitorConflictError({ monitorId: monitor.id, message: `Monitor ${monitor.id} already exists` })
          )
        }
        monitors.set(monitor.id, monitor)
        return Effect.void
      }),
    getMonitor: (id) => Effect.sync(() => monitors.get(id)),
    listMonitors: () => Effect.sync(() => [...monitors.values()]),
    addBaseline: (monitorId, feature, baseline) =>
      Effect.sync(() => {
        const list = baselineVersions.get(key(monitorId, feature)) ?? []
        list.push(baseline)
        baselineVersions.set(key(monitorId, feature), list)
      }),
    baselines: (monitorId, feature) => Effect.sync(() => [...(baselineVersions.get(key(monitorId, feature)) ?? [])]),
    pushWindows: (monitorId, valuesByFeature, windowSize) =>
      Effect.sync(() => {
        for (const [feature, values] of Object.entries(valuesByFeature)) {
          const current = windows.get(key(monitorId, feature)) ?? []
          // A loop, not push(...values): a spread of 100,000+ arguments overflows the stack (also at journal replay).
          for (const value of values) current.push(value)
          if (current.length > windowSize) current.splice(0, current.length - windowSize)
          windows.set(key(monitorId, feature), current)
        }
      }),
    window: (monitorId, feature) => Effect.sync(() => [...(windows.get(key(monitorId, feature)) ?? [])]),
    alertStates: (monitorId) => Effect.sync(() => ({ ...(states.get(monitorId) ?? {}) })),
    setAlertState: (monitorId, feature, state) =>
      Effect.sync(() => void states.set(monitorId, { ...(states.get(monitorId) ?? {}), [feature]: state })),
    appendReport: (report, retainSince) =>
      Effect.sync(() => {
        const kept: Array<DriftReport> = []
        for (const r of reports) {
          if (r.monitorId !== report.monitorId || r.at >= retainSince) kept.push(r)
          else reportsById.delete(r.id)
        }
        kept.push(report)
        reports = kept
        reportsById.set(report.id, report)
      }),
    reports: (monitorId, since) =>
      Effect.sync(() =>
        reports.filter((r) =>
          (monitorId === undefined || r.monitorId === monitorId) && (since === undefined || r.at >= since)
        )
      ),
    getReport: (id) => Effect.sync(() => reportsById.get(id)),
    putWebhook: (webhook) => Effect.sync(() => void webhooks.set(webhook.id, webhook)),
    deleteWebhook: (id) => Effect.sync(() => webhooks.delete(id)),
    listWebhooks: () => Effect.sync(() => [...webhooks.values()]),
    appendDelivery: (delivery) =>
      Effect.sync(() => {
        const kept = deliveries.get(delivery.webhookId) ?? []
        kept.push({ sequence: deliverySequence++, delivery })
        if (kept.length > maxDeliveriesPerWebhook) kept.splice(0, kept.length - maxDeliveriesPerWebhook)
        deliveries.set(delivery.webhookId, kept)
      }),
    deliveries: (webhookId) =>
      Effect.sync(() => {
        const records = webhookId === undefined
          ? [...deliveries.values()].flat().sort((a, b) => a.sequence - b.sequence)
          : deliveries.get(webhookId) ?? []
        return records.map((r) => r.delivery)
      })
  }
})

export const layerMemory: Layer.Layer<DriftStore> = Layer.effect(DriftStore, makeMemory)
