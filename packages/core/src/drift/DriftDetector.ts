/**
 * Use case: feature and prediction drift, orchestration only. Monitors are created, baselines
 * frozen (Baseline.ts) and values recorded into sliding windows through the DriftStore; a check
 * tests every feature with enough data and assigns severities (Check.ts), moves each feature's
 * alert state (AlertState.ts), stores the report, and hands the alerts to the webhooks that
 * want them (AlertNotifier, in the background) and to in-process subscribers (DriftAlerts).
 */
import { Clock, Context, Effect, Layer, Option, Random, Result, type Scope } from "effect"
import { ModelStore } from "../registry/ModelStore.js"
import type { Signature } from "../registry/Signature.js"
import { type FieldIssue, type StorageError, ValidationError } from "../shared/Errors.js"
import * as LeasesModule from "../shared/Leases.js"
import { Leases } from "../shared/Leases.js"
import * as MetricsSinkModule from "../shared/MetricsSink.js"
import { cappedNames, MetricsSink, type MetricsSinkShape } from "../shared/MetricsSink.js"
import {
  type DriftAlert,
  MULTIVARIATE_ALERT,
  multivariateRecommendation,
  PERFORMANCE_ALERT,
  performanceRecommendation,
  recommendationFor
} from "./Alert.js"
import { AlertNotifier, type AlertNotifierShape } from "./AlertNotifier.js"
import { transition } from "./AlertState.js"
import { type Baseline, baselineIssues, makeBaseline } from "./Baseline.js"
import { assessFeatures, type FeatureCheck, type TestedFeature, testFeature } from "./Check.js"
import {
  DATASET_ALERT,
  type DatasetDrift,
  datasetDrift,
  datasetRecommendation,
  MIN_FEATURES_FOR_DATASET_ALERT
} from "./DatasetDrift.js"
import { makeDistanceFalseAlarmCache, monitorFalseAlarms } from "./DistanceFalseAlarms.js"
import * as DriftAlertsModule from "./DriftAlerts.js"
import { DriftAlerts } from "./DriftAlerts.js"
import { decisionMethodFor, driftMethodIssues, type FeatureDrift } from "./DriftMethod.js"
import * as DriftStoreModule from "./DriftStore.js"
import { DriftStore, type DriftStoreShape } from "./DriftStore.js"
import { type MonitorConflictError, MonitorNotFoundError } from "./Errors.js"
import { type DecisionRule, decisionSettings, type FalseAlarmFigures } from "./FalseAlarms.js"
import {
  type CreateMonitorInput,
  type Monitor,
  type MonitorSettings,
  monitorSettings,
  type ResolvedMonitorInput
} from "./Monitor.js"
import { type MultivariateCheck, multivariateSeverity } from "./multivariate/MultivariateCheck.js"
import {
  checkStoredRows,
  padRowColumns,
  rowAlignmentIssues,
  storeBaselineRows
} from "./multivariate/MultivariateRows.js"
import { columnsOf, MAX_BASELINE_VALUES, observationIssues, splitMissing, type ValuePath } from "./Observations.js"
import {
  estimatePerformanceReport,
  type PerformanceReport,
  type PerformanceSettings,
  performanceSeverity
} from "./performance/PerformanceEstimation.js"
import { type DriftReport, retainSince } from "./Report.js"
import type { Severity } from "./Severity.js"
import { resolveMonitorFeatures } from "./SignatureFeatures.js"
import { extraTestIssues } from "./tests/ExtraTests.js"
import type { WindowValue } from "./ValueArrays.js"
import {
  type CreateWebhookInput,
  type Delivery,
  wantsAlert,
  type Webhook,
  webhookEventTypes,
  webhookIssues
} from "./Webhook.js"
import * as WebhookNotifier from "./WebhookNotifier.js"
import * as WebhookTargets from "./WebhookTargets.js"
import type { WebhookTargetsShape } from "./WebhookTargets.js"

// Also here, where they were before the split (DriftDetector.reservoirSize, DriftDetector.signWebhook).
export { reservoirSize } from "./Baseline.js"
export { signWebhook } from "./WebhookNotifier.js"

export interface DriftDetectorOptions extends WebhookNotifier.WebhookNotifierOptions {
  /** Defaults for monitor settings (from ML_DRIFT_* configuration). */
  readonly defaults?: Partial<MonitorSettings> | undefined
}

type ValuesByFeature = Readonly<Record<string, ReadonlyArray<WindowValue>>>

export interface DriftDetectorShape {
  readonly createMonitor: (
    input: CreateMonitorInput
  ) => Effect.Effect<Monitor, MonitorConflictError | ValidationError | StorageError>
  readonly getMonitor: (id: string) => Effect.Effect<Monitor, MonitorNotFoundError | StorageError>
  readonly listMonitors: () => Effect.Effect<ReadonlyArray<Monitor>, StorageError>
  /** Freezes a new baseline version for each given feature. */
  readonly setBaseline: (
    monitorId: string,
    values: ValuesByFeature
  ) => Effect.Effect<void, MonitorNotFoundError | ValidationError | StorageError>
  readonly recordFeature: (
    monitorId: string,
    feature: string,
    value: WindowValue
  ) => Effect.Effect<void, MonitorNotFoundError | ValidationError | StorageError>
  /** Batch form: { feature: values[] }. */
  readonly recordBatch: (
    monitorId: string,
    values: ValuesByFeature
  ) => Effect.Effect<void, MonitorNotFoundError | ValidationError | StorageError>
  /** Row form: records of many features, e.g. one model request and its prediction each. */
  readonly recordRows: (
    monitorId: string,
    rows: ReadonlyArray<Readonly<Record<string, WindowValue>>>
  ) => Effect.Effect<void, MonitorNotFoundError | ValidationError | StorageError>
  readonly check: (monitorId: string) => Effect.Effect<DriftReport, MonitorNotFoundError | StorageError>
  /** The monitor's false-alarm figures when every feature is tested (FalseAlarms.ts). */
  readonly falseAlarms: (monitorId: string) => Effect.Effect<FalseAlarmFigures, MonitorNotFoundError | StorageError>
  /** Reports oldest first; with `limit`, only the newest `limit` of them (still oldest first). */
  readonly getDriftReports: (
    monitorId?: string,
    since?: string,
    limit?: number
  ) => Effect.Effect<ReadonlyArray<DriftReport>, StorageError>
  /** One report kept, by id; undefined when none has it (never stored, or past the retention). */
  readonly getDriftReport: (id: string) => Effect.Effect<DriftReport | undefined, StorageError>
  readonly createWebhook: (input: CreateWebhookInput) => Effect.Effect<Webhook, ValidationError | StorageError>
  readonly listWebhooks: () => Effect.Effect<ReadonlyArray<Webhook>, StorageError>
  readonly deleteWebhook: (id: string) => Effect.Effect<boolean, StorageError>
  readonly webhookDeliveries: (webhookId?: string) => Effect.Effect<ReadonlyArray<Delivery>, StorageError>
  /**
   * Sends alerts raised elsewhere (an experiment's guardrail pause) to the webhooks that want them,
   * in the background like the detector's own: same signing, target checks and delivery log.
   */
  readonly notifyWebhooks: (alerts: ReadonlyArray<DriftAlert>) => Effect.Effect<void>
  /**
   * monitorAllFeatures: checks every monitor once per its interval, forever. With several
   * instances, a lease per monitor and interval makes exactly one of them check it, and checks
   * resume on another instance when the lease of a dead one expires. Interrupt to stop.
   */
  readonly monitorAllFeatures: (owner: string, tickMillis?: number) => Effect.Effect<never, never, Leases>
}

export class DriftDetector extends Context.Service<DriftDetector, DriftDetectorShape>()("@org/ml-core/DriftDetector") {}

const nowIso = Clock.currentTimeMillis.pipe(Effect.map((ms) => new Date(ms).toISOString()))

/** `<prefix>-<time, base 36>-<8 random base-36 digits>`: ids that differ across instances. */
const newId = (prefix: string, at: string) =>
  Random.nextIntBetween(0, 36 ** 8, { halfOpen: true }).pipe(
    Effect.map((n) => `${prefix}-${Date.parse(at).toString(36)}-${n.toString(36)}`)
  )

const invalid = (what: string, issues: ReadonlyArray<FieldIssue>) =>
  new ValidationError({
    message: `Invalid ${what}: ${issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    issues
  })

/** Where a bad value is named: by feature and index, or (one value) by feature; made once, not per request. */
const valuePath: ValuePath = (feature, index) => [feature, index]
const featurePath: ValuePath = (feature) => [feature]

const findMonitor = (store: DriftStoreShape, id: string) =>
  store.getMonitor(id).pipe(Effect.flatMap((monitor) =>
    monitor === undefined
      ? Effect.fail(new MonitorNotFoundError({ monitorId: id, message: `Monitor ${id} does not exist` }))
      : Effect.succeed(monitor)
  ))

/**
 * Checks every value against its feature, then appends each feature's values to its window, the
 * whole batch in one store call (one round trip on Redis, however many features it has).
 */
const recordValues = (
  store: DriftStoreShape,
  monitor: Monitor,
  values: ValuesByFeature,
  path: ValuePath
): Effect.Effect<void, ValidationError | StorageError> => {
  const issues = observationIssues(monitor, values, path)
  if (issues.length === 0) issues.push(...rowAlignmentIssues(monitor, values, true))
  if (issues.length > 0) return Effect.fail(invalid("observations", issues))
  const features = Object.keys(values)
  let empty = 0
  for (let i = 0; i < features.length; i++) if (values[features[i]!]!.length === 0) empty++
  if (empty === features.length) return Effect.void
  // A copy only when some feature came without values (the usual batch has none such).
  return store.pushWindows(monitor.id, empty === 0 ? values : withoutEmpty(values), monitor.settings.windowSize)
}

const withoutEmpty = (values: ValuesByFeature): ValuesByFeature => {
  const nonEmpty: Record<string, ReadonlyArray<WindowValue>> = Object.create(null)
  for (const feature of Object.keys(values)) if (values[feature]!.length > 0) nonEmpty[feature] = values[feature]!
  return nonEmpty
}

/** A monitor from its input (settings over the defaults), or the issues its schema cannot state. */
const newMonitor = Effect.fnUntraced(function*(
  input: ResolvedMonitorInput,
  defaults: Partial<MonitorSettings>,
  signature: Signature | undefined
) {
  const merged = monitorSettings(input, defaults)
  const { settings } = merged
  const issues = [
    ...merged.issues,
    ...extraTestIssues(settings.extraTests),
    ...driftMethodIssues(input.features, settings)
  ]
  if (issues.length > 0) return yield* invalid("monitor", issues)
  const at = yield* nowIso
  const monitor: Monitor = {
    id: input.id ?? (yield* newId("mon", at)),
    modelId: input.modelId ?? null,
    features: input.features,
    settings,
    createdAt: at,
    ...(input.performance ? { performance: input.performance } : {}),
    ...(signature !== undefined ? { signature } : {})
  }
  return monitor
})

/** Appends the next baseline version of each given feature, after checking all of them. */
const freezeBaselines = Effect.fnUntraced(function*(store: DriftStoreShape, monitor: Monitor, values: ValuesByFeature) {
  const issues = [
    ...observationIssues(monitor, values, (f, i) => [f, i], MAX_BASELINE_VALUES),
    ...baselineIssues(values)
  ]
  if (issues.length === 0) issues.push(...rowAlignmentIssues(monitor, values, false))
  if (issues.length > 0) return yield* invalid("baseline", issues)
  const at = yield* nowIso
  let rowsVersion = 0
  for (const [feature, list] of Object.entries(values)) {
    const spec = monitor.features.find((f) => f.name === feature)!
    const version = (yield* store.baselines(monitor.id, feature)).length + 1
    rowsVersion = Math.max(rowsVersion, version)
    const baseline = makeBaseline({
      monitorId: monitor.id,
      feature,
      type: spec.type,
      values: list,
      version,
      at,
      settings: monitor.settings
    })
    yield* store.addBaseline(monitor.id, feature, baseline)
  }
  yield* storeBaselineRows(store, monitor, values, rowsVersion)
})

const newWebhook = Effect.fnUntraced(function*(targets: WebhookTargetsShape, input: CreateWebhookInput) {
  const issues = webhookIssues(input)
  // Where the URL points is checked only once it is a valid URL (the port resolves its host).
  const targetRefusal = issues.some((i) => i.path[0] === "url") ? null : yield* targets.refusal(input.url)
  if (targetRefusal !== null) issues.push({ path: ["url"], message: targetRefusal })
  if (issues.length > 0) return yield* invalid("webhook", issues)
  const at = yield* nowIso
  const webhook: Webhook = {
    id: yield* newId("hook", at),
    url: input.url,
    secret: input.secret,
    monitorId: input.monitorId ?? null,
    minSeverity: input.minSeverity ?? "low",
    // Each type once, in the documented order; without a list, drift alerts only (as before events).
    ...(input.events !== undefined ? { events: webhookEventTypes.filter((t) => input.events!.includes(t)) } : {}),
    createdAt: at
  }
  return webhook
})

/** Each feature with a baseline, tested against its latest baseline version. */
const testFeatures = (store: DriftStoreShape, monitor: Monitor) =>
  Effect.forEach(monitor.features, (spec) =>
    Effect.gen(function*() {
      const versions = yield* store.baselines(monitor.id, spec.name)
      const baseline = versions[versions.length - 1]
      if (baseline === undefined) return []
      const window = yield* store.window(monitor.id, spec.name)
      return [testFeature(spec, baseline, window, monitor.settings)]
    })).pipe(Effect.map((tested): ReadonlyArray<TestedFeature> => tested.flat()))

/** How a feature is decided: by its method's corrected p-value or its distance, each at its threshold. */
const decisionRuleOf = (drift: Pick<FeatureDrift, "method" | "role" | "threshold">): DecisionRule =>
  drift.role === "significance"
    ? { kind: "p-value", threshold: drift.threshold }
    : { kind: "distance", method: drift.method, threshold: drift.threshold }

interface FeatureRule {
  readonly feature: string
  readonly rule: DecisionRule
  readonly baseline: Baseline | undefined
}

/**
 * The false-alarm figures over the features (by name) with their decision rules: the store is read
 * only for the baselines of distance rules, whose estimates `cache` keeps per baseline version.
 */
const falseAlarmsOf = (
  store: DriftStoreShape,
  monitor: Monitor,
  decided: ReadonlyArray<{ readonly feature: string; readonly rule: DecisionRule }>,
  cache: ReturnType<typeof makeDistanceFalseAlarmCache>
) =>
  Effect.forEach(decided, ({ feature, rule }): Effect.Effect<FeatureRule, StorageError> =>
    rule.kind === "p-value"
      ? Effect.succeed({ feature, rule, baseline: undefined })
      : store.baselines(monitor.id, feature).pipe(
        Effect.map((versions) => ({ feature, rule, baseline: versions.at(-1) }))
      )).pipe(Effect.map((rules) =>
        monitorFalseAlarms({ monitorId: monitor.id, settings: monitor.settings, features: rules, cache })
      ))

/**
 * Between checks: each feature with a baseline is decided by the method its current window would
 * get (with the settings after the false-alarm bound, as a check decides).
 */
const currentDecisionRules = (store: DriftStoreShape, monitor: Monitor) =>
  Effect.forEach(monitor.features, (spec) =>
    Effect.gen(function*() {
      const baseline = (yield* store.baselines(monitor.id, spec.name)).at(-1)
      if (baseline === undefined) return []
      const { present } = splitMissing(yield* store.window(monitor.id, spec.name))
      const method = decisionMethodFor(spec, baseline, present, decisionSettings(monitor.settings))
      return [{ feature: spec.name, rule: decisionRuleOf(method) }]
    })).pipe(Effect.map((rules) => rules.flat()))

/** CBPE's estimate for the monitor's performance setting, from its prediction's latest baseline and window. */
const estimatePerformance = (store: DriftStoreShape, monitor: Monitor, settings: PerformanceSettings) =>
  Effect.gen(function*() {
    const versions = yield* store.baselines(monitor.id, settings.feature)
    const window = yield* store.window(monitor.id, settings.feature)
    return estimatePerformanceReport(settings, versions[versions.length - 1], window, monitor.settings.minWindow)
  })

/** Moves each tested feature's alert state; the alerts raised, in feature order. */
const raiseAlerts = Effect.fnUntraced(
  function*(store: DriftStoreShape, monitor: Monitor, checks: ReadonlyArray<FeatureCheck>, at: string) {
    const states = yield* store.alertStates(monitor.id)
    const alerts: Array<DriftAlert> = []
    for (const check of checks) {
      if (check.pValue === null) continue
      const next = transition(
        Object.hasOwn(states, check.feature) ? states[check.feature] : undefined,
        check.severity,
        at,
        monitor.settings.cooldownSeconds
      )
      if (next.kind !== undefined) {
        alerts.push({
          id: yield* newId("alert", at),
          monitorId: monitor.id,
          feature: check.feature,
          at,
          kind: next.kind,
          severity: check.severity,
          previousSeverity: next.previousSeverity,
          recommendation: recommendationFor(check.feature, check.severity),
          check
        })
      }
      if (next.state !== undefined) yield* store.setAlertState(monitor.id, check.feature, next.state)
    }
    return alerts
  }
)

/**
 * Moves a monitor-level alert state (`~multivariate`, `~performance`: names no feature can have)
 * to `severity`, through the same state machine and cooldown as features; the alert raised, if any.
 */
const raiseMonitorAlert = Effect.fnUntraced(function*(
  store: DriftStoreShape,
  monitor: Monitor,
  name: string,
  severity: Severity,
  at: string,
  details: Pick<DriftAlert, "recommendation" | "multivariate" | "datasetDrift" | "performance">
) {
  const states = yield* store.alertStates(monitor.id)
  const next = transition(
    Object.hasOwn(states, name) ? states[name] : undefined,
    severity,
    at,
    monitor.settings.cooldownSeconds
  )
  if (next.state !== undefined) yield* store.setAlertState(monitor.id, name, next.state)
  if (next.kind === undefined) return []
  const alert: DriftAlert = {
    id: yield* newId("alert", at),
    monitorId: monitor.id,
    feature: name,
    at,
    kind: next.kind,
    severity,
    previousSeverity: next.previousSeverity,
    ...details
  }
  return [alert]
})

/** The multivariate alert, when the detectors ran. */
const raiseMultivariateAlert = (
  store: DriftStoreShape,
  monitor: Monitor,
  check: MultivariateCheck | undefined,
  at: string
) => {
  if (check === undefined || check.untested !== null) return Effect.succeed([])
  const severity = multivariateSeverity(check)
  return raiseMonitorAlert(store, monitor, MULTIVARIATE_ALERT, severity, at, {
    recommendation: multivariateRecommendation(severity),
    multivariate: check
  })
}

/** The performance alert, when CBPE estimated the window (an unestimated check leaves the state as it is). */
const raisePerformanceAlert = (
  store: DriftStoreShape,
  monitor: Monitor,
  report: PerformanceReport | null,
  at: string
) => {
  if (report === null || report.status !== "estimated") return Effect.succeed([])
  const severity = performanceSeverity(report)
  return raiseMonitorAlert(store, monitor, PERFORMANCE_ALERT, severity, at, {
    recommendation: performanceRecommendation(severity, report),
    performance: report
  })
}

/** The dataset drift alert, when at least MIN_FEATURES_FOR_DATASET_ALERT features were tested. */
const raiseDatasetAlert = (store: DriftStoreShape, monitor: Monitor, drift: DatasetDrift | undefined, at: string) =>
  drift === undefined || drift.testedFeatures < MIN_FEATURES_FOR_DATASET_ALERT
    ? Effect.succeed([])
    : raiseMonitorAlert(store, monitor, DATASET_ALERT, drift.severity, at, {
      recommendation: datasetRecommendation(drift),
      datasetDrift: drift
    })

/**
 * The drift score gauges: a monitor's first `maxNamesPerScope` features (in declaration order) by
 * name, the rest as one `_other` series holding the worst (highest) score among them.
 */
const recordMetrics = Effect.fnUntraced(
  function*(
    metrics: MetricsSinkShape,
    monitor: Monitor,
    checks: ReadonlyArray<FeatureCheck>,
    alerts: ReadonlyArray<DriftAlert>,
    dataset: DatasetDrift | undefined
  ) {
    if (dataset !== undefined) {
      yield* metrics.set("ml_drift_dataset_share", { monitor_id: monitor.id }, dataset.share)
      yield* metrics.set("ml_drift_dataset_drifted", { monitor_id: monitor.id }, dataset.drifted ? 1 : 0)
    }
    const labelOf = cappedNames(monitor.features.map((f) => f.name))
    const scores = new Map<string, { readonly featureName: string; readonly type: string; value: number }>()
    const keep = (featureName: string, type: "psi" | "ks", value: number) => {
      const key = `${type}\u0000${featureName}`
      const seen = scores.get(key)
      if (seen === undefined) scores.set(key, { featureName, type, value })
      else seen.value = Math.max(seen.value, value)
    }
    for (const c of checks) {
      if (c.psi !== null) keep(labelOf(c.feature), "psi", c.psi)
      if (c.ksStatistic !== null) keep(labelOf(c.feature), "ks", c.ksStatistic)
    }
    for (const s of scores.values()) {
      yield* metrics.set("ml_drift_score", { feature_name: s.featureName, type: s.type }, s.value)
    }
    for (const a of alerts) {
      if (a.kind !== "recovery") yield* metrics.increment("ml_drift_alerts_total", { severity: a.severity })
    }
  }
)

/**
 * The monitor-level gauges, labelled by monitor: the multivariate detectors' statistics and
 * verdicts when they ran, and CBPE's estimates with their bands when it estimated (a metric
 * undefined for the window keeps its last value).
 */
const recordMonitorMetrics = Effect.fnUntraced(
  function*(
    metrics: MetricsSinkShape,
    monitor: Monitor,
    multivariate: MultivariateCheck | undefined,
    performance: PerformanceReport | null
  ) {
    const monitor_id = monitor.id
    if (multivariate !== undefined && multivariate.untested === null) {
      const { domainClassifier, pca } = multivariate
      if (domainClassifier !== null) {
        yield* metrics.set(
          "ml_drift_multivariate_score",
          { monitor_id, detector: "domain_classifier" },
          domainClassifier.auc
        )
        yield* metrics.set(
          "ml_drift_multivariate_drifted",
          { monitor_id, detector: "domain_classifier" },
          domainClassifier.drifted ? 1 : 0
        )
      }
      if (pca !== null) {
        yield* metrics.set("ml_drift_multivariate_score", { monitor_id, detector: "pca" }, pca.reconstructionError)
        yield* metrics.set("ml_drift_multivariate_drifted", { monitor_id, detector: "pca" }, pca.drifted ? 1 : 0)
      }
      yield* metrics.set("ml_drift_multivariate_drifted", { monitor_id, detector: "any" }, multivariate.drifted ? 1 : 0)
    }
    if (performance !== null && performance.status === "estimated") {
      for (const m of performance.metrics) {
        if (m.estimate === null) continue
        const labels = { monitor_id, metric: m.metric }
        yield* metrics.set("ml_drift_performance_estimate", labels, m.estimate)
        if (m.lower !== null) yield* metrics.set("ml_drift_performance_estimate_lower", labels, m.lower)
        if (m.upper !== null) yield* metrics.set("ml_drift_performance_estimate_upper", labels, m.upper)
      }
    }
  }
)

/** Every wanted (webhook, alert) delivery, forked into `scope`: a slow receiver never delays a check. */
const dispatch = Effect.fnUntraced(
  function*(
    store: DriftStoreShape,
    notifier: AlertNotifierShape,
    scope: Scope.Scope,
    alerts: ReadonlyArray<DriftAlert>
  ) {
    if (alerts.length === 0) return
    const hooks = yield* store.listWebhooks().pipe(Effect.orElseSucceed((): ReadonlyArray<Webhook> => []))
    for (const alert of alerts) {
      for (const hook of hooks) {
        if (wantsAlert(hook, alert)) yield* Effect.forkIn(notifier.deliver(hook, alert), scope)
      }
    }
  }
)

export const make = (options: { readonly defaults?: Partial<MonitorSettings> | undefined } = {}) =>
  Effect.gen(function*() {
    const defaults = options.defaults ?? {}
    const store = yield* DriftStore
    // Optional: with the registry's store at hand, a monitor created from a model takes its signature.
    const models = yield* Effect.serviceOption(ModelStore)
    const metrics = yield* MetricsSink
    const notifier = yield* AlertNotifier
    const targets = yield* WebhookTargets.current
    const driftAlerts = yield* DriftAlerts
    // Deliveries outlive the check that raised them, but not the detector: they end with its layer.
    const deliveries = yield* Effect.scope
    // Distance rules' false-alarm estimates, per baseline version (deterministic, so instances agree).
    const distanceEstimates = makeDistanceFalseAlarmCache()

    const check = Effect.fn("DriftDetector.check")(function*(monitorId: string) {
      const monitor = yield* findMonitor(store, monitorId)
      const at = yield* nowIso
      // The features are decided with the settings after the false-alarm bound (the stored ones otherwise).
      const decided = { ...monitor, settings: decisionSettings(monitor.settings) }
      const checks = assessFeatures(yield* testFeatures(store, decided), decided.settings)
      const dataset = datasetDrift(monitor.features, checks, monitor.settings)
      const falseAlarms = yield* falseAlarmsOf(
        store,
        monitor,
        checks.flatMap((c) => c.drift === undefined ? [] : [{ feature: c.feature, rule: decisionRuleOf(c.drift) }]),
        distanceEstimates
      )
      const multivariate = yield* checkStoredRows(store, monitor)
      const performance = monitor.performance ? yield* estimatePerformance(store, monitor, monitor.performance) : null
      const alerts = [
        ...yield* raiseAlerts(store, monitor, checks, at),
        ...yield* raiseMultivariateAlert(store, monitor, multivariate, at),
        ...yield* raiseDatasetAlert(store, monitor, dataset, at),
        ...yield* raisePerformanceAlert(store, monitor, performance, at)
      ]
      const report: DriftReport = {
        id: yield* newId("check", at),
        monitorId,
        at,
        features: checks,
        alerts,
        ...(performance ? { performance } : {}),
        ...(multivariate === undefined ? {} : { multivariate }),
        ...(dataset === undefined ? {} : { datasetDrift: dataset }),
        falseAlarms
      }
      yield* store.appendReport(report, retainSince(at, monitor.settings.retentionDays))
      yield* recordMetrics(metrics, monitor, checks, alerts, dataset)
      yield* recordMonitorMetrics(metrics, monitor, multivariate, performance)
      yield* dispatch(store, notifier, deliveries, alerts)
      yield* driftAlerts.publish(alerts)
      return report
    })

    const record = (monitorId: string, values: ValuesByFeature, path: ValuePath) =>
      findMonitor(store, monitorId).pipe(Effect.flatMap((monitor) => recordValues(store, monitor, values, path)))

    // The per-request recording methods are untraced: a span and the call-site stack of Effect.fn
    // cost about 5 µs per call (in process), a few percent of a request on Redis; no tracer reads them.
    return DriftDetector.of({
      createMonitor: Effect.fn("DriftDetector.createMonitor")(function*(input: CreateMonitorInput) {
        const model = input.modelId == null || Option.isNone(models)
          ? undefined
          : yield* models.value.get(input.modelId)
        const resolved = resolveMonitorFeatures(input, model)
        if (Result.isFailure(resolved)) return yield* invalid("monitor", resolved.failure)
        const monitor = yield* newMonitor(resolved.success.input, defaults, resolved.success.signature)
        yield* store.insertMonitor(monitor)
        return monitor
      }),
      getMonitor: Effect.fn("DriftDetector.getMonitor")(function*(id: string) {
        return yield* findMonitor(store, id)
      }),
      listMonitors: Effect.fn("DriftDetector.listMonitors")(function*() {
        return yield* store.listMonitors()
      }),
      setBaseline: Effect.fn("DriftDetector.setBaseline")(function*(monitorId: string, values: ValuesByFeature) {
        return yield* freezeBaselines(store, yield* findMonitor(store, monitorId), values)
      }),
      recordFeature: Effect.fnUntraced(
        function*(monitorId: string, feature: string, value: WindowValue) {
          return yield* record(monitorId, { [feature]: [value] }, featurePath)
        }
      ),
      recordBatch: Effect.fnUntraced(function*(monitorId: string, values: ValuesByFeature) {
        return yield* record(monitorId, values, valuePath)
      }),
      recordRows: Effect.fnUntraced(
        function*(monitorId: string, rows: ReadonlyArray<Readonly<Record<string, WindowValue>>>) {
          const monitor = yield* findMonitor(store, monitorId)
          return yield* recordValues(store, monitor, padRowColumns(monitor, rows, columnsOf(rows)), valuePath)
        }
      ),
      check,
      falseAlarms: Effect.fn("DriftDetector.falseAlarms")(function*(monitorId: string) {
        const monitor = yield* findMonitor(store, monitorId)
        return yield* falseAlarmsOf(store, monitor, yield* currentDecisionRules(store, monitor), distanceEstimates)
      }),
      getDriftReports: Effect.fn("DriftDetector.getDriftReports")(
        function*(monitorId?: string, since?: string, limit?: number) {
          const reports = yield* store.reports(monitorId, since)
          return limit === undefined || reports.length <= limit ? reports : reports.slice(reports.length - limit)
        }
      ),
      getDriftReport: Effect.fn("DriftDetector.getDriftReport")(function*(id: string) {
        return yield* store.getReport(id)
      }),
      createWebhook: Effect.fn("DriftDetector.createWebhook")(function*(input: CreateWebhookInput) {
        const webhook = yield* newWebhook(targets, input)
        yield* store.putWebhook(webhook)
        return webhook
      }),
      listWebhooks: Effect.fn("DriftDetector.listWebhooks")(function*() {
        return yield* store.listWebhooks()
      }),
      deleteWebhook: Effect.fn("DriftDetector.deleteWebhook")(function*(id: string) {
        return yield* store.deleteWebhook(id)
      }),
      webhookDeliveries: Effect.fn("DriftDetector.webhookDeliveries")(function*(webhookId?: string) {
        return yield* store.deliveries(webhookId)
      }),
      notifyWebhooks: Effect.fn("DriftDetector.notifyWebhooks")(function*(alerts: ReadonlyArray<DriftAlert>) {
        yield* dispatch(store, notifier, deliveries, alerts)
      }),
      monitorAllFeatures: Effect.fn("DriftDetector.monitorAllFeatures")(function*(owner: string, tickMillis = 1000) {
        const leases = yield* Leases
        const tick = Effect.gen(function*() {
          for (const m of yield* store.listMonitors()) {
            const mine = yield* leases.acquire(`drift-check:${m.id}`, owner, m.settings.checkIntervalSeconds * 1000)
            if (mine) yield* check(m.id).pipe(Effect.ignore)
          }
        }).pipe(Effect.ignore)
        return yield* Effect.forever(tick.pipe(Effect.andThen(Effect.sleep(tickMillis))))
      })
    })
  })

/** The detector over its ports: storage, metrics, an alert notifier and the in-process alert hub. */
export const layerFromPorts = (
  options: { readonly defaults?: Partial<MonitorSettings> | undefined } = {}
): Layer.Layer<DriftDetector, never, DriftStore | MetricsSink | AlertNotifier | DriftAlerts> =>
  Layer.effect(DriftDetector, make(options))

/**
 * The detector delivering alerts to webhooks over HTTP and publishing them in process
 * (DriftAlerts is provided too, for subscribers); needs only storage and metrics.
 */
export const layer = (
  options: DriftDetectorOptions = {}
): Layer.Layer<DriftDetector | DriftAlerts, never, DriftStore | MetricsSink> =>
  layerFromPorts(options).pipe(
    Layer.provide(WebhookNotifier.layer(options)),
    Layer.provideMerge(DriftAlertsModule.layer)
  )

/** The detector over in-memory storage: tests, examples and edge runtimes. */
export const layerMemory = (
  options: DriftDetectorOptions = {}
): Layer.Layer<DriftDetector | DriftAlerts | DriftStore | MetricsSink | Leases> =>
  layer(options).pipe(
    Layer.provideMerge(
      Layer.mergeAll(DriftStoreModule.layerMemory, MetricsSinkModule.layerMemory, LeasesModule.layerMemory)
    )
  )
