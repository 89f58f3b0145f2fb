/**
 * Label-free performance estimation for a monitor: the monitor's setting (which prediction
 * feature holds the calibrated probability of class 1, the decision threshold, alert levels), the
 * rules it must meet beyond its schema, and the per-check report: CBPE's estimates (Cbpe.ts) for
 * the prediction's current window, with bands whose standard errors come from its baseline.
 */
import { Schema } from "effect"
import type { FieldIssue } from "../../shared/Errors.js"
import type { Baseline } from "../Baseline.js"
import type { FeatureSpec } from "../Monitor.js"
import type { Severity } from "../Severity.js"
import type { WindowValue } from "../ValueArrays.js"
import { estimateWindow, MetricEstimate, referencePerformance } from "./Cbpe.js"

const Probability = Schema.Finite.check(
  Schema.isBetween({ minimum: 0, maximum: 1 }, { message: "must be between 0 and 1" })
)

export const PerformanceSettings = Schema.Struct({
  /** A feature of kind "prediction" and type "numeric" whose values are calibrated probabilities of class 1. */
  feature: Schema.String,
  /** Rows with a probability at or above it are predicted 1 (default 0.5). */
  threshold: Schema.optionalKey(
    Schema.Finite.check(
      Schema.isBetween({ minimum: 0, maximum: 1, exclusiveMinimum: true, exclusiveMaximum: true }, {
        message: "must be strictly between 0 and 1"
      })
    )
  ),
  /** An estimate below its level marks the metric (and the report) as alerting. */
  alertBelow: Schema.optionalKey(Schema.Struct({
    accuracy: Schema.optionalKey(Probability),
    precision: Schema.optionalKey(Probability),
    recall: Schema.optionalKey(Probability),
    rocAuc: Schema.optionalKey(Probability)
  }))
})
export type PerformanceSettings = typeof PerformanceSettings.Type

/** The setting must name one of the monitor's numeric prediction features. */
export const performanceSettingsIssues = (
  settings: PerformanceSettings,
  features: ReadonlyArray<FeatureSpec>
): Array<FieldIssue> => {
  const spec = features.find((f) => f.name === settings.feature)
  if (spec !== undefined && spec.kind === "prediction" && spec.type === "numeric") return []
  return [{
    path: ["performance", "feature"],
    message: spec === undefined
      ? `must name one of the monitor's features (${settings.feature} is not one)`
      : `must name a numeric feature of kind "prediction" (${settings.feature} is ${spec.type} ${spec.kind})`
  }]
}

export const PerformanceReport = Schema.Struct({
  feature: Schema.String,
  threshold: Schema.Finite,
  /**
   * estimated; or why not: no baseline for the feature yet, fewer than minWindow values in its
   * window, or values (in the window or the baseline) that are not probabilities in [0, 1].
   */
  status: Schema.Literals(["estimated", "no-baseline", "too-few-values", "not-probabilities"]),
  rows: Schema.Int,
  referenceRows: Schema.Int,
  metrics: Schema.Array(MetricEstimate),
  /** Some metric's estimate fell below its alert level. */
  alert: Schema.Boolean
})
export type PerformanceReport = typeof PerformanceReport.Type

const isProbability = (v: number) => v >= 0 && v <= 1

/** The check's performance estimate for `settings` from the feature's latest baseline and window. */
export const estimatePerformanceReport = (
  settings: PerformanceSettings,
  baseline: Baseline | undefined,
  window: ReadonlyArray<WindowValue>,
  minWindow: number
): PerformanceReport => {
  const threshold = settings.threshold ?? 0.5
  const probabilities = window.filter((v): v is number => typeof v === "number")
  const reference = baseline?.type === "numeric" ? baseline.sample : []
  const base = { feature: settings.feature, threshold, rows: probabilities.length, referenceRows: reference.length }
  const unestimated = (status: PerformanceReport["status"]): PerformanceReport => ({
    ...base,
    status,
    metrics: [],
    alert: false
  })
  if (reference.length === 0) return unestimated("no-baseline")
  if (probabilities.length < minWindow) return unestimated("too-few-values")
  if (!probabilities.every(isProbability) || !reference.every(isProbability)) return unestimated("not-probabilities")
  const metrics = estimateWindow(probabilities, {
    threshold,
    reference: referencePerformance(reference, threshold),
    alertBelow: settings.alertBelow ?? {}
  })
  return { ...base, status: "estimated", metrics, alert: metrics.some((m) => m.alert) }
}

/**
 * The severity of a performance alert: none while every estimate is at or above its level;
 * "high" when some metric's whole band lies below its level (its upper bound too, so the drop
 * is beyond the estimate's uncertainty); "medium" when only the estimate is below.
 */
export const performanceSeverity = (report: PerformanceReport): Severity => {
  let severity: Severity = "none"
  for (const m of report.metrics) {
    if (!m.alert) continue
    if (m.upper !== null && m.alertBelow !== null && m.upper < m.alertBelow) return "high"
    severity = "medium"
  }
  return severity
}
