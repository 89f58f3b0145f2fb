/**
 * One drift report as a self-contained HTML page to share or archive: the monitor, when it was
 * checked, the verdict, and per feature its statistics, its severity and its two distributions
 * (baseline and current share per bin as side-by-side bars). Inline CSS and inline SVG only, no
 * script and no external asset, so a saved copy opens offline and the page's own policy can
 * forbid everything else. Every value from a user or a stored record is escaped. Rendering is a
 * pure function of the report; fields it does not know (added by later releases) are listed as
 * they are rather than dropped.
 */
import {
  type DatasetDrift,
  type DriftAlert,
  type DriftReport,
  type FeatureCheck,
  type FeatureDrift,
  type Severity,
  severityRank
} from "@org/ml-core"
import { createHash } from "node:crypto"
import { escapeHtml as escape } from "./Html.js"

/** Categorical charts show this many categories, the largest by share, and one bar for the rest. */
export const MAX_CATEGORY_BARS = 12
/** At most this many bin labels under a chart (every k-th bin beyond), so labels never overlap. */
const MAX_AXIS_LABELS = 12
/** Longer category names are cut in axis labels (the bar's tooltip and the table show them whole). */
const MAX_LABEL_CHARACTERS = 18

const pageStyle = [
  "body{font:15px/1.45 system-ui,sans-serif;color:#1f2328;background:#fff;margin:0}",
  "main{max-width:980px;margin:0 auto;padding:24px 16px 48px}",
  "h1{font-size:1.5rem;margin:0 0 12px}h2{font-size:1.15rem;margin:28px 0 8px}",
  "code{font:13px ui-monospace,monospace;background:#f6f8fa;padding:1px 4px;border-radius:4px;word-break:break-all}",
  "dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}dl.facts dt{color:#59636e}",
  "dl.facts dd{margin:0}",
  "table{border-collapse:collapse;margin:8px 0;font-size:14px}th,td{border-bottom:1px solid #d1d9e0;",
  "padding:4px 10px;text-align:left;vertical-align:top}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}",
  ".sev{display:inline-block;padding:0 8px;border-radius:10px;color:#fff;font-weight:600;font-size:13px}",
  ".sev-none{background:#1a7f37}.sev-low{background:#9a6700}.sev-medium{background:#bc4c00}",
  ".sev-high{background:#cf222e}.sev-critical{background:#82071e}",
  "section.feature{border-top:1px solid #d1d9e0;margin-top:24px}",
  ".cols{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}",
  "figure{margin:0;flex:1 1 420px;min-width:300px}figure svg{width:100%;height:auto;display:block}",
  "figcaption{color:#59636e;font-size:13px}",
  "footer{margin-top:40px;color:#59636e;font-size:13px}"
].join("")

/**
 * The page's own Content-Security-Policy: nothing may load or run; only its stylesheet applies
 * (by hash). Charts are inline SVG styled by attributes, which no policy governs.
 */
export const driftReportPagePolicy = [
  "default-src 'none'",
  `style-src 'sha256-${createHash("sha256").update(pageStyle).digest("base64")}'`,
  "img-src data:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'"
].join("; ")

// ---- numbers

/** A readable number: 4 significant digits, exponent notation for tiny and huge values. */
const formatNumber = (x: number): string => {
  if (!Number.isFinite(x) || x === 0) return String(x)
  const magnitude = Math.abs(x)
  return magnitude < 1e-3 || magnitude >= 1e6 ? x.toExponential(2) : String(Number(x.toPrecision(4)))
}
const formatPercent = (share: number): string => `${(share * 100).toFixed(1)}%`

/** A number shown rounded, its exact stored value kept machine-readable in `<data value>`. */
const numberCell = (x: number | null, format: (x: number) => string = formatNumber): string =>
  x === null ? "<span title=\"not tested\">&ndash;</span>" : `<data value="${String(x)}">${format(x)}</data>`

const severityBadge = (severity: Severity): string =>
  `<span class="sev sev-${escape(severity)}" data-severity="${escape(severity)}">${escape(severity)}</span>`

// ---- bins

interface Bar {
  readonly label: string
  readonly baseline: number
  readonly current: number
}

/** Numeric bins over the interior edges: (-∞, e0), [e0, e1), ..., [e_last, ∞). */
const numericLabels = (edges: ReadonlyArray<number>): Array<string> =>
  edges.length === 0 ? ["all values"] : [
    `< ${formatNumber(edges[0]!)}`,
    ...edges.slice(1).map((edge, i) => `${formatNumber(edges[i]!)} to < ${formatNumber(edge)}`),
    `≥ ${formatNumber(edges[edges.length - 1]!)}`
  ]

/** The bars of a tested feature, with how many categories the "other" bar (if any) gathers. */
const barsOf = (check: FeatureCheck): { readonly bars: Array<Bar>; readonly grouped: number } | undefined => {
  const { baselineShares, currentShares } = check
  if (baselineShares === null || currentShares === null) return undefined
  const labels = check.categories ?? numericLabels(check.edges ?? [])
  const bars = labels.map((label, i) => ({ label, baseline: baselineShares[i] ?? 0, current: currentShares[i] ?? 0 }))
  if (check.categories === null || bars.length <= MAX_CATEGORY_BARS) return { bars, grouped: 0 }
  const bySize = [...bars].sort((a, b) =>
    Math.max(b.baseline, b.current) - Math.max(a.baseline, a.current) || (a.label < b.label ? -1 : 1)
  )
  const rest = bySize.slice(MAX_CATEGORY_BARS)
  const other = {
    label: `other (${rest.length} categories)`,
    baseline: rest.reduce((sum, bar) => sum + bar.baseline, 0),
    current: rest.reduce((sum, bar) => sum + bar.current, 0)
  }
  return { bars: [...bySize.slice(0, MAX_CATEGORY_BARS), other], grouped: rest.length }
}

const cut = (label: string): string => {
  const characters = [...label]
  return characters.length <= MAX_LABEL_CHARACTERS
    ? label
    : `${characters.slice(0, MAX_LABEL_CHARACTERS - 1).join("")}…`
}

// ---- chart

const colours = { baseline: "#8c959f", current: "#0b5cad", axis: "#59636e", grid: "#d1d9e0" }

/** Baseline and current share per bin as side-by-side bars; the axis scales to the largest share. */
const distributionChart = (feature: string, bars: ReadonlyArray<Bar>, titleId: string): string => {
  const width = 640
  const height = 280
  const left = 52
  const right = 12
  const top = 28
  const bottom = 90
  const plotWidth = width - left - right
  const plotHeight = height - top - bottom
  const largest = Math.max(...bars.map((b) => Math.max(b.baseline, b.current)), 1e-9)
  const axisMax = Math.min(1, Math.ceil(largest * 10) / 10)
  const y = (share: number) => top + plotHeight - (share / axisMax) * plotHeight
  const slot = plotWidth / bars.length
  const barWidth = Math.max(0.5, slot * 0.38)
  const labelStep = Math.ceil(bars.length / MAX_AXIS_LABELS)
  const r = (x: number) => x.toFixed(2)

  const grid = [0, axisMax / 2, axisMax].map((share) =>
    `<line x1="${left}" x2="${width - right}" y1="${r(y(share))}" y2="${r(y(share))}" stroke="${colours.grid}"/>` +
    `<text x="${left - 6}" y="${r(y(share) + 4)}" text-anchor="end" font-size="11" fill="${colours.axis}">` +
    `${formatPercent(share)}</text>`
  )
  const rects = bars.map((bar, i) => {
    const x0 = left + i * slot + (slot - 2 * barWidth) / 2
    const rect = (x: number, share: number, fill: string, series: string) =>
      `<rect x="${r(x)}" y="${r(y(share))}" width="${r(barWidth)}" height="${r(top + plotHeight - y(share))}" ` +
      `fill="${fill}" data-series="${series}"><title>${escape(bar.label)}: ${series} ${
        formatPercent(share)
      }</title></rect>`
    const label = i % labelStep === 0
      ? `<text transform="translate(${r(left + (i + 0.5) * slot)},${top + plotHeight + 12}) rotate(-35)" ` +
        `text-anchor="end" font-size="11" fill="${colours.axis}">${escape(cut(bar.label))}</text>`
      : ""
    return rect(x0, bar.baseline, colours.baseline, "baseline") +
      rect(x0 + barWidth, bar.current, colours.current, "current") + label
  })
  const legend = [["baseline", colours.baseline], ["current", colours.current]].map(([name, fill], i) =>
    `<rect x="${width - right - 170 + i * 90}" y="6" width="12" height="12" fill="${fill}"/>` +
    `<text x="${width - right - 153 + i * 90}" y="16" font-size="12" fill="#1f2328">${name}</text>`
  )
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" ` +
    `height="${height}" role="img" aria-labelledby="${titleId}" class="distribution">` +
    `<title id="${titleId}">${escape(feature)}: share of values per bin, baseline and current</title>` +
    grid.join("") + rects.join("") +
    `<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotHeight}" stroke="${colours.axis}"/>` +
    legend.join("") + "</svg>"
}

// ---- sections

const knownReportFields = new Set(["id", "monitorId", "at", "features", "alerts", "datasetDrift"])
const knownCheckFields = new Set([
  "feature",
  "type",
  "windowCount",
  "missingShare",
  "psi",
  "ksStatistic",
  "pValue",
  "adjustedPValue",
  "severity",
  "baselineVersion",
  "edges",
  "categories",
  "baselineShares",
  "currentShares",
  "unseenCategories",
  "drift"
])

/** A field this page does not know: numbers as numbers, anything else as compact JSON. */
const extraValue = (value: unknown): string =>
  typeof value === "number"
    ? numberCell(value)
    : typeof value === "string"
    ? escape(value)
    : `<code>${escape(JSON.stringify(value) ?? "null")}</code>`

const extraRows = (record: object, known: ReadonlySet<string>, row: (name: string, value: string) => string) =>
  Object.entries(record).filter(([name]) => !known.has(name)).map(([name, value]) =>
    row(escape(name), extraValue(value))
  ).join("")

const worstSeverity = (checks: ReadonlyArray<FeatureCheck>): Severity =>
  checks.reduce<Severity>((worst, c) => severityRank(c.severity) > severityRank(worst) ? c.severity : worst, "none")

const verdict = (report: DriftReport): string => {
  const tested = report.features.filter((f) => f.pValue !== null)
  const drifted = tested.filter((f) => f.severity !== "none")
  const untested = report.features.length - tested.length
  const worst = worstSeverity(report.features)
  return `${severityBadge(worst)} ${
    worst === "none" ? "no drift" : "drift"
  }: <span data-drifted="${drifted.length}">${drifted.length}</span> of ${tested.length} tested features drifted` +
    (untested > 0 ? `; ${untested} not tested (window below the monitor's minimum)` : "")
}

/** The dataset verdict: the share of drifted features against its threshold, and which drifted. */
const datasetVerdict = (drift: DatasetDrift): string =>
  `${severityBadge(drift.severity)} ${drift.drifted ? "dataset drift" : "no dataset drift"}: weighted share ` +
  `<span data-dataset-share="${drift.share}">${formatNumber(drift.share)}</span> of drifted features ` +
  `(${drift.driftedFeatures.length} of ${drift.testedFeatures}) ${drift.drifted ? "reaches" : "is below"} the ` +
  `threshold ${formatNumber(drift.threshold)}` +
  (drift.driftedFeatures.length === 0
    ? ""
    : `; drifted: ${drift.driftedFeatures.map((f) => `<code>${escape(f)}</code>`).join(" ")}`)

/** Which test decided the feature, who chose it, and its verdict against the threshold. */
const driftMethodCell = (drift: FeatureDrift): string =>
  `<code>${escape(drift.method)}</code> (${escape(drift.chosenBy)}${
    drift.valuesAsCategories === true ? ", values as categories" : ""
  }): ${drift.drifted ? "drifted" : "not drifted"}, ${
    drift.role === "significance"
      ? `corrected p ${numberCell(drift.adjustedPValue ?? null)} vs ${formatNumber(drift.threshold)}`
      : `${numberCell(drift.statistic)} vs ${formatNumber(drift.threshold)}`
  }`

const significanceName = (check: FeatureCheck) => check.type === "numeric" ? "KS" : "chi-square"

const summaryTable = (report: DriftReport): string =>
  "<table class=\"summary\"><thead><tr><th>Feature</th><th>Type</th><th>Verdict</th><th class=\"n\">PSI</th>" +
  "<th class=\"n\">KS D</th><th class=\"n\">p-value</th><th class=\"n\">adjusted p</th>" +
  "<th class=\"n\">window</th><th class=\"n\">missing</th></tr></thead><tbody>" +
  report.features.map((check, i) =>
    `<tr data-feature-index="${i}"><td><a href="#feature-${i}"><code>${escape(check.feature)}</code></a></td>` +
    `<td>${escape(check.type)}</td><td>${severityBadge(check.severity)}</td>` +
    `<td class="n">${numberCell(check.psi)}</td><td class="n">${numberCell(check.ksStatistic)}</td>` +
    `<td class="n">${numberCell(check.pValue)}</td><td class="n">${numberCell(check.adjustedPValue)}</td>` +
    `<td class="n">${numberCell(check.windowCount, String)}</td>` +
    `<td class="n">${numberCell(check.missingShare, formatPercent)}</td></tr>`
  ).join("") + "</tbody></table>"

const statisticsTable = (check: FeatureCheck): string => {
  const row = (name: string, value: string) => `<tr><th>${name}</th><td class="n">${value}</td></tr>`
  const test = significanceName(check)
  return "<table class=\"statistics\"><tbody>" +
    row("Verdict", severityBadge(check.severity)) +
    (check.drift === undefined ? "" : row("Drift method", driftMethodCell(check.drift))) +
    row("PSI", numberCell(check.psi)) +
    (check.type === "numeric" ? row("KS statistic D", numberCell(check.ksStatistic)) : "") +
    row(`${test} p-value`, numberCell(check.pValue)) +
    row(`${test} p-value, corrected`, numberCell(check.adjustedPValue)) +
    row("Values in window", numberCell(check.windowCount, String)) +
    row("Missing share", numberCell(check.missingShare, formatPercent)) +
    row("Baseline version", numberCell(check.baselineVersion, String)) +
    (check.unseenCategories.length > 0
      ? row(
        "Categories new in the window",
        check.unseenCategories.map((c) => `<code>${escape(c)}</code>`).join(" ")
      )
      : "") +
    extraRows(check, knownCheckFields, row) +
    "</tbody></table>"
}

const sharesTable = (bars: ReadonlyArray<Bar>): string =>
  "<details><summary>Shares per bin</summary><table class=\"shares\"><thead><tr><th>Bin</th>" +
  "<th class=\"n\">baseline</th><th class=\"n\">current</th></tr></thead><tbody>" +
  bars.map((bar) =>
    `<tr><td>${escape(bar.label)}</td><td class="n">${numberCell(bar.baseline, formatPercent)}</td>` +
    `<td class="n">${numberCell(bar.current, formatPercent)}</td></tr>`
  ).join("") + "</tbody></table></details>"

const featureSection = (check: FeatureCheck, index: number): string => {
  const binned = barsOf(check)
  const distribution = binned === undefined
    ? `<p>Not tested: the window held fewer values than the monitor's minimum.</p>`
    : `<figure>${distributionChart(check.feature, binned.bars, `chart-${index}`)}<figcaption>Share of values per ${
      check.type === "numeric" ? "baseline bin" : "category"
    }, baseline (grey) and current window (blue).${
      binned.grouped > 0
        ? ` The ${MAX_CATEGORY_BARS} largest categories are shown; the other ${binned.grouped} are one bar.`
        : ""
    }</figcaption></figure>`
  return `<section class="feature" id="feature-${index}" data-feature-index="${index}">` +
    `<h2><code>${escape(check.feature)}</code> ${severityBadge(check.severity)}</h2>` +
    `<div class="cols">${statisticsTable(check)}${distribution}</div>` +
    (binned === undefined ? "" : sharesTable(binned.bars)) + "</section>"
}

const alertsSection = (alerts: ReadonlyArray<DriftAlert>): string =>
  alerts.length === 0 ? "" : "<section><h2>Alerts raised by this check</h2><ul class=\"alerts\">" +
    alerts.map((alert) =>
      `<li><code>${escape(alert.feature)}</code>: ${escape(alert.kind)}, ${severityBadge(alert.previousSeverity)} ` +
      `to ${severityBadge(alert.severity)}. ${escape(alert.recommendation)}</li>`
    ).join("") + "</ul></section>"

const readableTime = (iso: string): string => {
  const ms = Date.parse(iso)
  return Number.isNaN(ms) ? iso : new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/u, " UTC")
}

/** The whole page for one report. */
export const renderDriftReportPage = (report: DriftReport): string => {
  const fact = (name: string, value: string) => `<dt>${name}</dt><dd>${value}</dd>`
  return "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">" +
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">" +
    `<title>Drift report: ${escape(report.monitorId)}, ${escape(readableTime(report.at))}</title>` +
    `<style>${pageStyle}</style></head><body><main>` +
    `<h1>Drift report of monitor <code>${escape(report.monitorId)}</code></h1><dl class="facts">` +
    fact("Checked at", `<time datetime="${escape(report.at)}">${escape(readableTime(report.at))}</time>`) +
    fact("Verdict", verdict(report)) +
    (report.datasetDrift === undefined ? "" : fact("Dataset drift", datasetVerdict(report.datasetDrift))) +
    fact("Alerts raised", String(report.alerts.length)) +
    fact("Report", `<code>${escape(report.id)}</code>`) +
    extraRows(report, knownReportFields, fact) +
    "</dl><h2>Features</h2>" + summaryTable(report) + alertsSection(report.alerts) +
    report.features.map(featureSection).join("") +
    "<footer>Statistics as stored with the report; p-values are corrected across the monitor's features " +
    "by its multiple-testing setting. Rendered by ML Pipeline.</footer></main></body></html>"
}
