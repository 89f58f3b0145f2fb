/**
 * The pipeline's charts: each progressive metric over time (one point per update or rollback
 * record, plus the current window), and the holdout metric of the live model and of the
 * candidate at each update, an arrow from before to after, coloured and shaped by the decision.
 */
import type { Pipeline, PipelineStatus } from "@org/ml-sdk"
import { Chart } from "../../ui/Chart.js"
import { formatNumber, formatTime } from "../../ui/format.js"
import {
  holdoutComparisons,
  lowerIsBetter,
  metricLabel,
  type ProgressiveKey,
  progressiveSeries
} from "./pipelineView.js"

const good = "#116329"
const bad = "#a40e26"
const accent = "#0b5cad"

export const ProgressiveChart = (
  { status, metric, label, now }: {
    readonly status: PipelineStatus
    readonly metric: ProgressiveKey
    readonly label: string
    readonly now: Date
  }
) => {
  const points = progressiveSeries(status, metric, now)
  if (points.length === 0) return <p class="muted">No progressive {label} yet: no labelled samples scored.</p>
  const last = points[points.length - 1]!
  const first = points[0]!
  const summary = `Progressive ${label} at ${points.length} points from ${formatTime(first.at)} ` +
    `(${formatNumber(first.value)}) to ${formatTime(last.at)} (${formatNumber(last.value)}).`
  return (
    <Chart
      title={`Progressive ${label} over time`}
      summary={summary}
      testId={`progressive-${metric}`}
      deps={[points.map((p) => `${p.at.getTime()}:${p.value}`).join(",")]}
      render={(Plot, width) => (Plot.plot({
        width,
        height: 220,
        marginLeft: 56,
        x: { type: "utc", label: "time" },
        y: { label, grid: true, ...(metric === "accuracy" ? { domain: [0, 1] } : { zero: true }) },
        symbol: { legend: true, domain: ["update", "rollback", "now"], range: ["circle", "diamond", "square"] },
        marks: [
          Plot.lineY(points, { x: "at", y: "value", stroke: accent }),
          Plot.dot(points, { x: "at", y: "value", symbol: "source", fill: accent, r: 4 }),
          Plot.tip(
            points,
            Plot.pointerX({
              x: "at",
              y: "value",
              title: (p: (typeof points)[number]) =>
                `${p.source} at ${formatTime(p.at)}\n${label} ${formatNumber(p.value)} over ${p.window} labels`
            })
          )
        ]
      }))}
    />
  )
}

export const HoldoutChart = ({ status }: { readonly status: PipelineStatus }) => {
  const pipeline: Pipeline = status.pipeline
  const label = metricLabel[pipeline.validationMetric]
  const comparisons = holdoutComparisons(status.updates)
  if (comparisons.length === 0) return <p class="muted">No update has been judged on holdout samples yet.</p>
  const accepted = comparisons.filter((c) => c.outcome === "accepted").length
  const summary = `${comparisons.length} updates judged by holdout ${label}: ${accepted} accepted, ` +
    `${comparisons.length - accepted} rejected. ${
      lowerIsBetter(pipeline.validationMetric) ? "Lower" : "Higher"
    } is better.`
  const color = { domain: ["accepted", "rejected"], range: [good, bad], legend: true }
  return (
    <Chart
      title={`Holdout ${label} before and after each update`}
      summary={summary}
      testId="holdout-comparison"
      deps={[comparisons.map((c) => `${c.id}:${c.before}:${c.after}`).join(",")]}
      render={(Plot, width) => (Plot.plot({
        width,
        height: 240,
        marginLeft: 56,
        x: { type: "utc", label: "time" },
        y: { label: `holdout ${label} (${lowerIsBetter(pipeline.validationMetric) ? "↓" : "↑"} better)`, grid: true },
        color,
        symbol: { domain: ["accepted", "rejected"], range: ["circle", "times"] },
        marks: [
          Plot.dot(comparisons, { x: "at", y: "before", stroke: "#57606a", r: 3 }),
          Plot.link(comparisons, {
            x1: "at",
            x2: "at",
            y1: "before",
            y2: "after",
            stroke: "outcome",
            strokeWidth: 2,
            markerEnd: "arrow"
          }),
          Plot.dot(comparisons, { x: "at", y: "after", stroke: "outcome", symbol: "outcome", r: 5, strokeWidth: 2 }),
          Plot.tip(
            comparisons,
            Plot.pointerX({
              x: "at",
              y: "after",
              title: (c: (typeof comparisons)[number]) =>
                `${c.outcome} at ${formatTime(c.at)}\nlive ${formatNumber(c.before)} → candidate ${
                  formatNumber(c.after)
                }`
            })
          )
        ]
      }))}
    />
  )
}
