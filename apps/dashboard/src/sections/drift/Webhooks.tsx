/**
 * Webhooks and their delivery log. A delivery names its webhook and alert only, so the monitor page
 * joins it to the alerts of that monitor's reports (the feature and severity it was about) and leaves
 * out other monitors' alerts a catch-all webhook also received. Adding and deleting webhooks is
 * offered to roles with webhooks:manage; deleting asks for a second click.
 */
import type { CreateWebhookInput, DriftAlert, DriftWebhook, Severity, WebhookDelivery } from "@org/ml-sdk"
import { useState } from "preact/hooks"
import { Badge } from "../../ui/Badge.js"
import { formatTime } from "../../ui/format.js"
import { Empty, ErrorMessage } from "../../ui/States.js"
import { useAction } from "../../ui/useResource.js"
import { featureHref, monitorHref, severities } from "./driftData.js"

const DeleteWebhook = ({ onDeleted, webhook }: { readonly webhook: DriftWebhook; readonly onDeleted: () => void }) => {
  const [confirming, setConfirming] = useState(false)
  const remove = useAction((client) => client.drift.webhooks.remove(webhook.id), onDeleted)
  if (!confirming) {
    return (
      <button
        type="button"
        class="secondary"
        aria-label={`Delete webhook ${webhook.url}`}
        onClick={() => setConfirming(true)}
      >
        Delete
      </button>
    )
  }
  return (
    <>
      <button type="button" class="danger" disabled={remove.pending} onClick={() => void remove.run()}>
        Confirm delete
      </button>{" "}
      <button type="button" class="secondary" onClick={() => setConfirming(false)}>Cancel</button>
      {remove.error !== undefined && <ErrorMessage error={remove.error} title="Delete failed" />}
    </>
  )
}

export const WebhookTable = (
  { onDeleted, webhooks }: { readonly webhooks: ReadonlyArray<DriftWebhook>; readonly onDeleted?: () => void }
) => (
  <div class="table-wrap">
    <table data-testid="webhooks">
      <thead>
        <tr>
          <th scope="col">URL</th>
          <th scope="col">Alerts of</th>
          <th scope="col">Minimum severity</th>
          <th scope="col">Receives</th>
          <th scope="col">Created</th>
          {onDeleted && <th scope="col">Action</th>}
        </tr>
      </thead>
      <tbody>
        {webhooks.map((hook) => (
          <tr key={hook.id} data-webhook={hook.url}>
            <td class="mono">{hook.url}</td>
            <td>
              {hook.monitorId === null ? "every monitor" : <a href={monitorHref(hook.monitorId)}>{hook.monitorId}</a>}
            </td>
            <td>
              <Badge value={hook.minSeverity} />
            </td>
            {/* Drift alerts only unless it chose (registry events among them). */}
            <td>{(hook.events ?? ["drift.alert"]).join(", ")}</td>
            <td>{formatTime(hook.createdAt)}</td>
            {onDeleted && (
              <td>
                <DeleteWebhook webhook={hook} onDeleted={onDeleted} />
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  </div>
)

/** Registers a webhook: where to POST, its signing secret, which monitor's alerts, from which severity. */
export const AddWebhook = (
  { monitorIds, onAdded }: { readonly monitorIds: ReadonlyArray<string>; readonly onAdded: () => void }
) => {
  const [url, setUrl] = useState("")
  const [secret, setSecret] = useState("")
  const [monitorId, setMonitorId] = useState("")
  const [minSeverity, setMinSeverity] = useState<Severity>("low")
  const add = useAction((client, input: CreateWebhookInput) => client.drift.webhooks.create(input), onAdded)
  const submit = async (event: Event) => {
    event.preventDefault()
    const added = await add.run({ url, secret, monitorId: monitorId === "" ? null : monitorId, minSeverity })
    if (added) {
      setUrl("")
      setSecret("")
    }
  }
  return (
    <>
      <h3 id="add-webhook">Add a webhook</h3>
      <form class="inline" onSubmit={(event) => void submit(event)} aria-labelledby="add-webhook">
        <div>
          <label for="webhook-url">URL</label>
          <input id="webhook-url" type="url" required value={url} onInput={(e) => setUrl(e.currentTarget.value)} />
        </div>
        <div>
          <label for="webhook-secret">Secret (16+ characters)</label>
          <input
            id="webhook-secret"
            type="password"
            autocomplete="off"
            required
            minLength={16}
            value={secret}
            onInput={(e) => setSecret(e.currentTarget.value)}
          />
        </div>
        <div>
          <label for="webhook-monitor">Alerts of</label>
          <select id="webhook-monitor" value={monitorId} onChange={(e) => setMonitorId(e.currentTarget.value)}>
            <option value="">every monitor</option>
            {monitorIds.map((id) => <option key={id} value={id}>{id}</option>)}
          </select>
        </div>
        <div>
          <label for="webhook-severity">Minimum severity</label>
          <select
            id="webhook-severity"
            value={minSeverity}
            onChange={(e) => setMinSeverity(e.currentTarget.value as Severity)}
          >
            {severities.filter((s) => s !== "none").map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </div>
        <button type="submit" disabled={add.pending}>Add webhook</button>
        {add.error !== undefined && <ErrorMessage error={add.error} title="Webhook not added" />}
      </form>
    </>
  )
}

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
