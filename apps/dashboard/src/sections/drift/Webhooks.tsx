/**
 * Webhooks and their delivery log. A delivery names its webhook and alert only, so the monitor page
 * joins it to the alerts of that monitor's reports (the feature and severity it was about) and leaves
 * out other monitors' alerts a catch-all webhook also received.
 */
import type { DriftAlert, DriftWebhook, WebhookDelivery } from "@org/ml-sdk"
import { Badge } from "../../ui/Badge.js"
import { formatTime } from "../../ui/format.js"
import { Empty } from "../../ui/States.js"
import { featureHref, monitorHref } from "./driftData.js"

export const WebhookTable = ({ webhooks }: { readonly webhooks: ReadonlyArray<DriftWebhook> }) => (
  <div class="table-wrap">
    <table>
      <thead>
        <tr>
          <th scope="col">URL</th>
          <th scope="col">Alerts of</th>
          <th scope="col">Minimum severity</th>
          <th scope="col">Created</th>
        </tr>
      </thead>
      <tbody>
        {webhooks.map((hook) => (
          <tr key={hook.id}>
            <td class="mono">{hook.url}</td>
            <td>
              {hook.monitorId === null ? "every monitor" : <a href={monitorHref(hook.monitorId)}>{hook.monitorId}</a>}
            </td>
            <td>
              <Badge value={hook.minSeverity} />
            </td>
            <td>{formatTime(hook.createdAt)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  </div>
)

export interface WebhookDeliveries {
  readonly webhook: DriftWebhook
  readonly deliveries: ReadonlyArray<WebhookDelivery>
}

/** Every attempt to deliver one of `alerts` to a webhook, newest first. */
export const DeliveryLog = (
  { alerts, hooks, monitorId }: {
    readonly monitorId: string
    readonly hooks: ReadonlyArray<WebhookDeliveries>
    readonly alerts: ReadonlyArray<DriftAlert>
  }
) => {
  if (hooks.length === 0) return <Empty>No webhook receives this monitor's alerts.</Empty>
  const alertById = new Map(alerts.map((a) => [a.id, a]))
  const rows = hooks
    .flatMap(({ deliveries, webhook }) =>
      deliveries.flatMap((delivery) => {
        const alert = alertById.get(delivery.alertId)
        return alert === undefined ? [] : [{ webhook, delivery, alert }]
      })
    )
    .sort((a, b) => b.delivery.at.localeCompare(a.delivery.at))
  if (rows.length === 0) {
    return <Empty>No deliveries yet to {hooks.length === 1 ? "its webhook" : `its ${hooks.length} webhooks`}.</Empty>
  }
  return (
    <div class="table-wrap">
      <table data-testid="delivery-log">
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Webhook</th>
            <th scope="col">Alert</th>
            <th scope="col" class="num">Attempt</th>
            <th scope="col">Result</th>
            <th scope="col">Error</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(({ alert, delivery, webhook }) => (
            <tr key={`${webhook.id}:${delivery.alertId}:${delivery.attempt}`}>
              <td>{formatTime(delivery.at)}</td>
              <td class="mono">{webhook.url}</td>
              <td>
                <a href={featureHref(monitorId, alert.feature)}>{alert.feature}</a> {alert.kind}{" "}
                <Badge value={alert.severity} />
              </td>
              <td class="num">{delivery.attempt}</td>
              <td>
                <span class={`badge ${delivery.ok ? "good" : "bad"}`}>{delivery.ok ? "delivered" : "failed"}</span>
                {delivery.status === null ? " no response" : ` HTTP ${delivery.status}`}
              </td>
              <td>{delivery.error ?? "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}
