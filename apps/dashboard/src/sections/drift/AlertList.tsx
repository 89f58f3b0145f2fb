/** Alerts as a timeline, newest first: when, which feature, what changed, and what to do about it. */
import type { DriftAlert } from "@org/ml-sdk"
import { Badge } from "../../ui/Badge.js"
import { formatNumber, formatTime } from "../../ui/format.js"
import { Empty } from "../../ui/States.js"
import { featureHref } from "./driftData.js"

/** Alerts listed at most; older ones stay in the reports (GET /v1/drift/reports). */
const alertsShown = 50

const kindText: Record<DriftAlert["kind"], string> = {
  alert: "Alert",
  escalation: "Escalation",
  recovery: "Recovery"
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
            <strong>{kindText[alert.kind]}</strong> on{" "}
            <a href={featureHref(monitorId, alert.feature)}>{alert.feature}</a>:{" "}
            <Badge value={alert.previousSeverity} /> → <Badge value={alert.severity} />{" "}
            <span class="muted">
              {formatTime(alert.at)}, {alert.check
                ? `PSI ${formatNumber(alert.check.psi)}, p ${formatNumber(alert.check.adjustedPValue)}`
                : `multivariate: AUC ${formatNumber(alert.multivariate?.domainClassifier?.auc ?? null)}, ` +
                  `reconstruction error ${formatNumber(alert.multivariate?.pca?.reconstructionError ?? null)}`}
            </span>
            <p class="drift-recommendation">{alert.recommendation}</p>
          </li>
        ))}
      </ol>
      {alerts.length > alertsShown && <p class="muted">The newest {alertsShown} of {alerts.length} alerts.</p>}
    </>
  )
}
