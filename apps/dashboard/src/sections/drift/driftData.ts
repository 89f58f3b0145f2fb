/**
 * What the Drift pages derive from the stored reports: readable bin labels, the two distributions
 * of a check as rows for a chart and a table, a feature's history across checks, and the worst
 * severity of a check. Pure functions over the SDK's types, shared by the pages and their charts.
 */
import type { DriftAlert, DriftReport, FeatureCheck, Monitor, Severity } from "@org/ml-sdk"
import { formatNumber } from "../../ui/format.js"

/** How many of a monitor's newest reports the pages load (the API keeps up to the retention). */
export const reportsShown = 500

export const severities: ReadonlyArray<Severity> = ["none", "low", "medium", "high", "critical"]
/** Severity colours for charts (labels and tables name the severity too, so colour is never the only signal). */
export const severityColours: ReadonlyArray<string> = ["#2da44e", "#d4a72c", "#e16f24", "#cf222e", "#82071e"]

export const severityRank = (severity: Severity): number => severities.indexOf(severity)

export const worstSeverity = (checks: ReadonlyArray<{ readonly severity: Severity }>): Severity =>
  checks.reduce<Severity>((worst, c) => severityRank(c.severity) > severityRank(worst) ? c.severity : worst, "none")

/**
 * One label per bin: numeric bins are (-∞, e0), [e0, e1), ..., [e_last, ∞) over the baseline's
 * interior edges; categorical bins are the categories themselves.
 */
export const binLabels = (check: FeatureCheck): ReadonlyArray<string> => {
  if (check.categories !== null) return check.categories
  const edges = check.edges ?? []
  if (edges.length === 0) return ["all values"]
  return [
    `< ${formatNumber(edges[0])}`,
    ...edges.slice(1).map((edge, i) => `${formatNumber(edges[i])} to < ${formatNumber(edge)}`),
    `≥ ${formatNumber(edges[edges.length - 1])}`
  ]
}

export interface DistributionRow {
  readonly bin: string
  readonly baseline: number
  readonly current: number
}

/** The baseline and current share of every bin, or undefined when the check did not test the feature. */
export const distribution = (check: FeatureCheck): ReadonlyArray<DistributionRow> | undefined => {
  if (check.baselineShares === null || check.currentShares === null) return undefined
  const labels = binLabels(check)
  return labels.map((bin, i) => ({
    bin,
    baseline: check.baselineShares?.[i] ?? 0,
    current: check.currentShares?.[i] ?? 0
  }))
}

export interface FeaturePoint {
  readonly at: Date
  readonly reportId: string
  readonly check: FeatureCheck
}

/** A feature's check in every report that has it, oldest first. */
export const featureHistory = (reports: ReadonlyArray<DriftReport>, feature: string): ReadonlyArray<FeaturePoint> =>
  reports.flatMap((report) => {
    const check = report.features.find((f) => f.feature === feature)
    return check === undefined ? [] : [{ at: new Date(report.at), reportId: report.id, check }]
  })

/** The alerts of the reports, newest first (of one feature when given). */
export const alertsOf = (reports: ReadonlyArray<DriftReport>, feature?: string): ReadonlyArray<DriftAlert> =>
  reports.flatMap((r) => r.alerts).filter((a) => feature === undefined || a.feature === feature).reverse()

/** The monitor's features in declaration order, for chart domains. */
export const featureNames = (monitor: Monitor): ReadonlyArray<string> => monitor.features.map((f) => f.name)

/** The URL of a monitor's page and of one of its features. */
export const monitorHref = (monitorId: string) => `/drift/${encodeURIComponent(monitorId)}`
export const featureHref = (monitorId: string, feature: string) =>
  `${monitorHref(monitorId)}/features/${encodeURIComponent(feature)}`
