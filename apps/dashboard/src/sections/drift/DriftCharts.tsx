/**
 * The Drift charts, each a <Chart> (Plot loads on first use) with a summary for screen readers:
 * baseline vs current shares per bin, a statistic of one or more features over time (PSI with the
 * monitor's severity bands, p-values on a log scale with the threshold), and the severity of every
 * feature at every check. Severity colours are fixed, and every chart's table or list names them.
 */
import type { Monitor } from "@org/ml-sdk"
import { Chart } from "../../ui/Chart.js"
import { formatNumber, formatPercent, formatTime } from "../../ui/format.js"
import { type DistributionRow, type FeaturePoint, severities, severityColours } from "./driftData.js"

/** Room for labels on a y axis: about 7 px a character, never more than 40% of the width. */
const labelMargin = (labels: ReadonlyArray<string>, width: number) =>
  Math.round(Math.min(width * 0.4, 16 + 7 * Math.max(4, ...labels.map((l) => l.length))))

/** Grouped horizontal bars: per bin, the baseline's share above the current window's. */
export const DistributionChart = (
  { feature, rows }: { readonly feature: string; readonly rows: ReadonlyArray<DistributionRow> }
) => {
  const data = rows.flatMap((r) => [
    { bin: r.bin, series: "baseline", share: r.baseline },
    { bin: r.bin, series: "current", share: r.current }
  ])
  const title = `${feature}: baseline vs current share per bin`
  return (
    <Chart
      title={title}
      testId="distribution-chart"
      summary={`${title}. ${
        rows.map((r) => `${r.bin}: baseline ${formatPercent(r.baseline)}, current ${formatPercent(r.current)}`)
          .join("; ")
      }`}
      deps={[JSON.stringify(rows)]}
      render={(Plot, width) => (Plot.plot({
        width,
        height: 40 + rows.length * 44,
        marginLeft: labelMargin(rows.map((r) => r.bin), width),
        x: { label: "share of values (%)", percent: true, grid: true },
        y: { label: null, domain: ["baseline", "current"], axis: null },
        fy: { label: null, domain: rows.map((r) => r.bin) },
        color: { domain: ["baseline", "current"], range: ["#8c959f", "#0b5cad"], legend: true },
        marks: [
          Plot.barX(data, {
            fy: "bin",
            y: "series",
            x: "share",
            fill: "series",
            title: (d: typeof data[number]) => `${d.series}: ${formatPercent(d.share)}`
          }),
          Plot.ruleX([0])
        ]
      }))}
    />
  )
}

export interface Series {
  readonly feature: string
  readonly points: ReadonlyArray<FeaturePoint>
}

const psiRows = (series: ReadonlyArray<Series>) =>
  series.flatMap((s) =>
    s.points.flatMap((p) => p.check.psi === null ? [] : [{ feature: s.feature, at: p.at, value: p.check.psi }])
  )

/** PSI of each feature at each check, with the monitor's severity bands as labelled rules. */
export const PsiChart = (
  { monitor, series, testId = "psi-chart" }: {
    readonly monitor: Monitor
    readonly series: ReadonlyArray<Series>
    readonly testId?: string
  }
) => {
  const rows = psiRows(series)
  const bands = monitor.settings.severityThresholds
  const rules = [
    { label: "low", value: bands.low },
    { label: "medium", value: bands.medium },
    { label: "high", value: bands.high },
    { label: "critical", value: bands.critical }
  ]
  const last = series.map((s) => {
    const point = rows.filter((r) => r.feature === s.feature).at(-1)
    return point === undefined
      ? `${s.feature}: not tested`
      : `${s.feature} ${formatNumber(point.value)} at ${formatTime(point.at)}`
  })
  const title = series.length === 1 ? `PSI of ${series[0]!.feature} over time` : "PSI per feature over time"
  return (
    <Chart
      title={title}
      testId={testId}
      summary={`${title}, ${rows.length} points; latest: ${last.join("; ")}. Severity bands start at ${
        rules.map((r) => `${r.label} ${r.value}`).join(", ")
      }.`}
      deps={[JSON.stringify(rows), JSON.stringify(bands)]}
      render={(Plot, width) => (Plot.plot({
        width,
        height: 260,
        marginRight: 70,
        x: { type: "utc", label: "check time" },
        y: { label: "PSI", grid: true, domain: [0, Math.max(bands.high, ...rows.map((r) => r.value)) * 1.1] },
        color: { domain: series.map((s) => s.feature), legend: series.length > 1 },
        marks: [
          Plot.ruleY(rules, { y: "value", stroke: "#8c959f", strokeDasharray: "4 3" }),
          Plot.text(rules, { y: "value", text: "label", frameAnchor: "right", dx: 60, fill: "#57606a" }),
          Plot.line(rows, { x: "at", y: "value", stroke: "feature", marker: "circle" }),
          Plot.tip(
            rows,
            Plot.pointer({
              x: "at",
              y: "value",
              title: (r: typeof rows[number]) => `${r.feature}\n${formatTime(r.at)}\nPSI ${formatNumber(r.value)}`
            })
          )
        ]
      }))}
    />
  )
}

/** Smallest p-value drawn: a log scale cannot show 0, and anything below is far past any threshold. */
const pFloor = 1e-16

/** The significance test's p-value (raw and corrected) at each check, on a log scale, with the threshold. */
export const PValueChart = (
  { feature, points, threshold }: {
    readonly feature: string
    readonly points: ReadonlyArray<FeaturePoint>
    readonly threshold: number
  }
) => {
  const rows = points.flatMap((p) => [
    ...(p.check.pValue === null ? [] : [{ at: p.at, kind: "p-value", value: Math.max(pFloor, p.check.pValue) }]),
    ...(p.check.adjustedPValue === null
      ? []
      : [{ at: p.at, kind: "adjusted p-value", value: Math.max(pFloor, p.check.adjustedPValue) }])
  ])
  const title = `p-value of ${feature} over time`
  const latest = points.at(-1)?.check
  const latestText = `latest p-value ${formatNumber(latest?.pValue)}, adjusted ${formatNumber(latest?.adjustedPValue)}`
  return (
    <Chart
      title={title}
      testId="p-value-chart"
      summary={`${title}, log scale, values below ${pFloor} drawn at ${pFloor}; threshold ${threshold}; ${latestText}.`}
      deps={[JSON.stringify(rows), threshold]}
      render={(Plot, width) => (Plot.plot({
        width,
        height: 240,
        x: { type: "utc", label: "check time" },
        y: { type: "log", label: "p-value (log)", grid: true, domain: [pFloor, 1], tickFormat: ".0e" },
        color: { domain: ["p-value", "adjusted p-value"], range: ["#8c959f", "#0b5cad"], legend: true },
        marks: [
          Plot.ruleY([threshold], { stroke: "#cf222e", strokeDasharray: "4 3" }),
          Plot.line(rows, { x: "at", y: "value", stroke: "kind", marker: "circle" }),
          Plot.tip(
            rows,
            Plot.pointer({
              x: "at",
              y: "value",
              title: (r: typeof rows[number]) => `${r.kind} ${formatNumber(r.value)}\n${formatTime(r.at)}`
            })
          )
        ]
      }))}
    />
  )
}

/** Every feature's severity at every check: one row per feature, one dot per check, coloured by severity. */
export const SeverityTimeline = ({ series }: { readonly series: ReadonlyArray<Series> }) => {
  const rows = series.flatMap((s) =>
    s.points.filter((p) => p.check.pValue !== null).map((p) => ({
      feature: s.feature,
      at: p.at,
      severity: p.check.severity
    }))
  )
  const counts = severities.map((level) => `${rows.filter((r) => r.severity === level).length} ${level}`)
  const features = series.map((s) => s.feature)
  return (
    <Chart
      title="Severity per feature over time"
      testId="severity-timeline"
      summary={`Severity of ${features.length} features over ${rows.length} feature checks: ${counts.join(", ")}.`}
      deps={[JSON.stringify(rows)]}
      render={(Plot, width) => (Plot.plot({
        width,
        height: 60 + features.length * 34,
        marginLeft: labelMargin(features, width),
        x: { type: "utc", label: "check time" },
        y: { label: null, domain: features },
        color: { domain: severities, range: severityColours, legend: true },
        marks: [
          Plot.dot(rows, {
            x: "at",
            y: "feature",
            fill: "severity",
            r: 6,
            symbol: "circle",
            title: (r: typeof rows[number]) => `${r.feature} ${r.severity}\n${formatTime(r.at)}`
          })
        ]
      }))}
    />
  )
}
