/**
 * Drift monitoring state on disk: monitors, baseline versions, alert states, reports, webhooks,
 * deliveries and the recorded values of every window go through one journal (`<dir>/drift.jsonl`,
 * see Journal.ts). Recorded values are acknowledged after their batch's fsync (group commit: one
 * fsync for all the recordings in flight), so a crash loses none of them; compaction keeps only
 * each window's last values. A `drift-windows.json` saved by earlier releases on clean shutdown is
 * folded into the journal once at start and then removed.
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
import { readSaved, removeSaved } from "./SavedFile.js"

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
  Schema.Struct({ op: Schema.Literal("delivery"), delivery: Delivery }),
  Schema.Struct({
    op: Schema.Literal("values"),
    monitorId: Schema.String,
    feature: Schema.String,
    values: WindowValues,
    windowSize: Schema.Int
  })
])
type JournalEntry = typeof JournalEntry.Type
const journalEntry = storedRecord(JournalEntry)

/** The drift state as entries, for compaction (reports replayed with no retention cut: they are already cut). */
const snapshotEntries = (state: DriftStore.DriftStoreShape): ReadonlyArray<JournalEntry> =>
  Effect.runSync(Effect.gen(function*() {
    const entries: Array<JournalEntry> = []
    for (const monitor of yield* state.listMonitors()) {
      entries.push({ op: "monitor", monitor })
      const states = yield* state.alertStates(monitor.id)
      for (const { name: feature } of monitor.features) {
        for (const baseline of yield* state.baselines(monitor.id, feature)) {
          entries.push({ op: "baseline", monitorId: monitor.id, feature, baseline })
        }
        const values = yield* state.window(monitor.id, feature)
        if (values.length > 0) {
          entries.push({ op: "values", monitorId: monitor.id, feature, values, windowSize: values.length })
        }
      }
      for (const [feature, alertState] of Object.entries(states)) {
        entries.push({ op: "state", monitorId: monitor.id, feature, state: alertState })
      }
    }
    for (const report of yield* state.reports(undefined, undefined)) {
      entries.push({ op: "report", report, retainSince: "" })
    }
    for (const webhook of yield* state.listWebhooks()) entries.push({ op: "webhook", webhook })
    for (const delivery of yield* state.deliveries(undefined)) entries.push({ op: "delivery", delivery })
    return entries
  }))

/** drift-windows.json (earlier releases, saved on clean shutdown): monitor id -> feature -> window. */
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
      snapshot: snapshotEntries,
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
          case "values":
            return replaySync(
              state.pushWindows(entry.monitorId, { [entry.feature]: entry.values }, entry.windowSize),
              file
            )
        }
      }
    })
    const pushValues = (monitorId: string, feature: string, values: ReadonlyArray<WindowValue>, windowSize: number) =>
      journal.mutate(
        (s) => s.pushWindows(monitorId, { [feature]: values }, windowSize),
        () => ({ op: "values" as const, monitorId, feature, values, windowSize })
      )
    // Upgrade: windows an earlier release saved on clean shutdown join the journal, then the file goes.
    const saved = yield* readSaved(windowsFile, savedWindows)
    if (saved !== undefined) {
      for (const [monitorId, features] of Object.entries(saved)) {
        for (const [feature, values] of Object.entries(features)) {
          yield* pushValues(monitorId, feature, values, values.length)
        }
      }
      yield* removeSaved(windowsFile)
    }
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
      // One journal record per feature: the format journals of earlier releases replay.
      pushWindows: (monitorId, valuesByFeature, windowSize) =>
        Effect.forEach(
          Object.entries(valuesByFeature),
          ([feature, values]) => pushValues(monitorId, feature, values, windowSize),
          { discard: true }
        ),
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
      getReport: (id) => read((s) => s.getReport(id)),
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
