/**
 * The severity rule of drift monitoring, written once and pure.
 *
 * A feature drifts only when its drift method says so (DriftMethod.ts: a significance test whose
 * p-value, corrected across features, is below its threshold, or a distance at or above its
 * threshold; KS or chi-square on monitors created before drift methods), so a small window whose
 * PSI is high by chance does not alert; then the PSI band sets the level: < low (0.1)
 * none, < medium (0.25) low, < high (0.5) medium, < critical (1.0) high, else critical. A huge
 * window makes tiny shifts significant, but their PSI stays under 0.1, so they stay at none. A
 * share of missing values 0.1 above the baseline's raises the severity to at least medium.
 *
 * The binned PSI is degenerate when the shift happens inside one frozen bin (a constant or
 * zero-inflated baseline has most of its mass in one bin: values moving from 0 to 2 stay in
 * [0, ∞) and PSI stays 0 while KS finds D = 0.7). For numeric features the band therefore uses
 * the larger of the binned PSI and the split PSI: the PSI of two bins cut where the two CDFs
 * differ most, which any binning separating the values at that point would reach at least.
 */
import { Schema } from "effect"

export const Severity = Schema.Literals(["none", "low", "medium", "high", "critical"])
export type Severity = typeof Severity.Type
export const severityOrder: ReadonlyArray<Severity> = Severity.literals
export const severityRank = (s: Severity): number => severityOrder.indexOf(s)

/** The PSI at which each level starts (a monitor setting; must increase). */
export const SeverityThresholds = Schema.Struct({
  low: Schema.Finite,
  medium: Schema.Finite,
  high: Schema.Finite,
  critical: Schema.Finite
})
export type SeverityThresholds = typeof SeverityThresholds.Type

/** How far the missing share may rise above the baseline's before the feature is at least medium. */
const missingShareTolerance = 0.1

/** The severity for a tested feature (see the module comment). */
export const severityFor = (input: {
  readonly psi: number
  /** The split PSI (numeric features; null or absent otherwise). */
  readonly splitPsi?: number | null | undefined
  /** The feature's drift method found drift. */
  readonly drifted: boolean
  readonly missingShare: number
  readonly baselineMissingShare: number
  readonly bands: SeverityThresholds
}): Severity => {
  let severity: Severity = "none"
  if (input.drifted) {
    const { critical, high, low, medium } = input.bands
    const psi = Math.max(input.psi, input.splitPsi ?? 0)
    severity = psi >= critical
      ? "critical"
      : psi >= high
      ? "high"
      : psi >= medium
      ? "medium"
      : psi >= low
      ? "low"
      : "none"
  }
  if (
    input.missingShare > input.baselineMissingShare + missingShareTolerance &&
    severityRank(severity) < severityRank("medium")
  ) {
    severity = "medium"
  }
  return severity
}
