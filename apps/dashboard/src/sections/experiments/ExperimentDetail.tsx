/**
 * One experiment: what it compares (variants by model name and version), where it stands (the
 * decision and its reason, a sample-ratio-mismatch warning), the evidence (per-variant summaries as
 * a forest plot, lift against the control with p-values), how traffic was split over time (re-splits
 * and bandit weights), and the lifecycle actions the signed-in role may take.
 */
import type { Experiment, ExperimentResults } from "@org/ml-sdk"
import { useCallback, useMemo, useRef } from "preact/hooks"
import { Badge } from "../../ui/Badge.js"
import { formatCount, formatNumber, formatPercent, formatTime } from "../../ui/format.js"
import { ErrorMessage, Loading } from "../../ui/States.js"
import { useResource } from "../../ui/useResource.js"
import { ExperimentActions } from "./ExperimentActions.js"
import { PairedResults } from "./PairedResults.js"
import "./experiments.css"
import { loadModelLabels, type ModelLabel, modelLabel, type ModelLabels } from "./modelLabels.js"
import {
  BanditWeightsChart,
  DailyExposuresChart,
  ExposuresChart,
  ForestPlot,
  LiftChart,
  TrafficSplitChart
} from "./ResultsCharts.js"
import { ScrollingTable } from "./ScrollingTable.js"

/** Results change as metrics arrive; a running experiment's page refreshes itself at this pace. */
const resultsPollMs = 15_000

export interface ExperimentPage {
  readonly experiment: Experiment
  readonly results: ExperimentResults
  readonly labels: ModelLabels
}

export const ExperimentDetail = ({ id }: { readonly id?: string }) => {
  const experimentId = id ?? ""
  // Names and versions never change, so the background refresh reads only models it has not seen;
  // an action clears the cache, since completing may promote a variant (its status badge changes).
  const labelCache = useRef(new Map<string, ModelLabel>())
  const [page, reload] = useResource(
    async (client): Promise<ExperimentPage> => {
      const [experiment, results] = await Promise.all([
        client.experiments.get(experimentId),
        client.experiments.getExperimentResults(experimentId)
      ])
      const labels = await loadModelLabels(client, experiment.variants.map((v) => v.modelId), labelCache.current)
      return { experiment, results, labels }
    },
    [experimentId],
    { pollMs: resultsPollMs }
  )
  const reloadAfterAction = useCallback(() => {
    labelCache.current.clear()
    reload()
  }, [reload])
  return (
    <section>
      <p>
        <a href="/experiments">← All experiments</a>
      </p>
      {page.kind === "loading"
        ? (
          <>
            <h1>Experiment {experimentId}</h1>
            <Loading label="Loading the experiment and its results" />
          </>
        )
        : page.kind === "error"
        ? (
          <>
            <h1>Experiment {experimentId}</h1>
            <ErrorMessage error={page.error} title={`Could not load experiment ${experimentId}`} />
          </>
        )
        : <ExperimentView page={page.value} reload={reloadAfterAction} />}
    </section>
  )
}

const ExperimentView = ({ page, reload }: { readonly page: ExperimentPage; readonly reload: () => void }) => {
  const { experiment, labels, results } = page
  const names = useMemo(() => experiment.variants.map((v) => modelLabel(labels, v.modelId)), [experiment, labels])
  return (
    <>
      <h1>
        {experiment.name} <Badge value={experiment.status} />
      </h1>
      <p class="muted">
        <span class="mono">{experiment.id}</span>
        {" · "}
        {experiment.mode === "bandit" ? "Thompson-sampling bandit" : "A/B test"} on{" "}
        <span class="mono">{experiment.targetMetric}</span> (
        {experiment.metricGoals[experiment.targetMetric]?.direction ?? "maximize"})
      </p>
      {experiment.description && <p>{experiment.description}</p>}
      <ExperimentActions experiment={experiment} results={results} names={names} reload={reload} />
      <DecisionCallout experiment={experiment} results={results} labels={labels} />
      <SrmCallout results={results} />
      <GuardrailCallout experiment={experiment} />
      <h2>Variants</h2>
      <VariantTable experiment={experiment} results={results} names={names} labels={labels} />
      <div class="exp-grid">
        <ForestPlot experiment={experiment} results={results} names={names} />
        <LiftChart experiment={experiment} results={results} names={names} />
      </div>
      <h2>Comparison with the control</h2>
      <ComparisonTable
        experiment={experiment}
        comparisons={results.comparisons}
        names={names}
        label={`Treatments against the control on ${experiment.targetMetric}`}
      />
      {results.guardrails.length > 0 && (
        <>
          <h2>Guardrails</h2>
          <ComparisonTable
            experiment={experiment}
            comparisons={results.guardrails}
            names={names}
            label="Treatments against the control on the guardrail metrics"
            showMetric
          />
        </>
      )}
      <PairedResults experiment={experiment} results={results} names={names} />
      <h2>Traffic</h2>
      <DailyExposuresChart results={results} names={names} />
      <div class="exp-grid">
        <ExposuresChart results={results} names={names} />
        <TrafficSplitChart experiment={experiment} names={names} />
      </div>
      {experiment.mode === "bandit" && <BanditWeightsChart experiment={experiment} names={names} />}
      <TrafficHistoryTable experiment={experiment} names={names} />
      <h2>Settings</h2>
      <Settings experiment={experiment} />
    </>
  )
}

const outcomeTone: Record<string, string> = {
  winner: "good",
  no_significant_difference: "",
  insufficient_data: "",
  srm_detected: "bad",
  guardrail_violated: "warn"
}

const DecisionCallout = (
  { experiment, labels, results }: {
    readonly experiment: Experiment
    readonly results: ExperimentResults
    readonly labels: ModelLabels | undefined
  }
) => {
  // A completed experiment keeps the decision it was completed with; otherwise this is what completing now gives.
  const decision = experiment.decision ?? results.decision
  const heading = experiment.decision ? "Decision" : "Decision if completed now"
  return (
    <div class={`exp-callout ${outcomeTone[decision.outcome] ?? ""}`} data-testid="decision">
      <strong>{heading}: {decision.outcome.replaceAll("_", " ")}</strong>
      {decision.winnerModelId && <p>Winner: {modelLabel(labels, decision.winnerModelId)}</p>}
      <p>{withModelNames(decision.reason, labels)}</p>
    </div>
  )
}

/** The server's reasons name models by id; shown with their names and versions. */
const withModelNames = (text: string, labels: ModelLabels | undefined) =>
  [...(labels?.keys() ?? [])].reduce((result, id) => result.replaceAll(id, modelLabel(labels, id)), text)

const SrmCallout = ({ results }: { readonly results: ExperimentResults }) =>
  results.srm.detected
    ? (
      <div class="exp-callout bad" role="alert" data-testid="srm-warning">
        <strong>Sample-ratio mismatch</strong>
        <p>
          Exposures do not match the traffic split (chi-square p ={" "}
          {formatNumber(results.srm.pValue)}). Assignment or logging is likely broken; the comparison below cannot be
          trusted until that is fixed.
        </p>
      </div>
    )
    : null

/** A safe rollout's automatic pause (SafeRollout.ts): which guardrail, which treatment, the evidence. */
const GuardrailCallout = ({ experiment }: { readonly experiment: ExperimentPage["experiment"] }) => {
  const pause = experiment.pausedByGuardrail
  if (experiment.status !== "paused" || pause === undefined) {
    return experiment.ramp && experiment.status === "running"
      ? (
        <p class="muted" data-testid="ramp-state">
          Ramp: coverage {formatNumber(experiment.coverage)} of steps{" "}
          {experiment.ramp.steps.map((s) => formatNumber(s)).join(" → ")}, every {experiment.ramp.intervalMinutes}{" "}
          minutes while the guardrails hold.
        </p>
      )
      : null
  }
  return (
    <div class="exp-callout bad" role="alert" data-testid="guardrail-paused">
      <strong>Paused by guardrail {pause.metric}</strong>
      <p>
        {pause.reason}. Everyone is served the control; start the experiment again to resume.
      </p>
    </div>
  )
}

const intervalText = (interval: { readonly lower: number | null; readonly upper: number | null } | null) =>
  interval === null || interval.lower === null || interval.upper === null
    ? "—"
    : `${formatNumber(interval.lower)} to ${formatNumber(interval.upper)}`

const VariantTable = (
  { experiment, labels, names, results }: {
    readonly experiment: Experiment
    readonly results: ExperimentResults
    readonly names: ReadonlyArray<string>
    readonly labels: ModelLabels | undefined
  }
) => {
  const level = formatPercent(1 - experiment.alpha, 0)
  return (
    <ScrollingTable label="Variants">
      <table aria-label={`Variants and their ${experiment.targetMetric}`} data-testid="variants">
        <thead>
          <tr>
            <th scope="col">Model</th>
            <th scope="col">Role</th>
            <th scope="col" class="num">Split</th>
            <th scope="col" class="num">Weight now</th>
            <th scope="col" class="num">Exposures</th>
            <th scope="col" class="num">n</th>
            <th scope="col" class="num">Mean</th>
            <th scope="col">{level} interval</th>
          </tr>
        </thead>
        <tbody>
          {results.variants.map((v, i) => {
            const summary = Object.hasOwn(v.metrics, results.targetMetric) ? v.metrics[results.targetMetric] : undefined
            const status = labels?.get(v.modelId)?.status
            return (
              <tr key={v.modelId}>
                <td>
                  <a href={`/models/${encodeURIComponent(v.modelId)}`}>{names[i]}</a>
                  {status && (
                    <>
                      {" "}
                      <Badge value={status} />
                    </>
                  )}
                  <div class="muted mono">{v.modelId}</div>
                </td>
                <td>{v.isControl ? "control" : "treatment"}</td>
                <td class="num">{formatNumber(v.trafficPct)}%</td>
                <td class="num">{formatPercent(v.weight)}</td>
                <td class="num">{formatCount(v.exposures)}</td>
                <td class="num">{formatCount(summary?.n ?? 0)}</td>
                <td class="num">{formatNumber(summary?.mean)}</td>
                <td>{summary?.notComputable ?? intervalText(summary?.interval ?? null)}</td>
              </tr>
            )
          })}
        </tbody>
      </table>
    </ScrollingTable>
  )
}

type ComparisonRow = ExperimentResults["comparisons"][number]

const verdict = (c: ComparisonRow) =>
  c.notComputable
    ? { text: `not computable: ${c.notComputable}`, tone: "" }
    : c.significantlyBetter
    ? { text: "significantly better", tone: "sig-better" }
    : c.significantlyWorse
    ? { text: "significantly worse", tone: "sig-worse" }
    : { text: "no significant difference", tone: "" }

const ComparisonTable = (
  { comparisons, experiment, label, names, showMetric = false }: {
    readonly experiment: Experiment
    readonly comparisons: ReadonlyArray<ComparisonRow>
    readonly names: ReadonlyArray<string>
    readonly label: string
    readonly showMetric?: boolean
  }
) => {
  if (comparisons.length === 0) {
    return (
      <p class="state empty">
        No comparison yet: the control and each treatment need at least two values of the metric.
      </p>
    )
  }
  const nameOf = (modelId: string) => names[experiment.variants.findIndex((v) => v.modelId === modelId)] ?? modelId
  return (
    <ScrollingTable label={label}>
      <table aria-label={label} data-testid={showMetric ? "guardrails" : "comparisons"}>
        <thead>
          <tr>
            <th scope="col">Treatment</th>
            {showMetric && <th scope="col">Metric</th>}
            <th scope="col" class="num">Difference</th>
            <th scope="col">Difference interval</th>
            <th scope="col" class="num">Lift</th>
            <th scope="col">Lift interval</th>
            <th scope="col" class="num">p-value</th>
            <th scope="col" class="num">Adjusted p</th>
            {experiment.sequential && <th scope="col" class="num">Always-valid p</th>}
            <th scope="col" class="num">Chance to beat control</th>
            <th scope="col" class="num">Risk of shipping</th>
            <th scope="col">Verdict</th>
          </tr>
        </thead>
        <tbody>
          {comparisons.map((c) => {
            const { text, tone } = verdict(c)
            return (
              <tr key={`${c.modelId}:${c.metric}`}>
                <td>{nameOf(c.modelId)}</td>
                {showMetric && <td class="mono">{c.metric}</td>}
                <td class="num">{formatNumber(c.difference)}</td>
                <td>{intervalText(c.differenceInterval)}</td>
                <td class="num">{formatPercent(c.relativeLift)}</td>
                <td>
                  {c.relativeLiftInterval
                    ? `${formatPercent(c.relativeLiftInterval.lower)} to ${formatPercent(c.relativeLiftInterval.upper)}`
                    : "—"}
                </td>
                <td class="num">{formatNumber(c.pValue)}</td>
                <td class="num">{formatNumber(c.adjustedPValue)}</td>
                {experiment.sequential && <td class="num">{formatNumber(c.sequentialPValue)}</td>}
                <td class="num">{formatPercent(c.bayesian?.chanceToBeatControl ?? null)}</td>
                <td class="num">{formatPercent(c.bayesian?.riskOfChoosingTreatment ?? null)}</td>
                <td class={tone}>{text}</td>
              </tr>
            )
          })}
        </tbody>
      </table>
    </ScrollingTable>
  )
}

const TrafficHistoryTable = (
  { experiment, names }: { readonly experiment: Experiment; readonly names: ReadonlyArray<string> }
) => (
  <details>
    <summary>Traffic split changes ({experiment.trafficHistory.length})</summary>
    <ScrollingTable label="Traffic split changes">
      <table aria-label="Traffic split changes">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">By</th>
            <th scope="col">Split</th>
          </tr>
        </thead>
        <tbody>
          {experiment.trafficHistory.map((change, k) => (
            <tr key={k}>
              <td>{formatTime(change.at)}</td>
              <td>{change.actor}{change.onBehalfOf ? ` for ${change.onBehalfOf}` : ""}</td>
              <td>
                {change.trafficPct.map((pct, i) => `${names[i] ?? `variant ${i}`}: ${formatNumber(pct)}%`).join(", ")}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollingTable>
  </details>
)

const Settings = ({ experiment }: { readonly experiment: Experiment }) => (
  <dl class="facts">
    <dt>Alpha</dt>
    <dd>{experiment.alpha}</dd>
    <dt>Sequential (always-valid p)</dt>
    <dd>{experiment.sequential ? "yes" : "no"}</dd>
    <dt>Minimum samples per variant</dt>
    <dd>{formatCount(experiment.minSamplesPerVariant)}</dd>
    <dt>Coverage</dt>
    <dd>{formatPercent(experiment.coverage, 0)}</dd>
    <dt>Sticky assignment</dt>
    <dd>{experiment.stickyAssignment ? "yes" : "no"}</dd>
    <dt>Metric goals</dt>
    <dd>
      {Object.entries(experiment.metricGoals).map(([metric, goal]) =>
        `${metric}: ${goal.direction}${goal.guardrail ? " (guardrail)" : ""}`
      ).join("; ")}
    </dd>
    <dt>Created</dt>
    <dd>{formatTime(experiment.createdAt)}</dd>
    <dt>Started</dt>
    <dd>{formatTime(experiment.startedAt)}</dd>
    <dt>Completed</dt>
    <dd>{formatTime(experiment.completedAt)}</dd>
  </dl>
)
