/**
 * `/drift/<monitorId>`: the monitor's settings, each feature's latest check (severity, PSI, p-values,
 * unseen categories), the latest multivariate result and CBPE estimate when the monitor enables
 * them, severity and PSI over time across the kept reports, the alerts with their
 * recommendations, and the webhook delivery log. "Check now" is offered to roles with drift:write;
 * the latest report can be saved as the server's self-contained HTML page.
 */
import type { DriftReport, Monitor } from "@org/ml-sdk"
import { useRoute } from "preact-iso"
import { useCallback, useState } from "preact/hooks"
import { useSession } from "../../shell/Session.js"
import { Badge } from "../../ui/Badge.js"
import { formatCount, formatNumber, formatPercent, formatTime } from "../../ui/format.js"
import { Empty, ErrorMessage, Loaded } from "../../ui/States.js"
import { useAction, useResource } from "../../ui/useResource.js"
import { AlertList } from "./AlertList.js"
import { PsiChart, SeverityTimeline } from "./DriftCharts.js"
import { featureHistory, featureHref, reportsShown, worstSeverity } from "./driftData.js"
import { MultivariateResult, PerformanceEstimate } from "./MonitorEstimates.js"
import "./drift.css"
import { DeliveryLog, type WebhookDeliveries } from "./Webhooks.js"

interface MonitorData {
  readonly monitor: Monitor
  readonly reports: ReadonlyArray<DriftReport>
}

const deliveriesPollMs = 15_000

const Settings = ({ monitor }: { readonly monitor: Monitor }) => {
  const s = monitor.settings
  const bands = s.severityThresholds
  return (
    <dl class="facts">
      <dt>Model</dt>
      <dd class="mono">{monitor.modelId ?? "—"}</dd>
      <dt>Created</dt>
      <dd>{formatTime(monitor.createdAt)}</dd>
      <dt>Window</dt>
      <dd>last {formatCount(s.windowSize)} values, tested from {formatCount(s.minWindow)}</dd>
      <dt>Significance</dt>
      <dd>p &lt; {s.pValueThreshold} after {s.correction} correction</dd>
      <dt>PSI bins</dt>
      <dd>{s.psiBins} ({s.psiStrategy})</dd>
      <dt>Severity bands (PSI)</dt>
      <dd>low {bands.low}, medium {bands.medium}, high {bands.high}, critical {bands.critical}</dd>
      <dt>Checks</dt>
      <dd>every {formatCount(s.checkIntervalSeconds)} s; repeat alerts after {formatCount(s.cooldownSeconds)} s</dd>
      <dt>Reports kept</dt>
      <dd>{s.retentionDays} days</dd>
    </dl>
  )
}

const FeatureTable = ({ monitor, report }: { readonly monitor: Monitor; readonly report: DriftReport }) => (
  <div class="table-wrap">
    <table data-testid="feature-table">
      <caption class="muted drift-caption">Latest check at {formatTime(report.at)}</caption>
      <thead>
        <tr>
          <th scope="col">Feature</th>
          <th scope="col">Kind</th>
          <th scope="col">Severity</th>
          <th scope="col" class="num">PSI</th>
          <th scope="col" class="num">p-value</th>
          <th scope="col" class="num">Adjusted p</th>
          <th scope="col" class="num">Window</th>
          <th scope="col" class="num">Missing</th>
          <th scope="col">Unseen categories</th>
        </tr>
      </thead>
      <tbody>
        {monitor.features.map((spec) => {
          const check = report.features.find((f) => f.feature === spec.name)
          return (
            <tr key={spec.name} data-feature={spec.name}>
              <th scope="row">
                <a href={featureHref(monitor.id, spec.name)}>{spec.name}</a>
              </th>
              <td>{spec.kind}, {spec.type}</td>
              {check === undefined
                ? <td colSpan={7} class="muted">no baseline yet</td>
                : (
                  <>
                    <td>
                      {check.pValue === null ? <span class="muted">not tested</span> : <Badge value={check.severity} />}
                    </td>
                    <td class="num">{formatNumber(check.psi)}</td>
                    <td class="num">{formatNumber(check.pValue)}</td>
                    <td class="num">{formatNumber(check.adjustedPValue)}</td>
                    <td class="num">{formatCount(check.windowCount)}</td>
                    <td class="num">{formatPercent(check.missingShare)}</td>
                  </>
                )}
              {check !== undefined && (
                <td>{check.unseenCategories.length === 0 ? "—" : check.unseenCategories.join(", ")}</td>
              )}
            </tr>
          )
        })}
      </tbody>
    </table>
  </div>
)

/**
 * Saves a report as the server's self-contained HTML page. A download rather than a link: the
 * page needs the API key, which the browser would not send when following a link.
 */
const SaveReport = ({ report }: { readonly report: DriftReport }) => {
  const save = useAction(async (client) => {
    const html = await client.drift.getDriftReportHtml(report.id)
    const url = URL.createObjectURL(new Blob([html], { type: "text/html" }))
    const link = document.createElement("a")
    link.href = url
    link.download = `drift-report-${report.id}.html`
    link.click()
    setTimeout(() => URL.revokeObjectURL(url), 0)
  })
  return (
    <div class="toolbar">
      <button type="button" disabled={save.pending} onClick={() => void save.run()}>
        {save.pending ? "Saving…" : "Save latest report as HTML"}
      </button>
      {save.error !== undefined && <ErrorMessage error={save.error} title="Saving the report failed" />}
    </div>
  )
}

const CheckNow = ({ monitorId, onChecked }: { readonly monitorId: string; readonly onChecked: () => void }) => {
  const [last, setLast] = useState<DriftReport | undefined>(undefined)
  const check = useAction(async (client) => setLast(await client.drift.check(monitorId)), onChecked)
  return (
    <div class="toolbar">
      <button type="button" disabled={check.pending} onClick={() => void check.run()}>
        {check.pending ? "Checking…" : "Check now"}
      </button>
      <p role="status" class="muted drift-status">
        {last
          ? `Checked at ${formatTime(last.at)}: worst severity ${
            worstSeverity(last.features)
          }, ${last.alerts.length} alert${last.alerts.length === 1 ? "" : "s"}.`
          : ""}
      </p>
      {check.error !== undefined && <ErrorMessage error={check.error} title="Check failed" />}
    </div>
  )
}

export const MonitorPage = () => {
  const { params } = useRoute()
  const monitorId = params["monitorId"] ?? ""
  const { can } = useSession()
  const [data, reload] = useResource(async (client): Promise<MonitorData> => {
    const [monitor, reports] = await Promise.all([
      client.drift.getMonitor(monitorId),
      client.drift.getDriftReports({ monitorId, limit: reportsShown })
    ])
    return { monitor, reports }
  }, [monitorId])
  const [hooks, reloadHooks] = useResource(
    async (client): Promise<ReadonlyArray<WebhookDeliveries>> => {
      const all = await client.drift.webhooks.list()
      const mine = all.filter((w) => w.monitorId === null || w.monitorId === monitorId)
      return Promise.all(
        mine.map(async (webhook) => ({ webhook, deliveries: await client.drift.webhooks.deliveries(webhook.id) }))
      )
    },
    [monitorId],
    { pollMs: deliveriesPollMs }
  )
  const refresh = useCallback(() => {
    reload()
    reloadHooks()
  }, [reload, reloadHooks])
  return (
    <section>
      <p class="drift-crumbs">
        <a href="/drift">Drift</a> / <span aria-current="page">{monitorId}</span>
      </p>
      <h1>Monitor {monitorId}</h1>
      <Loaded resource={data} label="Loading monitor">
        {({ monitor, reports }) => {
          const latest = reports.at(-1)
          const series = monitor.features.map((f) => ({ feature: f.name, points: featureHistory(reports, f.name) }))
          const alerts = reports.flatMap((r) => r.alerts)
          return (
            <>
              <Settings monitor={monitor} />
              {can("drift:write") && <CheckNow monitorId={monitor.id} onChecked={refresh} />}
              <h2>Features</h2>
              {latest === undefined
                ? <Empty>Not checked yet: reports appear after the first check with a baseline.</Empty>
                : (
                  <>
                    <FeatureTable monitor={monitor} report={latest} />
                    <SaveReport report={latest} />
                  </>
                )}
              {latest?.datasetDrift !== undefined && (
                <>
                  <h2 id="dataset">Dataset drift</h2>
                  <p data-testid="dataset-drift">
                    <Badge value={latest.datasetDrift.severity} />{" "}
                    {latest.datasetDrift.drifted ? "Dataset drift" : "No dataset drift"}:{" "}
                    {latest.datasetDrift.driftedFeatures.length} of {latest.datasetDrift.testedFeatures}{" "}
                    tested features drifted (weighted share {formatNumber(latest.datasetDrift.share)}, threshold{" "}
                    {formatNumber(latest.datasetDrift.threshold)})
                    {latest.datasetDrift.driftedFeatures.length > 0
                      ? `: ${latest.datasetDrift.driftedFeatures.join(", ")}`
                      : ""}.
                  </p>
                </>
              )}
              {latest?.multivariate !== undefined && (
                <>
                  <h2 id="multivariate">Multivariate drift</h2>
                  <MultivariateResult check={latest.multivariate} />
                </>
              )}
              {latest?.performance !== undefined && (
                <>
                  <h2 id="performance">Estimated performance (CBPE)</h2>
                  <PerformanceEstimate report={latest.performance} />
                </>
              )}
              {reports.length > 0 && (
                <>
                  <h2>Over time</h2>
                  <p class="muted">
                    The newest {formatCount(reports.length)} check{reports.length === 1 ? "" : "s"}
                    {reports.length >= reportsShown
                      ? ` (of more kept for ${monitor.settings.retentionDays} days)`
                      : ""}.
                  </p>
                  <div class="drift-grid">
                    <SeverityTimeline series={series} />
                    <PsiChart monitor={monitor} series={series} />
                  </div>
                </>
              )}
              <h2>Alerts</h2>
              <AlertList alerts={[...alerts].reverse()} monitorId={monitor.id} />
              <h2>Webhook deliveries</h2>
              <Loaded resource={hooks} label="Loading deliveries">
                {(list) => <DeliveryLog monitorId={monitor.id} hooks={list} alerts={alerts} />}
              </Loaded>
            </>
          )
        }}
      </Loaded>
    </section>
  )
}
