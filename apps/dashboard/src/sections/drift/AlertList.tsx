/** Alerts as a timeline, newest first: when, which feature, what changed, and what to do about it. */
import type { DriftAlert } from "@org/ml-sdk"
import { Badge } from "../../ui/Badge.js"
import { formatNumber, formatTime } from "../../ui/format.js"
import { Empty } from "../../ui/States.js"
import { featureHref, monitorHref } from "./driftData.js"

/** Alerts listed at most; older ones stay in the reports (GET /v1/drift/reports). */
const alertsShown = 50

const kindText: Record<DriftAlert["kind"], string> = {
  alert: "Alert",
  escalation: "Escalation",
  recovery: "Recovery"
}

/**
 * Where an alert's name leads: its feature's page, or for the monitor-level alerts (`~multivariate`,
 * `~performance`, `~dataset`: names no feature can have) that section of the monitor's page.
 */
const alertHref = (monitorId: string, alert: DriftAlert) =>
  alert.feature.startsWith("~")
    ? `${monitorHref(monitorId)}#${alert.feature.slice(1)}`
    : featureHref(monitorId, alert.feature)

/** The numbers behind an alert: its feature's check, dataset drift, the multivariate detectors, or CBPE's estimates. */
const alertFacts = (alert: DriftAlert): string => {
  if (alert.check) return `PSI ${formatNumber(alert.check.psi)}, p ${formatNumber(alert.check.adjustedPValue)}`
  if (alert.datasetDrift) {
    return `${alert.datasetDrift.driftedFeatures.length} of ${alert.datasetDrift.testedFeatures} features drifted ` +
      `(share ${formatNumber(alert.datasetDrift.share)}, threshold ${formatNumber(alert.datasetDrift.threshold)})`
  }
  if (alert.performance) {
    return `estimated ${
      alert.performance.metrics.filter((m) => m.alert || alert.kind === "recovery").map((m) =>
        `${m.metric} ${formatNumber(m.estimate)} (${formatNumber(m.lower)} – ${formatNumber(m.upper)})`
      ).join(", ")
    }`
  }
  return `multivariate: AUC ${formatNumber(alert.multivariate?.domainClassifier?.auc ?? null)}, ` +
    `reconstruction error ${formatNumber(alert.multivariate?.pca?.reconstructionError ?? null)}`
}

export const AlertList = (
  { alerts, monitorId }: { readonly alerts: ReadonlyArray<DriftAlert>; readonly monitorId: string }
) => {
  if (alerts.length === 0) return <Empty>No alerts in the kept reports.</Empty>
  return (
    <>
      <ol class="timeline" data-testid="alerts">
        {alerts.slice(0, alertsShown).map((alert) => (
          <li key={alert.id} data-alert={alert.id}>
            <strong>{kindText[alert.kind]}</strong> on <a href={alertHref(monitorId, alert)}>{alert.feature}</a>:{" "}
            <Badge value={alert.previousSeverity} /> → <Badge value={alert.severity} />{" "}
            <span class="muted">{formatTime(alert.at)}, {alertFacts(alert)}</span>
            <p class="drift-recommendation">{alert.recommendation}</p>
          </li>
        ))}
      </ol>
      {alerts.length > alertsShown && <p class="muted">The newest {alertsShown} of {alerts.length} alerts.</p>}
    </>
  )
}
