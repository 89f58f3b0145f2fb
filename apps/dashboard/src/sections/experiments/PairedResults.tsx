/**
 * The results that come from paired values (shown only when recorded): CUPED-adjusted comparisons
 * (observations with each user's pre-experiment value), ratio metrics (observations with a
 * denominator, delta method), and the caps applied to values at recording.
 */
import type { Experiment, ExperimentResults } from "@org/ml-sdk"
import { formatNumber, formatPercent } from "../../ui/format.js"
import { ScrollingTable } from "./ScrollingTable.js"

type Verdictable = {
  readonly notComputable?: string | undefined
  readonly significantlyBetter: boolean
  readonly significantlyWorse: boolean
}

const verdict = (c: Verdictable) =>
  c.notComputable
    ? { text: `not computable: ${c.notComputable}`, tone: "" }
    : c.significantlyBetter
    ? { text: "significantly better", tone: "sig-better" }
    : c.significantlyWorse
    ? { text: "significantly worse", tone: "sig-worse" }
    : { text: "no significant difference", tone: "" }

const range = (interval: { readonly lower: number | null; readonly upper: number | null } | null, percent = false) => {
  if (interval === null || interval.lower === null || interval.upper === null) return "—"
  const f = percent ? formatPercent : formatNumber
  return `${f(interval.lower)} to ${f(interval.upper)}`
}

export const PairedResults = (
  { experiment, names, results }: {
    readonly experiment: Experiment
    readonly results: ExperimentResults
    readonly names: ReadonlyArray<string>
  }
) => {
  const nameOf = (modelId: string) => names[experiment.variants.findIndex((v) => v.modelId === modelId)] ?? modelId
  const caps = Object.entries(results.metricCaps)
  return (
    <>
      {results.covariateAdjusted.length > 0 && (
        <>
          <h2>CUPED (adjusted by pre-experiment values)</h2>
          <ScrollingTable label="CUPED-adjusted comparisons">
            <table aria-label="CUPED-adjusted comparisons" data-testid="cuped">
              <thead>
                <tr>
                  <th scope="col">Treatment</th>
                  <th scope="col">Metric</th>
                  <th scope="col" class="num">Adjusted difference</th>
                  <th scope="col">Interval</th>
                  <th scope="col" class="num">Lift</th>
                  <th scope="col" class="num">p-value</th>
                  <th scope="col" class="num">Adjusted p</th>
                  <th scope="col" class="num">Variance reduction</th>
                  <th scope="col">Verdict</th>
                </tr>
              </thead>
              <tbody>
                {results.covariateAdjusted.map((c) => {
                  const { text, tone } = verdict(c)
                  return (
                    <tr key={`${c.modelId}:${c.metric}`}>
                      <td>{nameOf(c.modelId)}</td>
                      <td class="mono">{c.metric}</td>
                      <td class="num">{formatNumber(c.difference)}</td>
                      <td>{range(c.differenceInterval)}</td>
                      <td class="num">{formatPercent(c.relativeLift)}</td>
                      <td class="num">{formatNumber(c.pValue)}</td>
                      <td class="num">{formatNumber(c.adjustedPValue)}</td>
                      <td class="num">{formatPercent(c.varianceReduction)}</td>
                      <td class={tone}>{text}</td>
                    </tr>
                  )
                })}
              </tbody>
            </table>
          </ScrollingTable>
        </>
      )}
      {results.ratioMetrics.length > 0 && (
        <>
          <h2>Ratio metrics</h2>
          <ScrollingTable label="Ratio metrics">
            <table aria-label="Ratio metrics" data-testid="ratio-metrics">
              <thead>
                <tr>
                  <th scope="col">Treatment</th>
                  <th scope="col">Metric</th>
                  <th scope="col" class="num">Ratio</th>
                  <th scope="col" class="num">Control ratio</th>
                  <th scope="col" class="num">Lift</th>
                  <th scope="col">Lift interval</th>
                  <th scope="col" class="num">p-value</th>
                  <th scope="col" class="num">Adjusted p</th>
                  <th scope="col">Verdict</th>
                </tr>
              </thead>
              <tbody>
                {results.ratioMetrics.map((c) => {
                  const { text, tone } = verdict(c)
                  return (
                    <tr key={`${c.modelId}:${c.metric}`}>
                      <td>{nameOf(c.modelId)}</td>
                      <td class="mono">{c.metric}</td>
                      <td class="num">{formatNumber(c.treatmentRatio)}</td>
                      <td class="num">{formatNumber(c.controlRatio)}</td>
                      <td class="num">{formatPercent(c.relativeLift)}</td>
                      <td>{range(c.relativeLiftInterval, true)}</td>
                      <td class="num">{formatNumber(c.pValue)}</td>
                      <td class="num">{formatNumber(c.adjustedPValue)}</td>
                      <td class={tone}>{text}</td>
                    </tr>
                  )
                })}
              </tbody>
            </table>
          </ScrollingTable>
        </>
      )}
      {caps.length > 0 && (
        <p data-testid="metric-caps">
          Values capped at recording:{" "}
          {caps.map(([metric, cap]) =>
            `${metric} to ${cap.lower === undefined ? "−∞" : formatNumber(cap.lower)} … ${formatNumber(cap.upper)}`
          ).join("; ")}
        </p>
      )}
    </>
  )
}
