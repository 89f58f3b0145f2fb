/**
 * A check's monitor-level results beside its features: the multivariate detectors (each one's
 * statistic against its limit, and its verdict) and CBPE's label-free performance estimate (each
 * metric with its band and alert level). Each is shown only for monitors that enable it.
 */
import type { DriftReport } from "@org/ml-sdk"
import { Badge } from "../../ui/Badge.js"
import { formatCount, formatNumber } from "../../ui/format.js"
import { Empty } from "../../ui/States.js"

type Multivariate = NonNullable<DriftReport["multivariate"]>
type Performance = NonNullable<DriftReport["performance"]>

const Verdict = ({ drifted }: { readonly drifted: boolean }) => <Badge value={drifted ? "drifted" : "none"} />

export const MultivariateResult = ({ check }: { readonly check: Multivariate }) => {
  if (check.untested !== null) return <Empty>Not tested: {check.untested}</Empty>
  const { domainClassifier: dc, pca } = check
  return (
    <div class="table-wrap">
      <table data-testid="multivariate">
        <caption class="muted drift-caption">
          {formatCount(check.windowRows)} window rows against {formatCount(check.baselineRows)} baseline rows; verdict
          {" "}
          <Verdict drifted={check.drifted} />
        </caption>
        <thead>
          <tr>
            <th scope="col">Detector</th>
            <th scope="col" class="num">Statistic</th>
            <th scope="col">Drifts when</th>
            <th scope="col">Verdict</th>
          </tr>
        </thead>
        <tbody>
          {dc !== null && (
            <tr data-detector="domain-classifier">
              <th scope="row">Domain classifier (ROC AUC)</th>
              <td class="num">{formatNumber(dc.auc)}</td>
              <td>
                permutation p {formatNumber(dc.pValue)} &lt; {dc.pValueThreshold} ({formatCount(dc.permutations)}{" "}
                permutations)
              </td>
              <td>
                <Verdict drifted={dc.drifted} />
              </td>
            </tr>
          )}
          {pca !== null && (
            <tr data-detector="pca">
              <th scope="row">
                PCA reconstruction error ({pca.components} component{pca.components === 1 ? "" : "s"})
              </th>
              <td class="num">{formatNumber(pca.reconstructionError)}</td>
              <td>outside [{formatNumber(pca.lower)}, {formatNumber(pca.upper)}]</td>
              <td>
                <Verdict drifted={pca.drifted} />
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  )
}

const statusText: Record<Performance["status"], string> = {
  estimated: "estimated",
  "no-baseline": "no baseline for the prediction yet",
  "too-few-values": "too few values in the window",
  "not-probabilities": "the prediction's values are not probabilities in [0, 1]"
}

export const PerformanceEstimate = ({ report }: { readonly report: Performance }) => {
  if (report.status !== "estimated") return <Empty>Not estimated: {statusText[report.status]}.</Empty>
  return (
    <div class="table-wrap">
      <table data-testid="performance">
        <caption class="muted drift-caption">
          From {report.feature} over {formatCount(report.rows)} predictions (threshold{" "}
          {report.threshold}), without labels; band: estimate ± 3 standard errors
        </caption>
        <thead>
          <tr>
            <th scope="col">Metric</th>
            <th scope="col" class="num">Estimate</th>
            <th scope="col" class="num">Band</th>
            <th scope="col" class="num">Alert below</th>
            <th scope="col">State</th>
          </tr>
        </thead>
        <tbody>
          {report.metrics.map((m) => (
            <tr key={m.metric} data-metric={m.metric}>
              <th scope="row">{m.metric}</th>
              <td class="num">{formatNumber(m.estimate)}</td>
              <td class="num">{formatNumber(m.lower)} – {formatNumber(m.upper)}</td>
              <td class="num">{formatNumber(m.alertBelow)}</td>
              <td>{m.alert ? <Badge value="alerting" /> : <Badge value="ok" />}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}
