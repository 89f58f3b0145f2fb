/**
 * Domain of drift monitoring: monitors and their features, frozen baselines, per-feature check
 * results, alerts and reports; and the severity rule, written once.
 *
 * Severity: a feature drifts only when its test is significant at the monitor's threshold after
 * the multiple-testing correction (KS for numeric, chi-square for categorical) — so a small
 * window whose PSI is high by chance does not alert — and then by PSI band: < low (0.1) none,
 * < medium (0.25) low, < high (0.5) medium, < critical (1.0) high, else critical. A huge window
 * makes tiny shifts significant, but their PSI stays under 0.1, so they stay at none. A share of
 * missing values 0.1 above the baseline's raises the severity to at least medium.
 */
import { Schema } from "effect"

export const Severity = Schema.Literals(["none", "low", "medium", "high", "critical"])
export type Severity = typeof Severity.Type
export const severityOrder: ReadonlyArray<Severity> = ["none", "low", "medium", "high", "critical"]
export const severityRank = (s: Severity): number => severityOrder.indexOf(s)

export const FeatureSpec = Schema.Struct({
  name: Schema.String.check(
    Schema.isPattern(/^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$/u, {
      message: "must be 1-128 characters: a letter or '_' then letters, digits, '_', '.', ':' or '-'"
    })
  ),
  kind: Schema.Literals(["feature", "prediction"]),
  type: Schema.Literals(["numeric", "categorical"])
})
export type FeatureSpec = typeof FeatureSpec.Type

export const Correction = Schema.Literals(["none", "bonferroni", "benjamini-hochberg"])
export type Correction = typeof Correction.Type

export const SeverityThresholds = Schema.Struct({
  low: Schema.Finite,
  medium: Schema.Finite,
  high: Schema.Finite,
  critical: Schema.Finite
})

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
  retentionDays: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1, { message: "must be at least 1" }))
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

export const CreateMonitorInput = Schema.Struct({
  id: Schema.optionalKey(
    Schema.String.check(
      Schema.isPattern(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/u, {
        message: "must be 1-128 letters, digits, '.', '_' or '-'"
      })
    )
  ),
  modelId: Schema.optionalKey(Schema.NullOr(Schema.String)),
  features: Schema.Array(FeatureSpec),
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
    retentionDays: Schema.optionalKey(MonitorSettings.fields.retentionDays)
  }))
})
export type CreateMonitorInput = typeof CreateMonitorInput.Type

export interface Monitor {
  readonly id: string
  readonly modelId: string | null
  readonly features: ReadonlyArray<FeatureSpec>
  readonly settings: MonitorSettings
  readonly createdAt: string
}

export interface NumericBaseline {
  readonly type: "numeric"
  readonly version: number
  readonly createdAt: string
  readonly count: number
  readonly missingShare: number
  readonly mean: number
  readonly sd: number
  readonly quantiles: Readonly<Record<string, number>>
  readonly edges: ReadonlyArray<number>
  readonly shares: ReadonlyArray<number>
  /** The KS reference: every value, or a uniform reservoir of `reservoirSize` when larger (seeded, so reproducible). */
  readonly sample: ReadonlyArray<number>
  readonly sampled: boolean
}

export interface CategoricalBaseline {
  readonly type: "categorical"
  readonly version: number
  readonly createdAt: string
  readonly count: number
  readonly missingShare: number
  readonly counts: Readonly<Record<string, number>>
}

export type Baseline = NumericBaseline | CategoricalBaseline

export interface FeatureCheck {
  readonly feature: string
  readonly type: "numeric" | "categorical"
  readonly windowCount: number
  readonly missingShare: number
  /** Null when the window is smaller than minWindow (not tested). */
  readonly psi: number | null
  readonly ksStatistic: number | null
  /** KS (numeric) or chi-square (categorical) p-value, raw and after the correction. */
  readonly pValue: number | null
  readonly adjustedPValue: number | null
  readonly severity: Severity
  readonly baselineVersion: number
  readonly edges: ReadonlyArray<number> | null
  readonly categories: ReadonlyArray<string> | null
  readonly baselineShares: ReadonlyArray<number> | null
  readonly currentShares: ReadonlyArray<number> | null
  readonly unseenCategories: ReadonlyArray<string>
}

export interface DriftAlert {
  readonly id: string
  readonly monitorId: string
  readonly feature: string
  readonly at: string
  readonly kind: "alert" | "escalation" | "recovery"
  readonly severity: Severity
  readonly previousSeverity: Severity
  readonly recommendation: string
  readonly check: FeatureCheck
}

export interface DriftReport {
  readonly id: string
  readonly monitorId: string
  readonly at: string
  readonly features: ReadonlyArray<FeatureCheck>
  readonly alerts: ReadonlyArray<DriftAlert>
}

/** The severity for a tested feature (see the module comment). */
export const severityFor = (input: {
  readonly psi: number
  readonly adjustedPValue: number
  readonly threshold: number
  readonly missingShare: number
  readonly baselineMissingShare: number
  readonly bands: MonitorSettings["severityThresholds"]
}): Severity => {
  let severity: Severity = "none"
  if (input.adjustedPValue < input.threshold) {
    const { low, medium, high, critical } = input.bands
    severity = input.psi >= critical
      ? "critical"
      : input.psi >= high
      ? "high"
      : input.psi >= medium
      ? "medium"
      : input.psi >= low
      ? "low"
      : "none"
  }
  if (input.missingShare > input.baselineMissingShare + 0.1 && severityRank(severity) < severityRank("medium")) {
    severity = "medium"
  }
  return severity
}

export const recommendationFor = (feature: string, severity: Severity): string => {
  switch (severity) {
    case "none":
      return `${feature} is back in line with its baseline; no action needed.`
    case "low":
      return `Investigate an upstream change in ${feature} (a new data source, unit, encoding or default value).`
    case "medium":
      return `Schedule retraining with recent data, after checking that the shift in ${feature} is real and not a pipeline bug.`
    case "high":
      return `Retrain on recent data now; the model sees ${feature} values unlike its training data.`
    case "critical":
      return `Retrain now and consider rolling back to a model trained on data like the current ${feature}; predictions are likely unreliable.`
  }
}
