/**
 * The experiment page's charts, each a <Chart> (Plot loads on first use) keyed on the data it draws,
 * so the page's background refresh redraws only what changed. Variants keep one colour across
 * charts (the colour domain is the variant order); the y axes and legends name them, so colour is
 * never the only signal.
 */
import type { Experiment, ExperimentResults } from "@org/ml-sdk"
import { useMemo } from "preact/hooks"
import { Chart, EmptyChart } from "../../ui/Chart.js"
import { formatCount, formatNumber, formatPercent, formatTime } from "../../ui/format.js"

interface ChartInputs {
  readonly experiment: Experiment
  readonly names: ReadonlyArray<string>
}

/** Room for the variant names on a y axis: about 7 px a character, never more than 45% of the width. */
const labelMargin = (names: ReadonlyArray<string>, width: number) =>
  Math.round(Math.min(width * 0.45, 16 + 7 * Math.max(4, ...names.map((n) => n.length))))

const isNumber = (value: number | null | undefined): value is number =>
  typeof value === "number" && Number.isFinite(value)

/** Per-variant mean of the target metric with its (1 - alpha) interval; the control's mean as a dashed line. */
export const ForestPlot = ({ experiment, names, results }: ChartInputs & { readonly results: ExperimentResults }) => {
  const metric = results.targetMetric
  const rows = useMemo(
    () =>
      results.variants.flatMap((v, i) => {
        const summary = Object.hasOwn(v.metrics, metric) ? v.metrics[metric] : undefined
        if (!summary || !isNumber(summary.mean)) return []
        const lower = summary.interval?.lower
        const upper = summary.interval?.upper
        return [{
          label: names[i] ?? v.modelId,
          mean: summary.mean,
          lower: isNumber(lower) ? lower : null,
          upper: isNumber(upper) ? upper : null,
          n: summary.n,
          control: v.isControl
        }]
      }),
    [results, names, metric]
  )
  const level = formatPercent(1 - experiment.alpha, 0)
  const title = `Mean ${metric} per variant with ${level} intervals`
  if (rows.length === 0) {
    return <EmptyChart title={title}>No values of {metric} recorded yet.</EmptyChart>
  }
  const controlMean = rows.find((r) => r.control)?.mean
  const withInterval = rows.filter((r) => r.lower !== null && r.upper !== null)
  return (
    <Chart
      title={title}
      testId="forest-plot"
      summary={`${title}: ${
        rows.map((r) =>
          `${r.label} ${formatNumber(r.mean)}${
            r.lower === null ? "" : ` (${formatNumber(r.lower)} to ${formatNumber(r.upper)})`
          }, n ${formatCount(r.n)}`
        ).join("; ")
      }`}
      deps={[JSON.stringify(rows)]}
      render={(Plot, width) => (Plot.plot({
        width,
        height: 50 + rows.length * 32,
        marginLeft: labelMargin(names, width),
        marginRight: 20,
        x: { label: `${metric} (mean)`, grid: true, nice: true },
        y: { label: null, domain: rows.map((r) => r.label) },
        color: { domain: names },
        marks: [
          ...(controlMean === undefined
            ? []
            : [Plot.ruleX([controlMean], { stroke: "#8c959f", strokeDasharray: "4 3" })]),
          Plot.ruleY(withInterval, { y: "label", x1: "lower", x2: "upper", stroke: "label", strokeWidth: 2.5 }),
          Plot.dot(rows, {
            x: "mean",
            y: "label",
            fill: "label",
            r: 4.5,
            symbol: (r: { readonly control: boolean }) => (r.control ? "square" : "circle"),
            channels: { n: "n", lower: "lower", upper: "upper" },
            tip: true
          })
        ]
      }))}
    />
  )
}

/** Each treatment's lift over the control (relative when the control's mean is not 0) with its interval. */
export const LiftChart = ({ experiment, names, results }: ChartInputs & { readonly results: ExperimentResults }) => {
  const comparisons = useMemo(() => results.comparisons.filter((c) => isNumber(c.difference)), [results])
  const relative = comparisons.length > 0 && comparisons.every((c) => isNumber(c.relativeLift))
  const rows = useMemo(() =>
    comparisons.map((c) => {
      const label = names[experiment.variants.findIndex((v) => v.modelId === c.modelId)] ?? c.modelId
      const interval = relative ? c.relativeLiftInterval : c.differenceInterval
      const scale = relative ? 100 : 1
      return {
        label,
        lift: (relative ? c.relativeLift! : c.difference!) * scale,
        lower: isNumber(interval?.lower) ? interval!.lower! * scale : null,
        upper: isNumber(interval?.upper) ? interval!.upper! * scale : null,
        verdict: c.significantlyBetter ? "better" : c.significantlyWorse ? "worse" : "not significant"
      }
    }), [comparisons, names, relative])
  const title = relative
    ? `Lift over the control on ${results.targetMetric} (%)`
    : `Difference from the control on ${results.targetMetric}`
  if (rows.length === 0) {
    return (
      <EmptyChart title={title}>
        No treatment can be compared yet (each variant needs two values of {results.targetMetric}).
      </EmptyChart>
    )
  }
  const unit = relative ? "%" : ""
  const treatmentNames = names.filter((_, i) => !experiment.variants[i]?.isControl)
  return (
    <Chart
      title={title}
      testId="lift-chart"
      summary={`${title}: ${
        rows.map((r) =>
          `${r.label} ${formatNumber(r.lift)}${unit}${
            r.lower === null ? "" : ` (${formatNumber(r.lower)}${unit} to ${formatNumber(r.upper)}${unit})`
          }, ${r.verdict}`
        ).join("; ")
      }`}
      deps={[JSON.stringify(rows)]}
      render={(Plot, width) => (Plot.plot({
        width,
        height: 50 + rows.length * 32,
        marginLeft: labelMargin(treatmentNames, width),
        marginRight: 20,
        x: { label: relative ? "lift (%)" : "difference", grid: true, nice: true },
        y: { label: null, domain: rows.map((r) => r.label) },
        color: { domain: names },
        marks: [
          Plot.ruleX([0], { stroke: "#57606a" }),
          Plot.ruleY(rows.filter((r) => r.lower !== null && r.upper !== null), {
            y: "label",
            x1: "lower",
            x2: "upper",
            stroke: "label",
            strokeWidth: 2.5
          }),
          Plot.dot(rows, {
            x: "lift",
            y: "label",
            fill: "label",
            r: 4.5,
            channels: { verdict: "verdict" },
            tip: true
          })
        ]
      }))}
    />
  )
}

/** Exposures per variant as bars, with ticks where the current split expects them (a visible SRM check). */
export const ExposuresChart = ({ names, results }: Omit<ChartInputs, "experiment"> & {
  readonly results: ExperimentResults
}) => {
  const total = results.variants.reduce((sum, v) => sum + v.exposures, 0)
  const rows = useMemo(
    () =>
      results.variants.map((v, i) => ({
        label: names[i] ?? v.modelId,
        exposures: v.exposures,
        expected: v.weight * total
      })),
    [results, names, total]
  )
  const title = "Exposures per variant (ticks: expected from the current split)"
  if (total === 0) {
    return <EmptyChart title={title}>No exposures yet.</EmptyChart>
  }
  return (
    <Chart
      title={title}
      testId="exposures-chart"
      summary={`Exposures: ${
        rows.map((r) => `${r.label} ${formatCount(r.exposures)} (expected ${formatCount(Math.round(r.expected))})`)
          .join("; ")
      }`}
      deps={[JSON.stringify(rows)]}
      render={(Plot, width) => (Plot.plot({
        width,
        height: 50 + rows.length * 32,
        marginLeft: labelMargin(names, width),
        marginRight: 20,
        x: { label: "exposures", grid: true },
        y: { label: null, domain: rows.map((r) => r.label) },
        color: { domain: names },
        marks: [
          Plot.barX(rows, { x: "exposures", y: "label", fill: "label", fillOpacity: 0.8, tip: true }),
          Plot.tickX(rows, { x: "expected", y: "label", stroke: "#1b1f24", strokeWidth: 2 }),
          Plot.ruleX([0])
        ]
      }))}
    />
  )
}

/** The most snapshots a history chart draws (per variant). */
const maxSnapshots = 480

/** A step series per variant from timed snapshots of all variants' shares, held until `until`. */
const stepSeries = (
  snapshots: ReadonlyArray<{ readonly at: string; readonly shares: ReadonlyArray<number> }>,
  names: ReadonlyArray<string>,
  until: string
) => {
  const points: Array<{ readonly at: Date; readonly share: number; readonly label: string }> = []
  const last = snapshots[snapshots.length - 1]
  // A chart at most 960 px wide cannot show more steps than this; every k-th (and the last) is kept.
  const stride = Math.ceil(snapshots.length / maxSnapshots)
  const shown = stride <= 1 ? snapshots : snapshots.filter((_, k) => k % stride === 0 || k === snapshots.length - 1)
  const extended = last && Date.parse(until) > Date.parse(last.at) ? [...shown, { ...last, at: until }] : shown
  for (const snapshot of extended) {
    snapshot.shares.forEach((share, i) => points.push({ at: new Date(snapshot.at), share, label: names[i] ?? `#${i}` }))
  }
  return points
}

/** The end of an experiment's time axis: its completion, or now while it is live. */
const timelineEnd = (experiment: Experiment) => experiment.completedAt ?? new Date().toISOString()

const stepChart = (
  Plot: Parameters<Parameters<typeof Chart>[0]["render"]>[0],
  width: number,
  points: ReadonlyArray<{ readonly at: Date; readonly share: number; readonly label: string }>,
  names: ReadonlyArray<string>,
  yLabel: string
) => (Plot.plot({
  width,
  height: 260,
  marginRight: 20,
  x: { type: "utc", label: null },
  y: { label: yLabel, domain: [0, 100], grid: true },
  color: { domain: names, legend: true },
  marks: [
    Plot.line(points, { x: "at", y: "share", stroke: "label", curve: "step-after", strokeWidth: 2 }),
    // A dot per snapshot helps while there are few; a long history (a bandit reweighted every few
    // minutes for weeks) would be tens of thousands of dots, so then the lines carry a pointer tip.
    points.length <= maxDots
      ? Plot.dot(points, { x: "at", y: "share", fill: "label", r: 2.5, tip: true })
      : Plot.tip(
        points,
        Plot.pointerX({
          x: "at",
          y: "share",
          title: (p: { readonly label: string; readonly share: number }) => `${p.label}: ${formatNumber(p.share)}%`
        })
      )
  ]
}))

/** The most points a history chart marks with dots. */
const maxDots = 1_000

/** The configured split (trafficPct) over time, from the experiment's traffic history. */
export const TrafficSplitChart = ({ experiment, names }: ChartInputs) => {
  const history = experiment.trafficHistory
  const end = experiment.status === "completed" ? timelineEnd(experiment) : undefined
  const points = useMemo(
    () =>
      stepSeries(
        history.map((change) => ({ at: change.at, shares: change.trafficPct })),
        names,
        end ?? new Date().toISOString()
      ),
    [history, names, end]
  )
  const latest = history[history.length - 1]
  const summary = latest
    ? `Split set ${history.length} time${history.length === 1 ? "" : "s"} since ${formatTime(history[0]!.at)}; now ${
      latest.trafficPct.map((p, i) => `${names[i]} ${formatNumber(p)}%`).join(", ")
    }`
    : "No traffic split recorded"
  return (
    <Chart
      title="Traffic split over time (% per variant)"
      testId="traffic-split-chart"
      summary={summary}
      deps={[JSON.stringify(history), names.join("\n"), end]}
      render={(Plot, width) => stepChart(Plot, width, points, names, "split (%)")}
    />
  )
}

/** Bandit weights after each Thompson-sampling reweighting (burn-in keeps the configured split until then). */
export const BanditWeightsChart = ({ experiment, names }: ChartInputs) => {
  const history = experiment.banditHistory
  const end = experiment.status === "completed" ? timelineEnd(experiment) : undefined
  const points = useMemo(
    () =>
      stepSeries(
        history.map((h) => ({ at: h.at, shares: h.weights.map((w) => w * 100) })),
        names,
        end ?? new Date().toISOString()
      ),
    [history, names, end]
  )
  const title = "Bandit weights over time (% of traffic per variant)"
  if (history.length === 0) {
    return (
      <EmptyChart title={title}>
        No reweighting yet: the configured split holds until every variant has enough values of{" "}
        {experiment.targetMetric} (burn-in).
      </EmptyChart>
    )
  }
  const latest = history[history.length - 1]!
  return (
    <Chart
      title={title}
      testId="bandit-chart"
      summary={`${history.length} reweighting${history.length === 1 ? "" : "s"} since ${
        formatTime(history[0]!.at)
      }; latest ${latest.weights.map((w, i) => `${names[i]} ${formatPercent(w)}`).join(", ")}`}
      deps={[history.length, latest.at, names.join("\n"), end]}
      render={(Plot, width) => stepChart(Plot, width, points, names, "weight (%)")}
    />
  )
}

const dayMillis = 86_400_000

/** From the first day (or 6 days before the last, if earlier) to the end of the last day. */
const dayDomain = (first: string, last: string): [Date, Date] => {
  const end = Date.parse(`${last}T00:00:00Z`) + dayMillis
  return [new Date(Math.min(Date.parse(`${first}T00:00:00Z`), end - 7 * dayMillis)), new Date(end)]
}

/** Exposures per UTC day, stacked by variant: traffic over time (the server keeps the newest 400 days). */
export const DailyExposuresChart = ({ names, results }: Omit<ChartInputs, "experiment"> & {
  readonly results: ExperimentResults
}) => {
  const days = results.exposuresByDay
  const points = useMemo(
    () =>
      days.flatMap((d) =>
        d.counts.map((count, i) => ({ day: new Date(`${d.day}T00:00:00Z`), count, label: names[i] ?? `#${i}` }))
      ),
    [days, names]
  )
  const title = "Exposures per day (UTC), by variant"
  if (days.length === 0) {
    return <EmptyChart title={title}>No exposures counted per day yet.</EmptyChart>
  }
  const latest = days[days.length - 1]!
  return (
    <Chart
      title={title}
      testId="daily-exposures-chart"
      summary={`${days.length} day${days.length === 1 ? "" : "s"} from ${
        days[0]!.day
      } to ${latest.day}; on ${latest.day}: ${latest.counts.map((c, i) => `${names[i]} ${formatCount(c)}`).join(", ")}`}
      deps={[JSON.stringify(days), names.join("\n")]}
      render={(Plot, width) => (Plot.plot({
        width,
        height: 260,
        marginRight: 20,
        // At least a week wide, so one or two days read as days rather than as a full-width block.
        x: { type: "utc", label: null, domain: dayDomain(days[0]!.day, latest.day) },
        y: { label: "exposures", grid: true },
        color: { domain: names, legend: true },
        marks: [
          Plot.rectY(points, { x: "day", interval: "day", y: "count", fill: "label", tip: true }),
          Plot.ruleY([0])
        ]
      }))}
    />
  )
}
