/**
 * Monitors: which features (and predictions) of a model are watched, and how (window size, test
 * threshold, PSI binning, severity bands, cooldown, retention). The input schema, the stored
 * record and the rules a new monitor must meet beyond its schema live here once.
 */
import { Schema } from "effect"
import { Instant, ModelId } from "../registry/Model.js"
import { Signature } from "../registry/Signature.js"
import type { FieldIssue } from "../shared/Errors.js"
import { DriftSettings, FeatureDriftSettings } from "./DriftMethodSettings.js"
import { falseAlarmIssues, FalseAlarmSettings } from "./FalseAlarms.js"
import { multivariateIssues, MultivariateSettings } from "./multivariate/MultivariateSettings.js"
import { PerformanceSettings, performanceSettingsIssues } from "./performance/PerformanceEstimation.js"
import { SeverityThresholds } from "./Severity.js"

const monitorIdPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/u

/** A monitor id in a path or a query (and in stored records). */
export const MonitorId = Schema.String.check(Schema.isPattern(monitorIdPattern, { message: "must be a monitor id" }))

export const FeatureType = Schema.Literals(["numeric", "categorical"])
export type FeatureType = typeof FeatureType.Type

export const FeatureSpec = Schema.Struct({
  name: Schema.String.check(
    Schema.isPattern(/^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$/u, {
      message: "must be 1-128 characters: a letter or '_' then letters, digits, '_', '.', ':' or '-'"
    })
  ),
  kind: Schema.Literals(["feature", "prediction"]),
  type: FeatureType,
  /** The feature's drift method and threshold, and its weight in the dataset drift share (DriftMethod.ts). */
  drift: Schema.optionalKey(FeatureDriftSettings)
})
export type FeatureSpec = typeof FeatureSpec.Type

export const Correction = Schema.Literals(["none", "bonferroni", "benjamini-hochberg"])
export type Correction = typeof Correction.Type

export const MonitorSettings = Schema.Struct({
  pValueThreshold: Schema.Finite.check(
    Schema.isBetween({ minimum: 0, maximum: 1, exclusiveMinimum: true, exclusiveMaximum: true }, {
      message: "must be strictly between 0 and 1"
    })
  ),
  windowSize: Schema.Int.check(
    Schema.isBetween({ minimum: 10, maximum: 1_000_000 }, { message: "must be an integer from 10 to 1000000" })
  ),
  checkIntervalSeconds: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1, { message: "must be at least 1" })),
  minWindow: Schema.Int.check(Schema.isGreaterThanOrEqualTo(2, { message: "must be at least 2" })),
  psiBins: Schema.Int.check(
    Schema.isBetween({ minimum: 2, maximum: 100 }, { message: "must be an integer from 2 to 100" })
  ),
  psiStrategy: Schema.Literals(["quantile", "uniform"]),
  severityThresholds: SeverityThresholds,
  cooldownSeconds: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0, { message: "must be >= 0" })),
  correction: Correction,
  retentionDays: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1, { message: "must be at least 1" })),
  /** Registered extra tests to run too (tests/registry.ts): statistics per feature, deciding nothing. */
  extraTests: Schema.optionalKey(
    Schema.Array(Schema.String).check(Schema.isMaxLength(20, { message: "must name at most 20 tests" }))
  ),
  /** Multivariate drift detectors (domain classifier, PCA reconstruction error); absent: none. */
  multivariate: Schema.optionalKey(MultivariateSettings),
  /**
   * Drift methods per feature type and the dataset drift share; absent on monitors created before
   * the automatic choice, which keep KS / chi-square (DriftMethod.ts).
   */
  drift: Schema.optionalKey(DriftSettings),
  /** Bounds false alarms over time: a stricter threshold from a target mean time between them (FalseAlarms.ts). */
  falseAlarms: Schema.optionalKey(FalseAlarmSettings)
})
export type MonitorSettings = typeof MonitorSettings.Type

export const defaultMonitorSettings: MonitorSettings = {
  pValueThreshold: 0.05,
  windowSize: 1000,
  checkIntervalSeconds: 300,
  minWindow: 100,
  psiBins: 10,
  psiStrategy: "quantile",
  severityThresholds: { low: 0.1, medium: 0.25, high: 0.5, critical: 1.0 },
  cooldownSeconds: 3600,
  correction: "benjamini-hochberg",
  retentionDays: 30
}

/** The most features (and predictions) one monitor may watch. */
export const MAX_FEATURES_PER_MONITOR = 1000

export const CreateMonitorInput = Schema.Struct({
  id: Schema.optionalKey(
    Schema.String.check(
      Schema.isPattern(monitorIdPattern, { message: "must be 1-128 letters, digits, '.', '_' or '-'" })
    )
  ),
  /** The registry model the monitor watches (keys confined by modelNames reach it through this). */
  modelId: Schema.optionalKey(Schema.NullOr(ModelId)),
  /** Absent: the inputs (features) and outputs (predictions) of the signature of the version modelId names. */
  features: Schema.optionalKey(
    Schema.Array(FeatureSpec).check(
      Schema.isMaxLength(MAX_FEATURES_PER_MONITOR, {
        message: `must hold at most ${MAX_FEATURES_PER_MONITOR} features`
      })
    )
  ),
  settings: Schema.optionalKey(Schema.Struct({
    pValueThreshold: Schema.optionalKey(MonitorSettings.fields.pValueThreshold),
    windowSize: Schema.optionalKey(MonitorSettings.fields.windowSize),
    checkIntervalSeconds: Schema.optionalKey(MonitorSettings.fields.checkIntervalSeconds),
    minWindow: Schema.optionalKey(MonitorSettings.fields.minWindow),
    psiBins: Schema.optionalKey(MonitorSettings.fields.psiBins),
    psiStrategy: Schema.optionalKey(MonitorSettings.fields.psiStrategy),
    severityThresholds: Schema.optionalKey(SeverityThresholds),
    cooldownSeconds: Schema.optionalKey(MonitorSettings.fields.cooldownSeconds),
    correction: Schema.optionalKey(Correction),
    retentionDays: Schema.optionalKey(MonitorSettings.fields.retentionDays),
    extraTests: MonitorSettings.fields.extraTests,
    multivariate: Schema.optionalKey(MultivariateSettings),
    drift: Schema.optionalKey(DriftSettings),
    falseAlarms: MonitorSettings.fields.falseAlarms
  })),
  /** Label-free performance estimation (CBPE) from a prediction feature holding calibrated probabilities. */
  performance: Schema.optionalKey(PerformanceSettings)
})
export type CreateMonitorInput = typeof CreateMonitorInput.Type

export const Monitor = Schema.Struct({
  id: MonitorId,
  modelId: Schema.NullOr(Schema.String),
  features: Schema.Array(FeatureSpec),
  settings: MonitorSettings,
  createdAt: Instant,
  performance: Schema.optionalKey(PerformanceSettings),
  /**
   * The signature of the model version when the monitor was created from it: observations and
   * baselines that contradict it are refused (Observations.ts). Absent: the feature types only.
   */
  signature: Schema.optionalKey(Signature)
})
export type Monitor = typeof Monitor.Type

/** A monitor's input with its feature list decided (given, or taken from the model's signature). */
export type ResolvedMonitorInput = CreateMonitorInput & { readonly features: ReadonlyArray<FeatureSpec> }

/** The path parameters of a monitor's routes. */
export const MonitorParams = Schema.Struct({ id: MonitorId })

/**
 * A new monitor's settings (the input over the configured defaults over the built-in ones) and
 * the rules its schema cannot state: at least one feature, no feature twice, a minimum window
 * within the window, increasing severity bands (the extra tests' names: tests/ExtraTests.ts).
 */
export const monitorSettings = (
  input: ResolvedMonitorInput,
  defaults: Partial<MonitorSettings>
): { readonly settings: MonitorSettings; readonly issues: ReadonlyArray<FieldIssue> } => {
  const issues: Array<FieldIssue> = []
  if (input.features.length === 0) issues.push({ path: ["features"], message: "needs at least one feature" })
  const names = new Set<string>()
  input.features.forEach((f, i) => {
    if (names.has(f.name)) issues.push({ path: ["features", i, "name"], message: `repeats feature ${f.name}` })
    names.add(f.name)
  })
  // New monitors get the automatic drift method choice; stored ones without `drift` keep KS / chi-square.
  const settings = {
    ...defaultMonitorSettings,
    ...defaults,
    ...input.settings,
    drift: input.settings?.drift ?? defaults.drift ?? {}
  }
  if (settings.minWindow > settings.windowSize) {
    issues.push({ path: ["settings", "minWindow"], message: `must not exceed windowSize (${settings.windowSize})` })
  }
  if (input.performance) issues.push(...performanceSettingsIssues(input.performance, input.features))
  const t = settings.severityThresholds
  if (!(t.low < t.medium && t.medium < t.high && t.high < t.critical)) {
    issues.push({ path: ["settings", "severityThresholds"], message: "must increase: low < medium < high < critical" })
  }
  if (settings.multivariate !== undefined) issues.push(...multivariateIssues(settings.multivariate, input.features))
  issues.push(...falseAlarmIssues(settings))
  return { settings, issues }
}
