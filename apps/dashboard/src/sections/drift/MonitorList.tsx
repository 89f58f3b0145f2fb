/**
 * `/drift`: every monitor with the outcome of its latest check (when, the worst severity, the alerts
 * it raised), and the webhooks that receive alerts. One small request per monitor (its newest
 * report) keeps the page light however long the retention.
 */
import type { DriftReport, Monitor } from "@org/ml-sdk"
import { useSession } from "../../shell/Session.js"
import { Badge } from "../../ui/Badge.js"
import { formatTime } from "../../ui/format.js"
import { Empty, Loaded } from "../../ui/States.js"
import { useResource } from "../../ui/useResource.js"
import { monitorHref, worstSeverity } from "./driftData.js"
import { AddWebhook, WebhookTable } from "./Webhooks.js"

interface MonitorRow {
  readonly monitor: Monitor
  readonly latest: DriftReport | undefined
}

const listPollMs = 30_000

export const MonitorList = () => {
  const [rows] = useResource(
    async (client): Promise<ReadonlyArray<MonitorRow>> => {
      const monitors = await client.drift.listMonitors()
      const latest = await Promise.all(
        monitors.map((m) => client.drift.getDriftReports({ monitorId: m.id, limit: 1 }).then((r) => r[0]))
      )
      return monitors.map((monitor, i) => ({ monitor, latest: latest[i] }))
    },
    [],
    { pollMs: listPollMs }
  )
  const [webhooks, reloadWebhooks] = useResource((client) => client.drift.webhooks.list(), [])
  const manage = useSession().can("webhooks:manage")
  return (
    <section>
      <h1>Drift</h1>
      <h2>Monitors</h2>
      <Loaded resource={rows} label="Loading monitors">
        {(list) =>
          list.length === 0
            ? (
              <Empty>
                No monitors yet. Create one with <code>POST /v1/drift/monitors</code> or the SDK's{" "}
                <code>drift.createMonitor</code>.
              </Empty>
            )
            : (
              <div class="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Monitor</th>
                      <th scope="col">Model</th>
                      <th scope="col">Features</th>
                      <th scope="col">Last check</th>
                      <th scope="col">Worst severity</th>
                      <th scope="col" class="num">Alerts raised</th>
                    </tr>
                  </thead>
                  <tbody>
                    {list.map(({ latest, monitor }) => (
                      <tr key={monitor.id} data-monitor={monitor.id}>
                        <td>
                          <a href={monitorHref(monitor.id)}>{monitor.id}</a>
                        </td>
                        <td class="mono">{monitor.modelId ?? "—"}</td>
                        <td>{monitor.features.map((f) => f.name).join(", ")}</td>
                        <td>{latest ? formatTime(latest.at) : <span class="muted">never checked</span>}</td>
                        <td>{latest ? <Badge value={worstSeverity(latest.features)} /> : "—"}</td>
                        <td class="num">{latest ? latest.alerts.length : "—"}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
      </Loaded>
      <h2>Webhooks</h2>
      <Loaded resource={webhooks} label="Loading webhooks">
        {(hooks) =>
          hooks.length === 0
            ? <Empty>No webhooks: alerts are kept in the reports only.</Empty>
            : <WebhookTable webhooks={hooks} {...(manage ? { onDeleted: reloadWebhooks } : {})} />}
      </Loaded>
      {manage && (
        <AddWebhook
          monitorIds={rows.kind === "ready" ? rows.value.map((r) => r.monitor.id) : []}
          onAdded={reloadWebhooks}
        />
      )}
    </section>
  )
}
