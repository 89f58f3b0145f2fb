/**
 * `/drift/<monitorId>/features/<feature>`: one feature's baseline vs current distribution (bin
 * shares for numbers, category shares for categories) at its latest tested check, as bars and as
 * a table, the categories its baseline never saw, every test's statistic and p-value at that check
 * (its `statistics` record), PSI and p-values over the kept reports, every
 * check's severity, and its alerts with their recommendations.
 */
import type { DriftReport, FeatureCheck, Monitor } from "@org/ml-sdk"
import { useRoute } from "preact-iso"
import { Badge } from "../../ui/Badge.js"
import { formatCount, formatNumber, formatPercent, formatTime } from "../../ui/format.js"
import { Empty, Loaded } from "../../ui/States.js"
import { useResource } from "../../ui/useResource.js"
import { AlertList } from "./AlertList.js"
import { DistributionChart, PsiChart, PValueChart } from "./DriftCharts.js"
import { alertsOf, distribution, featureHistory, type FeaturePoint, monitorHref, reportsShown } from "./driftData.js"
import "./drift.css"

/** Checks listed in the table, newest first (the charts show every kept one). */
const checksShown = 20

const Distribution = ({ feature, point }: { readonly feature: string; readonly point: FeaturePoint | undefined }) => {
  const rows = point === undefined ? undefined : distribution(point.check)
  if (point === undefined || rows === undefined) {
    return <Empty>No tested check yet: the window needs the monitor's minimum number of values.</Empty>
  }
  const unseen = point.check.unseenCategories
  return (
    <>
      <p class="muted">
        Check at {formatTime(point.at)}: {formatCount(point.check.windowCount)}{" "}
        values in the window against baseline version {point.check.baselineVersion}.
      </p>
      <DistributionChart feature={feature} rows={rows} />
      <div class="table-wrap">
        <table data-testid="distribution-table">
          <thead>
            <tr>
              <th scope="col">{point.check.type === "categorical" ? "Category" : "Bin"}</th>
              <th scope="col" class="num">Baseline share</th>
              <th scope="col" class="num">Current share</th>
              <th scope="col" class="num">Change</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.bin}>
                <th scope="row">
                  {r.bin}
                  {unseen.includes(r.bin) && (
                    <>
                      {" "}
                      <span class="badge bad">unseen</span>
                    </>
                  )}
                </th>
                <td class="num">{formatPercent(r.baseline)}</td>
                <td class="num">{formatPercent(r.current)}</td>
                <td class="num">
                  {`${r.current >= r.baseline ? "+" : "−"}${formatPercent(Math.abs(r.current - r.baseline))}`}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {point.check.type === "categorical" && (
        <>
          <h3>Unseen categories</h3>
          {unseen.length === 0
            ? <Empty>None: every category in the window was in the baseline.</Empty>
            : (
              <ul class="drift-tags" data-testid="unseen-categories">
                {unseen.map((c) => (
                  <li key={c}>
                    <span class="badge bad">{c}</span>
                  </li>
                ))}
              </ul>
            )}
        </>
      )}
    </>
  )
}

/** Every test that ran on the feature at a check (KS or chi-square, PSI, the monitor's extra tests). */
const TestStatistics = ({ check }: { readonly check: FeatureCheck }) => {
  const entries = Object.entries(check.statistics ?? {})
  if (entries.length === 0) return <Empty>This check was stored before reports listed every test.</Empty>
  return (
    <div class="table-wrap">
      <table data-testid="test-statistics">
        <thead>
          <tr>
            <th scope="col">Test</th>
            <th scope="col" class="num">Statistic</th>
            <th scope="col" class="num">p-value</th>
          </tr>
        </thead>
        <tbody>
          {entries.map(([name, result]) => (
            <tr key={name} data-test={name}>
              <th scope="row">{name}</th>
              <td class="num">{formatNumber(result.statistic)}</td>
              <td class="num">{formatNumber(result.pValue)}</td>
            </tr>
          ))}
          {check.splitPsi !== undefined && check.splitPsi !== null && (
            <tr data-test="split-psi">
              <th scope="row">split PSI</th>
              <td class="num">{formatNumber(check.splitPsi)}</td>
              <td class="num">{formatNumber(null)}</td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  )
}

const CheckTable = ({ points }: { readonly points: ReadonlyArray<FeaturePoint> }) => (
  <div class="table-wrap">
    <table data-testid="check-table">
      <thead>
        <tr>
          <th scope="col">Time</th>
          <th scope="col">Severity</th>
          <th scope="col" class="num">PSI</th>
          <th scope="col" class="num">p-value</th>
          <th scope="col" class="num">Adjusted p</th>
          <th scope="col" class="num">Window</th>
          <th scope="col" class="num">Missing</th>
        </tr>
      </thead>
      <tbody>
        {[...points].reverse().slice(0, checksShown).map((p) => (
          <tr key={p.reportId}>
            <td>{formatTime(p.at)}</td>
            <td>
              {p.check.pValue === null ? <span class="muted">not tested</span> : <Badge value={p.check.severity} />}
            </td>
            <td class="num">{formatNumber(p.check.psi)}</td>
            <td class="num">{formatNumber(p.check.pValue)}</td>
            <td class="num">{formatNumber(p.check.adjustedPValue)}</td>
            <td class="num">{formatCount(p.check.windowCount)}</td>
            <td class="num">{formatPercent(p.check.missingShare)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  </div>
)

export const FeaturePage = () => {
  const { params } = useRoute()
  const monitorId = params["monitorId"] ?? ""
  const feature = params["feature"] ?? ""
  const [data] = useResource(async (client): Promise<{ monitor: Monitor; reports: ReadonlyArray<DriftReport> }> => {
    const [monitor, reports] = await Promise.all([
      client.drift.getMonitor(monitorId),
      client.drift.getDriftReports({ monitorId, limit: reportsShown })
    ])
    return { monitor, reports }
  }, [monitorId])
  return (
    <section>
      <p class="drift-crumbs">
        <a href="/drift">Drift</a> / <a href={monitorHref(monitorId)}>{monitorId}</a> /{" "}
        <span aria-current="page">{feature}</span>
      </p>
      <h1>{feature}</h1>
      <Loaded resource={data} label="Loading feature">
        {({ monitor, reports }) => {
          const spec = monitor.features.find((f) => f.name === feature)
          if (spec === undefined) {
            return (
              <Empty>
                Monitor <a href={monitorHref(monitorId)}>{monitorId}</a> does not watch a feature named {feature}.
              </Empty>
            )
          }
          const points = featureHistory(reports, feature)
          const tested = points.filter((p) => p.check.pValue !== null)
          const latest = points.at(-1)?.check
          return (
            <>
              <dl class="facts">
                <dt>Kind</dt>
                <dd>{spec.kind}, {spec.type}</dd>
                <dt>Severity</dt>
                <dd>
                  {latest === undefined || latest.pValue === null ? "not tested" : <Badge value={latest.severity} />}
                </dd>
                <dt>PSI</dt>
                <dd>{formatNumber(latest?.psi)}</dd>
                {spec.type === "numeric" && (
                  <>
                    <dt>KS statistic</dt>
                    <dd>{formatNumber(latest?.ksStatistic)}</dd>
                  </>
                )}
                <dt>p-value ({spec.type === "numeric" ? "KS" : "chi-square"})</dt>
                <dd>{formatNumber(latest?.pValue)}, adjusted {formatNumber(latest?.adjustedPValue)}</dd>
                <dt>Baseline version</dt>
                <dd>{latest?.baselineVersion ?? "—"}</dd>
              </dl>
              <h2>Baseline vs current</h2>
              <Distribution feature={feature} point={tested.at(-1)} />
              <h2>Tests</h2>
              {tested.length === 0
                ? <Empty>No tested checks yet.</Empty>
                : <TestStatistics check={tested.at(-1)!.check} />}
              <h2>Over time</h2>
              {tested.length === 0 ? <Empty>No tested checks yet.</Empty> : (
                <div class="drift-grid">
                  <PsiChart monitor={monitor} series={[{ feature, points: tested }]} />
                  <PValueChart feature={feature} points={tested} threshold={monitor.settings.pValueThreshold} />
                </div>
              )}
              <h2>Checks</h2>
              {points.length === 0 ? <Empty>Not checked yet.</Empty> : <CheckTable points={points} />}
              <h2>Alerts</h2>
              <AlertList alerts={alertsOf(reports, feature)} monitorId={monitorId} />
            </>
          )
        }}
      </Loaded>
    </section>
  )
}
