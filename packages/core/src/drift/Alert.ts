/**
 * Drift alerts: what a check raises for a feature (see AlertState.ts for when), with the check
 * behind it and a recommendation people can act on. A monitor with multivariate drift also
 * raises alerts for the joint distribution of its inputs, under the reserved name `~multivariate`
 * (no feature can have it), carrying the multivariate check instead of a feature's; dataset drift
 * (the share of drifted features) raises them under `~dataset` (DatasetDrift.ts); a monitor with
 * a performance setting raises `~performance` alerts when CBPE's estimate falls below a level
 * (PerformanceEstimation.ts), carrying the estimate. Alerts go
 * into the report, to webhooks (AlertNotifier) and to in-process subscribers (DriftAlerts).
 */
import { Schema } from "effect"
import { Instant } from "../registry/Model.js"
import { AlertKind } from "./AlertState.js"
import { FeatureCheck } from "./Check.js"
import { DatasetDrift } from "./DatasetDrift.js"
import { MultivariateCheck } from "./multivariate/MultivariateCheck.js"
import { PerformanceReport } from "./performance/PerformanceEstimation.js"
import { Severity } from "./Severity.js"

export const DriftAlert = Schema.Struct({
  id: Schema.String,
  monitorId: Schema.String,
  feature: Schema.String,
  at: Instant,
  kind: AlertKind,
  severity: Severity,
  previousSeverity: Severity,
  recommendation: Schema.String,
  /** The feature's check; absent on the monitor-level `~multivariate`, `~dataset` and `~performance` alerts. */
  check: Schema.optionalKey(FeatureCheck),
  /** The multivariate check behind a `~multivariate` alert. */
  multivariate: Schema.optionalKey(MultivariateCheck),
  /** The dataset drift behind a `~dataset` alert. */
  datasetDrift: Schema.optionalKey(DatasetDrift),
  /** CBPE's estimate behind a `~performance` alert. */
  performance: Schema.optionalKey(PerformanceReport),
  /**
   * A safe rollout's guardrail pause (experiments/GuardrailAlerts.ts): sent through the same
   * webhooks, under the monitor id `experiment:<id>` and the feature name `~guardrail`.
   */
  guardrail: Schema.optionalKey(Schema.Struct({
    experimentId: Schema.String,
    metric: Schema.String,
    modelId: Schema.String,
    difference: Schema.Finite,
    pValue: Schema.Finite,
    level: Schema.Finite
  }))
})
export type DriftAlert = typeof DriftAlert.Type

/** The name multivariate alerts (and their alert state) go by. */
export const MULTIVARIATE_ALERT = "~multivariate"

/** The recommendation for a multivariate alert. */
export const multivariateRecommendation = (severity: Severity): string =>
  severity === "none"
    ? "The inputs' joint distribution is back in line with the baseline; no action needed."
    : "The inputs' joint distribution changed (a correlation or interaction between features) although " +
      "single features may look unchanged: check upstream joins and feature pipelines, then retrain on recent data."

/** The name performance alerts (and their alert state) go by. */
export const PERFORMANCE_ALERT = "~performance"

/** The recommendation for a performance alert on `report`'s estimate. */
export const performanceRecommendation = (severity: Severity, report: PerformanceReport): string => {
  if (severity === "none") {
    return `The estimated performance of ${report.feature} is back at or above its alert levels; no action needed.`
  }
  const below = report.metrics.filter((m) => m.alert).map((m) =>
    `${m.metric} ${m.estimate?.toFixed(3)} < ${m.alertBelow}`
  )
  return `The estimated performance from ${report.feature} fell below its alert level (${below.join(", ")}) ` +
    "without labels: check for drift in the inputs, collect labels for recent predictions, " +
    "and retrain if they confirm it."
}

export const recommendationFor = (feature: string, severity: Severity): string => {
  switch (severity) {
    case "none":
      return `${feature} is back in line with its baseline; no action needed.`
    case "low":
      return `Investigate an upstream change in ${feature} (a new data source, unit, encoding or default value).`
    case "medium":
      return `Schedule retraining with recent data, after checking that the shift in ${feature} is real ` +
        "and not a pipeline bug."
    case "high":
      return `Retrain on recent data now; the model sees ${feature} values unlike its training data.`
    case "critical":
      return `Retrain now and consider rolling back to a model trained on data like the current ${feature}; ` +
        "predictions are likely unreliable."
  }
}
