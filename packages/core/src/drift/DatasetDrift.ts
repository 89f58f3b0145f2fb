/**
 * Dataset drift, as Evidently's DatasetDriftMetric: the share of a monitor's tested features
 * that drifted (their drift method found drift and their severity is at least low: the PSI band
 * keeps a significant but tiny shift on a large window at none, and it does not count here
 * either, so dataset drift never alerts where no feature would), weighted by
 * `features[i].drift.weight` (default 1; 0 leaves a feature out), drifts the dataset when it
 * reaches `settings.drift.datasetShare` (default 0.5).
 * Its severity: none when the dataset did not drift; high when the share is at least halfway
 * from the threshold to every feature ((1 + threshold) / 2); else medium. It goes into the report
 * and, for monitors with at least two tested features (with one, it would repeat that feature's
 * alert), raises alerts under the reserved name `~dataset` (no feature can have it), through the
 * same alert state machine as features.
 */
import { Schema } from "effect"
import type { FeatureCheck } from "./Check.js"
import { DEFAULT_DATASET_DRIFT_SHARE } from "./DriftMethodSettings.js"
import type { FeatureSpec, MonitorSettings } from "./Monitor.js"
import { Severity } from "./Severity.js"

/** The name dataset drift alerts (and their alert state) go by. */
export const DATASET_ALERT = "~dataset"

/** Dataset drift alerts need this many tested features (with one, it is that feature's alert again). */
export const MIN_FEATURES_FOR_DATASET_ALERT = 2

export const DatasetDrift = Schema.Struct({
  /** Weighted share of the tested features that drifted, in [0, 1]. */
  share: Schema.Finite,
  threshold: Schema.Finite,
  drifted: Schema.Boolean,
  driftedFeatures: Schema.Array(Schema.String),
  testedFeatures: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
  severity: Severity
})
export type DatasetDrift = typeof DatasetDrift.Type

/** The dataset verdict of a check; undefined when no feature with a weight above 0 was tested. */
export const datasetDrift = (
  features: ReadonlyArray<FeatureSpec>,
  checks: ReadonlyArray<FeatureCheck>,
  settings: Pick<MonitorSettings, "drift">
): DatasetDrift | undefined => {
  const weights = new Map(features.map((f) => [f.name, f.drift?.weight ?? 1]))
  const weightOf = (c: FeatureCheck) => weights.get(c.feature) ?? 1
  const tested = checks.filter((c) => c.drift !== undefined && weightOf(c) > 0)
  const total = tested.reduce((sum, c) => sum + weightOf(c), 0)
  if (total === 0) return undefined
  const drifted = tested.filter((c) => c.drift!.drifted && c.severity !== "none")
  const share = drifted.reduce((sum, c) => sum + weightOf(c), 0) / total
  const threshold = settings.drift?.datasetShare ?? DEFAULT_DATASET_DRIFT_SHARE
  const isDrifted = share >= threshold
  return {
    share,
    threshold,
    drifted: isDrifted,
    driftedFeatures: drifted.map((c) => c.feature),
    testedFeatures: tested.length,
    severity: !isDrifted ? "none" : share >= (1 + threshold) / 2 ? "high" : "medium"
  }
}

export const datasetRecommendation = (drift: DatasetDrift): string =>
  drift.severity === "none"
    ? "The share of drifted features is back below the dataset threshold; no action needed."
    : `${drift.driftedFeatures.length} of ${drift.testedFeatures} features drifted (weighted share ` +
      `${drift.share.toFixed(2)} >= ${drift.threshold}): the data as a whole moved; check upstream sources, ` +
      "then retrain on recent data."
