/**
 * Use case: feature and prediction drift. Baselines are frozen per feature (PSI bins, shares,
 * summary statistics and the KS reference sample); recorded values slide through windows of
 * the last N; a check tests every feature with enough data (scipy-exact KS and PSI for numeric,
 * chi-square and PSI for categorical), corrects for multiple testing, assigns a severity by the
 * rule in Drift.ts, and raises alerts with cooldown, escalation and recovery.
 */
import { Clock, Context, Effect, Layer } from "effect"
import { type StorageError, ValidationError } from "../shared/Errors.js"
import * as LeasesModule from "../shared/Leases.js"
import { Leases } from "../shared/Leases.js"
import * as MetricsSinkModule from "../shared/MetricsSink.js"
import { MetricsSink } from "../shared/MetricsSink.js"
import { benjaminiHochberg, chiSquareIndependence } from "../stats/HypothesisTests.js"
import { ks2Samp } from "../stats/Ks.js"
import { categoricalPsi, psi, psiBins, quantiles } from "../stats/Psi.js"
import { makeRandom } from "../stats/Random.js"
import { summarize, variance } from "../stats/Summary.js"
import {
  type Baseline,
  type CreateMonitorInput,
  defaultMonitorSettings,
  type DriftAlert,
  type DriftReport,
  type FeatureCheck,
  type Monitor,
  recommendationFor,
  severityFor,
  severityRank
} from "./Drift.js"
import { type Severity } from "./Drift.js"
import * as DriftStoreModule from "./DriftStore.js"
import { DriftStore, type WindowValue } from "./DriftStore.js"
import type { Delivery, Webhook } from "./DriftStore.js"
import { type MonitorConflictError, MonitorNotFoundError } from "./Errors.js"

/** Baselines keep every value up to this many; beyond, a seeded uniform reservoir of this size. */
export const reservoirSize = 100_000

export type AlertCallback = (alert: DriftAlert) => void

export interface DriftDetectorOptions {
  /** Defaults for monitor settings (from ML_DRIFT_* configuration). */
  readonly defaults?: Partial<Monitor["settings"]>
  /** fetch for webhook deliveries (default: the global fetch). */
  readonly fetch?: typeof fetch
  /** Delivery attempts per webhook and alert (default 4), with backoff from `retryDelayMillis` (default 500), doubling. */
  readonly webhookAttempts?: number
  readonly retryDelayMillis?: number
}

/** Signs a webhook body: x-ml-signature "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>". */
export const signWebhook = async (secret: string, body: string, unixSeconds: number): Promise<string> => {
  const encoder = new TextEncoder()
  const key = await globalThis.crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"]
  )
  const mac = new Uint8Array(await globalThis.crypto.subtle.sign("HMAC", key, encoder.encode(`${unixSeconds}.${body}`)))
  let hex = ""
  for (const b of mac) hex += b.toString(16).padStart(2, "0")
  return `t=${unixSeconds},v1=${hex}`
}

export interface DriftDetectorShape {
  readonly createMonitor: (
    input: CreateMonitorInput
  ) => Effect.Effect<Monitor, MonitorConflictError | ValidationError | StorageError>
  readonly getMonitor: (id: string) => Effect.Effect<Monitor, MonitorNotFoundError | StorageError>
  readonly listMonitors: () => Effect.Effect<ReadonlyArray<Monitor>, StorageError>
  /** Freezes a new baseline version for each given feature. */
  readonly setBaseline: (
    monitorId: string,
    values: Readonly<Record<string, ReadonlyArray<WindowValue>>>
  ) => Effect.Effect<void, MonitorNotFoundError | ValidationError | StorageError>
  readonly recordFeature: (
    monitorId: string,
    feature: string,
    value: WindowValue
  ) => Effect.Effect<void, MonitorNotFoundError | ValidationError | StorageError>
  /** Batch form: { feature: values[] }. */
  readonly recordBatch: (
    monitorId: string,
    values: Readonly<Record<string, ReadonlyArray<WindowValue>>>
  ) => Effect.Effect<void, MonitorNotFoundError | ValidationError | StorageError>
  /** Row form: records of many features, e.g. one model request and its prediction each. */
  readonly recordRows: (
    monitorId: string,
    rows: ReadonlyArray<Readonly<Record<string, WindowValue>>>
  ) => Effect.Effect<void, MonitorNotFoundError | ValidationError | StorageError>
  readonly check: (monitorId: string) => Effect.Effect<DriftReport, MonitorNotFoundError | StorageError>
  readonly getDriftReports: (
    monitorId?: string,
    since?: string
  ) => Effect.Effect<ReadonlyArray<DriftReport>, StorageError>
  /** The in-process alert callback (one; replaces the previous). */
  readonly setAlertCallback: (callback: AlertCallback | undefined) => Effect.Effect<void>
  readonly createWebhook: (
    input: {
      readonly url: string
      readonly secret: string
      readonly monitorId?: string | null
      readonly minSeverity?: Severity
    }
  ) => Effect.Effect<Webhook, ValidationError | StorageError>
  readonly listWebhooks: () => Effect.Effect<ReadonlyArray<Webhook>, StorageError>
  readonly deleteWebhook: (id: string) => Effect.Effect<boolean, StorageError>
  readonly webhookDeliveries: (webhookId?: string) => Effect.Effect<ReadonlyArray<Delivery>, StorageError>
  /**
   * monitorAllFeatures: checks every monitor once per its interval, forever. With several
   * instances, a lease per monitor and interval makes exactly one of them check it, and checks
   * resume on another instance when the lease of a dead one expires. Interrupt to stop.
   */
  readonly monitorAllFeatures: (owner: string, tickMillis?: number) => Effect.Effect<never, never, Leases>
}

export class DriftDetector extends Context.Service<DriftDetector, DriftDetectorShape>()("@org/ml-core/DriftDetector") {}

const nowIso = Clock.currentTimeMillis.pipe(Effect.map((ms) => new Date(ms).toISOString()))
const randomId = (prefix: string, at: string) =>
  `${prefix}-${Date.parse(at).toString(36)}-${Math.floor(Math.random() * 36 ** 8).toString(36)}`

type Issue = { path: Array<string | number>; message: string }

export const make = (options: DriftDetectorOptions = {}) =>
  Effect.gen(function*() {
    const defaults = options.defaults ?? {}
    const store = yield* DriftStore
    const metrics = yield* MetricsSink
    let alertCallback: AlertCallback | undefined
    const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init))
    const attempts = options.webhookAttempts ?? 4
    const retryDelay = options.retryDelayMillis ?? 500

    /** Sends one alert to one webhook, retrying with backoff; every attempt is recorded. */
    const deliver = (webhook: Webhook, alert: DriftAlert): Effect.Effect<void> =>
      Effect.gen(function*() {
        const body = JSON.stringify({ alert })
        for (let attempt = 1; attempt <= attempts; attempt++) {
          const at = yield* nowIso
          const signature = yield* Effect.promise(() =>
            signWebhook(webhook.secret, body, Math.floor(Date.parse(at) / 1000))
          )
          const outcome = yield* Effect.promise(() =>
            doFetch(webhook.url, {
              method: "POST",
              headers: { "content-type": "application/json", "x-ml-signature": signature, "x-ml-alert-id": alert.id },
              body
            })
              .then(async (r) => {
                await r.arrayBuffer().catch(() => undefined)
                return { ok: r.ok, status: r.status, error: r.ok ? null : `HTTP ${r.status}` }
              }, (e: unknown) => ({ ok: false, status: null, error: e instanceof Error ? e.message : String(e) }))
          )
          yield* store.appendDelivery({ webhookId: webhook.id, alertId: alert.id, at, attempt, ...outcome }).pipe(
            Effect.ignore
          )
          if (outcome.ok) return
          if (attempt < attempts) yield* Effect.sleep(retryDelay * 2 ** (attempt - 1))
        }
      })

    const dispatch = (alerts: ReadonlyArray<DriftAlert>) =>
      Effect.gen(function*() {
        if (alerts.length === 0) return
        const hooks = yield* store.listWebhooks().pipe(Effect.orElseSucceed(() => [] as ReadonlyArray<Webhook>))
        for (const alert of alerts) {
          for (const hook of hooks) {
            const wanted = (hook.monitorId === null || hook.monitorId === alert.monitorId) &&
              (alert.kind === "recovery" || severityRank(alert.severity) >= severityRank(hook.minSeverity))
            // Deliveries run in the background: a slow receiver never delays a check.
            if (wanted) yield* Effect.forkDetach(deliver(hook, alert))
          }
        }
      })

    const getMonitor = (id: string) =>
      store.getMonitor(id).pipe(Effect.flatMap((m) => (m
        ? Effect.succeed(m)
        : Effect.fail(new MonitorNotFoundError({ monitorId: id, message: `Monitor ${id} does not exist` })))
      ))

    const invalid = (what: string, issues: Array<Issue>) =>
      new ValidationError({
        message: `Invalid ${what}: ${issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
        issues
      })

    /** Checks values against each feature's type; returns per-feature values or the issues. */
    const validateValues = (
      monitor: Monitor,
      values: Readonly<Record<string, ReadonlyArray<WindowValue>>>,
      path: (feature: string, i: number) => Array<string | number>
    ) => {
      const issues: Array<Issue> = []
      for (const [feature, list] of Object.entries(values)) {
        const spec = monitor.features.find((f) => f.name === feature)
        if (!spec) {
          issues.push({ path: [feature], message: `is not a feature of monitor ${monitor.id}` })
          continue
        }
        if (!Array.isArray(list)) {
          issues.push({ path: [feature], message: "must be an array of values" })
          continue
        }
        list.forEach((v, i) => {
          if (v === null) return
          if (spec.type === "numeric" && (typeof v !== "number" || !Number.isFinite(v))) {
            issues.push({
              path: path(feature, i),
              message: `must be a finite number or null, got ${JSON.stringify(v) ?? String(v)}`
            })
          }
          if (spec.type === "categorical" && typeof v !== "string") {
            issues.push({ path: path(feature, i), message: `must be a string or null, got ${JSON.stringify(v)}` })
          }
        })
      }
      return issues
    }

    const record = (
      monitorId: string,
      values: Readonly<Record<string, ReadonlyArray<WindowValue>>>,
      path: (feature: string, i: number) => Array<string | number>
    ) =>
      Effect.gen(function*() {
        const monitor = yield* getMonitor(monitorId)
        const issues = validateValues(monitor, values, path)
        if (issues.length > 0) return yield* Effect.fail(invalid("observations", issues))
        yield* Effect.forEach(
          Object.entries(values),
          ([feature, list]) =>
            list.length === 0 ? Effect.void : store.pushValues(monitorId, feature, list, monitor.settings.windowSize),
          { discard: true, concurrency: 8 }
        )
      })

    const makeBaseline = (
      monitor: Monitor,
      feature: string,
      type: "numeric" | "categorical",
      values: ReadonlyArray<WindowValue>,
      version: number,
      at: string
    ): Baseline => {
      const present = values.filter((v) => v !== null)
      const missingShare = values.length === 0 ? 0 : (values.length - present.length) / values.length
      if (type === "categorical") {
        const counts: Record<string, number> = {}
        for (const v of present as Array<string>) counts[v] = (counts[v] ?? 0) + 1
        return { type, version, createdAt: at, count: present.length, missingShare, counts }
      }
      const numbers = present as Array<number>
      const summary = summarize(numbers)
      const bins = psiBins(numbers, { bins: monitor.settings.psiBins, strategy: monitor.settings.psiStrategy })
      const qs = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]
      const qv = quantiles(numbers, qs)
      let sample: Array<number> = numbers
      let sampled = false
      if (numbers.length > reservoirSize) {
        // Algorithm R with a seeded generator: a uniform sample, the same for the same data.
        const random = makeRandom(`${monitor.id}:${feature}:${version}`)
        sample = numbers.slice(0, reservoirSize)
        for (let i = reservoirSize; i < numbers.length; i++) {
          const j = Math.floor(random.uniform() * (i + 1))
          if (j < reservoirSize) sample[j] = numbers[i]!
        }
        sampled = true
      }
      return {
        type,
        version,
        createdAt: at,
        count: numbers.length,
        missingShare,
        mean: summary.mean,
        sd: numbers.length >= 2 ? Math.sqrt(variance(summary)) : 0,
        quantiles: Object.fromEntries(qs.map((q, i) => [`p${Math.round(q * 100)}`, qv[i]!])),
        edges: bins.edges,
        shares: bins.baselineShares,
        sample,
        sampled
      }
    }

    const setBaseline: DriftDetectorShape["setBaseline"] = (monitorId, values) =>
      Effect.gen(function*() {
        const monitor = yield* getMonitor(monitorId)
        const issues = validateValues(monitor, values, (f, i) => [f, i])
        for (const [feature, list] of Object.entries(values)) {
          if (Array.isArray(list) && list.filter((v) => v !== null).length < 2) {
            issues.push({ path: [feature], message: "a baseline needs at least 2 non-missing values" })
          }
        }
        if (Object.keys(values).length === 0) {
          issues.push({ path: [], message: "give at least one feature's values" })
        }
        if (issues.length > 0) return yield* Effect.fail(invalid("baseline", issues))
        const at = yield* nowIso
        for (const [feature, list] of Object.entries(values)) {
          const spec = monitor.features.find((f) => f.name === feature)!
          const version = (yield* store.baselines(monitorId, feature)).length + 1
          yield* store.addBaseline(monitorId, feature, makeBaseline(monitor, feature, spec.type, list, version, at))
        }
      })

    const check: DriftDetectorShape["check"] = (monitorId) =>
      Effect.gen(function*() {
        const monitor = yield* getMonitor(monitorId)
        const at = yield* nowIso
        const s = monitor.settings
        const raw: Array<Omit<FeatureCheck, "adjustedPValue" | "severity"> & { baselineMissingShare: number }> = []
        for (const spec of monitor.features) {
          const versions = yield* store.baselines(monitorId, spec.name)
          const baseline = versions[versions.length - 1]
          if (!baseline) continue
          const window = yield* store.window(monitorId, spec.name)
          const present = window.filter((v) => v !== null)
          const missingShare = window.length === 0 ? 0 : (window.length - present.length) / window.length
          const base = {
            feature: spec.name,
            type: spec.type,
            windowCount: window.length,
            missingShare,
            baselineVersion: baseline.version,
            baselineMissingShare: baseline.missingShare,
            unseenCategories: [] as ReadonlyArray<string>
          }
          if (present.length < s.minWindow) {
            raw.push({
              ...base,
              psi: null,
              ksStatistic: null,
              pValue: null,
              edges: null,
              categories: null,
              baselineShares: null,
              currentShares: null
            })
          } else if (baseline.type === "numeric") {
            const numbers = present as Array<number>
            const ks = ks2Samp(baseline.sample, numbers)
            const p = psi({
              edges: baseline.edges,
              baselineShares: baseline.shares,
              baselineCount: baseline.count,
              strategy: s.psiStrategy
            }, numbers)
            raw.push({
              ...base,
              psi: p.value,
              ksStatistic: ks.statistic,
              pValue: ks.pValue,
              edges: p.edges,
              categories: null,
              baselineShares: p.baselineShares,
              currentShares: p.currentShares
            })
          } else {
            const current: Record<string, number> = {}
            for (const v of present as Array<string>) current[v] = (current[v] ?? 0) + 1
            const p = categoricalPsi(baseline.counts, current)
            const table = [p.categories.map((c) => baseline.counts[c] ?? 0), p.categories.map((c) => current[c] ?? 0)]
            const usable = p.categories.length >= 2
            const chi = usable ? chiSquareIndependence(table, { correction: false }) : { pValue: 1 }
            raw.push({
              ...base,
              psi: p.value,
              ksStatistic: null,
              pValue: chi.pValue,
              edges: null,
              categories: p.categories,
              baselineShares: p.baselineShares,
              currentShares: p.currentShares,
              unseenCategories: p.unseenCategories
            })
          }
        }
        const tested = raw.filter((r) => r.pValue !== null)
        const ps = tested.map((r) => r.pValue!)
        const adjusted = ps.length === 0
          ? []
          : s.correction === "bonferroni"
          ? ps.map((p) => Math.min(1, p * ps.length))
          : s.correction === "benjamini-hochberg"
          ? benjaminiHochberg(ps)
          : ps
        const checks: Array<FeatureCheck> = raw.map(({ baselineMissingShare, ...r }) => {
          const k = tested.findIndex((t) => t.feature === r.feature)
          if (k === -1) return { ...r, adjustedPValue: null, severity: "none" }
          const adjustedPValue = adjusted[k]!
          return {
            ...r,
            adjustedPValue,
            severity: severityFor({
              psi: r.psi!,
              adjustedPValue,
              threshold: s.pValueThreshold,
              missingShare: r.missingShare,
              baselineMissingShare,
              bands: s.severityThresholds
            })
          }
        })
        // Alert hygiene: escalations alert at once, repeats wait for the cooldown, recoveries are recorded.
        const states = yield* store.alertStates(monitorId)
        const alerts: Array<DriftAlert> = []
        for (const c of checks) {
          if (c.pValue === null) continue
          const previous = states[c.feature]
          const previousSeverity = previous?.severity ?? "none"
          let kind: DriftAlert["kind"] | undefined
          if (c.severity !== "none" && severityRank(c.severity) > severityRank(previousSeverity)) {
            kind = previousSeverity === "none"
              ? "alert"
              : "escalation"
          } else if (
            c.severity !== "none" && c.severity === previousSeverity && previous &&
            Date.parse(at) - Date.parse(previous.at) >= s.cooldownSeconds * 1000
          ) kind = "alert"
          else if (c.severity === "none" && previousSeverity !== "none") kind = "recovery"
          if (kind) {
            alerts.push({
              id: randomId("alert", at),
              monitorId,
              feature: c.feature,
              at,
              kind,
              severity: c.severity,
              previousSeverity,
              recommendation: recommendationFor(c.feature, c.severity),
              check: c
            })
            yield* store.setAlertState(monitorId, c.feature, { severity: c.severity, at })
          } else if (previous && c.severity !== previousSeverity) {
            // De-escalation short of recovery: remember the level without alerting.
            yield* store.setAlertState(monitorId, c.feature, { severity: c.severity, at: previous.at })
          }
        }
        const report: DriftReport = { id: randomId("check", at), monitorId, at, features: checks, alerts }
        yield* store.appendReport(report, new Date(Date.parse(at) - s.retentionDays * 86_400_000).toISOString())
        for (const c of checks) {
          if (c.psi !== null) yield* metrics.set("ml_drift_score", { feature_name: c.feature, type: "psi" }, c.psi)
          if (c.ksStatistic !== null) {
            yield* metrics.set("ml_drift_score", { feature_name: c.feature, type: "ks" }, c.ksStatistic)
          }
        }
        for (const a of alerts) {
          if (a.kind !== "recovery") {
            yield* metrics.increment("ml_drift_alerts_total", { severity: a.severity })
          }
        }
        yield* dispatch(alerts)
        for (const alert of alerts) {
          try {
            alertCallback?.(alert)
          } catch {
            // A failing callback must not fail the check; the alert is in the report.
          }
        }
        return report
      })

    return DriftDetector.of({
      createMonitor: (input) =>
        Effect.gen(function*() {
          const issues: Array<Issue> = []
          if (input.features.length === 0) issues.push({ path: ["features"], message: "needs at least one feature" })
          const names = new Set<string>()
          input.features.forEach((f, i) => {
            if (names.has(f.name)) issues.push({ path: ["features", i, "name"], message: `repeats feature ${f.name}` })
            names.add(f.name)
          })
          const settings = { ...defaultMonitorSettings, ...defaults, ...input.settings }
          if (settings.minWindow > settings.windowSize) {
            issues.push({
              path: ["settings", "minWindow"],
              message: `must not exceed windowSize (${settings.windowSize})`
            })
          }
          const t = settings.severityThresholds
          if (!(t.low < t.medium && t.medium < t.high && t.high < t.critical)) {
            issues.push({
              path: ["settings", "severityThresholds"],
              message: "must increase: low < medium < high < critical"
            })
          }
          if (issues.length > 0) return yield* Effect.fail(invalid("monitor", issues))
          const at = yield* nowIso
          const monitor: Monitor = {
            id: input.id ?? randomId("mon", at),
            modelId: input.modelId ?? null,
            features: input.features,
            settings,
            createdAt: at
          }
          yield* store.insertMonitor(monitor)
          return monitor
        }),
      getMonitor,
      listMonitors: () => store.listMonitors(),
      setBaseline,
      recordFeature: (monitorId, feature, value) => record(monitorId, { [feature]: [value] }, (f) => [f]),
      recordBatch: (monitorId, values) => record(monitorId, values, (f, i) => [f, i]),
      recordRows: (monitorId, rows) =>
        Effect.suspend(() => {
          const columns: Record<string, Array<WindowValue>> = {}
          rows.forEach((row) => {
            for (const [feature, value] of Object.entries(row)) (columns[feature] ??= []).push(value)
          })
          return record(monitorId, columns, (f, i) => [f, i])
        }),
      check,
      getDriftReports: (monitorId, since) => store.reports(monitorId, since),
      setAlertCallback: (callback) => Effect.sync(() => void (alertCallback = callback)),
      createWebhook: (input) =>
        Effect.gen(function*() {
          const issues: Array<Issue> = []
          if (!/^https?:\/\//.test(input.url)) issues.push({ path: ["url"], message: "must be an http(s) URL" })
          if (typeof input.secret !== "string" || input.secret.length < 16) {
            issues.push({ path: ["secret"], message: "must be at least 16 characters" })
          }
          if (
            input.minSeverity !== undefined &&
            !["none", "low", "medium", "high", "critical"].includes(input.minSeverity)
          ) {
            issues.push({ path: ["minSeverity"], message: "must be none, low, medium, high or critical" })
          }
          if (issues.length > 0) return yield* Effect.fail(invalid("webhook", issues))
          const at = yield* nowIso
          const webhook: Webhook = {
            id: randomId("hook", at),
            url: input.url,
            secret: input.secret,
            monitorId: input.monitorId ?? null,
            minSeverity: input.minSeverity ?? "low",
            createdAt: at
          }
          yield* store.putWebhook(webhook)
          return webhook
        }),
      listWebhooks: () => store.listWebhooks(),
      deleteWebhook: (id) => store.deleteWebhook(id),
      webhookDeliveries: (webhookId) => store.deliveries(webhookId),
      monitorAllFeatures: (owner, tickMillis = 1000) =>
        Effect.gen(function*() {
          const leases = yield* Leases
          const tick = Effect.gen(function*() {
            const monitors = yield* store.listMonitors()
            for (const m of monitors) {
              const mine = yield* leases.acquire(`drift-check:${m.id}`, owner, m.settings.checkIntervalSeconds * 1000)
              if (mine) yield* check(m.id).pipe(Effect.ignore)
            }
          }).pipe(Effect.ignore)
          return yield* Effect.forever(tick.pipe(Effect.andThen(Effect.sleep(tickMillis))))
        })
    })
  })

export const layer = (
  options: DriftDetectorOptions = {}
): Layer.Layer<DriftDetector, never, DriftStore | MetricsSink> => Layer.effect(DriftDetector, make(options))

/** The detector over in-memory storage: tests, examples and edge runtimes. */
export const layerMemory = (
  options: DriftDetectorOptions = {}
): Layer.Layer<DriftDetector | DriftStore | MetricsSink | Leases> =>
  layer(options).pipe(
    Layer.provideMerge(
      Layer.mergeAll(DriftStoreModule.layerMemory, MetricsSinkModule.layerMemory, LeasesModule.layerMemory)
    )
  )
