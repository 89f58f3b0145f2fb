/**
 * Drift monitoring state on disk: monitors, baseline versions, alert states, reports, webhooks
 * and deliveries go through a journal (`<dir>/drift.jsonl`, see Journal.ts). Windows are kept in
 * memory and written to `<dir>/drift-windows.json` (temp file, fsync, rename) on clean shutdown
 * and read back at start: they are a sliding sample of recent traffic, so a crash costs at most
 * the values since the last clean stop, which traffic refills; fsyncing every recorded value
 * would cap recording far below what one process can take.
 */
import {
  AlertState,
  Baseline,
  Delivery,
  DriftReport,
  DriftStore,
  Monitor,
  type StorageError,
  storedRecord,
  Webhook,
  type WindowValue,
  WindowValues
} from "@org/ml-core"
import { Effect, Layer, Schema } from "effect"
import * as path from "node:path"
import { makeJournal, replaySync } from "./Journal.js"
import { readSaved, saveAtomically } from "./SavedFile.js"

const JournalEntry = Schema.Union([
  Schema.Struct({ op: Schema.Literal("monitor"), monitor: Monitor }),
  Schema.Struct({
    op: Schema.Literal("baseline"),
    monitorId: Schema.String,
    feature: Schema.String,
    baseline: Baseline
  }),
  Schema.Struct({ op: Schema.Literal("state"), monitorId: Schema.String, feature: Schema.String, state: AlertState }),
  Schema.Struct({ op: Schema.Literal("report"), report: DriftReport, retainSince: Schema.String }),
  Schema.Struct({ op: Schema.Literal("webhook"), webhook: Webhook }),
  Schema.Struct({ op: Schema.Literal("unhook"), id: Schema.String }),
  Schema.Struct({ op: Schema.Literal("delivery"), delivery: Delivery })
])
type JournalEntry = typeof JournalEntry.Type
const journalEntry = storedRecord(JournalEntry)

/** drift-windows.json: monitor id -> feature -> window, oldest value first. */
const SavedWindows = Schema.Record(Schema.String, Schema.Record(Schema.String, WindowValues))
const savedWindows = storedRecord(SavedWindows)

export const make = (options: { readonly directory: string }) =>
  Effect.gen(function*() {
    const directory = path.resolve(options.directory)
    const windowsFile = path.join(directory, "drift-windows.json")
    const file = "drift.jsonl"
    const journal = yield* makeJournal<DriftStore.DriftStoreShape, JournalEntry>({
      directory,
      name: "drift",
      fresh: () => Effect.runSync(DriftStore.makeMemory),
      entry: journalEntry,
      replay: (state, entry) => {
        switch (entry.op) {
          case "monitor":
            return replaySync(state.insertMonitor(entry.monitor), file)
          case "baseline":
            return replaySync(state.addBaseline(entry.monitorId, entry.feature, entry.baseline), file)
          case "state":
            return replaySync(state.setAlertState(entry.monitorId, entry.feature, entry.state), file)
          case "report":
            return replaySync(state.appendReport(entry.report, entry.retainSince), file)
          case "webhook":
            return replaySync(state.putWebhook(entry.webhook), file)
          case "unhook":
            return replaySync(state.deleteWebhook(entry.id), file)
          case "delivery":
            return replaySync(state.appendDelivery(entry.delivery), file)
        }
      }
    })
    // Windows: restored from the last clean shutdown, saved at the next one.
    const saved = (yield* readSaved(windowsFile, savedWindows)) ?? {}
    for (const [monitorId, features] of Object.entries(saved)) {
      for (const [feature, values] of Object.entries(features)) {
        yield* journal.state().pushValues(monitorId, feature, values, values.length)
      }
    }
    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        const state = journal.state()
        const snapshot: Record<string, Record<string, ReadonlyArray<WindowValue>>> = {}
        for (const monitor of yield* Effect.orElseSucceed(state.listMonitors(), (): ReadonlyArray<Monitor> => [])) {
          for (const f of monitor.features) {
            const values = yield* Effect.orElseSucceed(state.window(monitor.id, f.name), () => [])
            if (values.length > 0) {
              ;(snapshot[monitor.id] ??= {})[f.name] = values
            }
          }
        }
        yield* saveAtomically(windowsFile, snapshot)
      })
    )
    const read = <A, E>(f: (s: DriftStore.DriftStoreShape) => Effect.Effect<A, E>) =>
      Effect.suspend(() => f(journal.state()))
    return DriftStore.DriftStore.of({
      insertMonitor: (monitor) => journal.mutate((s) => s.insertMonitor(monitor), () => ({ op: "monitor", monitor })),
      getMonitor: (id) => read((s) => s.getMonitor(id)),
      listMonitors: () => read((s) => s.listMonitors()),
      addBaseline: (monitorId, feature, baseline) =>
        journal.mutate(
          (s) => s.addBaseline(monitorId, feature, baseline),
          () => ({ op: "baseline", monitorId, feature, baseline })
        ),
      baselines: (monitorId, feature) => read((s) => s.baselines(monitorId, feature)),
      pushValues: (monitorId, feature, values, windowSize) =>
        read((s) => s.pushValues(monitorId, feature, values, windowSize)),
      window: (monitorId, feature) => read((s) => s.window(monitorId, feature)),
      alertStates: (monitorId) => read((s) => s.alertStates(monitorId)),
      setAlertState: (monitorId, feature, state) =>
        journal.mutate(
          (s) => s.setAlertState(monitorId, feature, state),
          () => ({ op: "state", monitorId, feature, state })
        ),
      appendReport: (report, retainSince) =>
        journal.mutate((s) => s.appendReport(report, retainSince), () => ({ op: "report", report, retainSince })),
      reports: (monitorId, since) => read((s) => s.reports(monitorId, since)),
      putWebhook: (webhook) => journal.mutate((s) => s.putWebhook(webhook), () => ({ op: "webhook", webhook })),
      deleteWebhook: (id) => journal.mutate((s) => s.deleteWebhook(id), () => ({ op: "unhook", id })),
      listWebhooks: () => read((s) => s.listWebhooks()),
      appendDelivery: (delivery) =>
        journal.mutate((s) => s.appendDelivery(delivery), () => ({ op: "delivery", delivery })),
      deliveries: (webhookId) => read((s) => s.deliveries(webhookId))
    })
  })

export const layer = (options: { readonly directory: string }): Layer.Layer<DriftStore.DriftStore, StorageError> =>
  Layer.effect(DriftStore.DriftStore, make(options))
