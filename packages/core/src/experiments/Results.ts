/**
 * Experiment results and the decision rule, pure: per-variant summaries with confidence
 * intervals, Welch comparisons of each treatment with the control (Holm-adjusted across the
 * treatments, with an optional always-valid mSPRT p-value), the Bayesian view of the same
 * comparison (BayesianLift: chance to beat the control, risks, credible interval of the lift), the
 * sample-ratio-mismatch check, and one documented decision. Beside them, from paired summaries
 * (MetricAdjustments): CUPED-adjusted comparisons and ratio metrics. The response schema is here
 * too, next to what fills it.
 */
import { Schema, SchemaTransformation } from "effect"
import { ModelId } from "../registry/Model.js"
import { bayesianLift } from "../stats/BayesianLift.js"
import { studentT } from "../stats/Distributions.js"
import { chiSquareGoodnessOfFit, holmBonferroni, welchTTest } from "../stats/HypothesisTests.js"
import type { PairedSummary } from "../stats/PairedSummary.js"
import { StatsInputError } from "../stats/StatsError.js"
import { meanDifference, type Summary, variance } from "../stats/Summary.js"
import { currentWeights } from "./Assignment.js"
import {
  BanditWeights,
  type BayesianPrior,
  Decision,
  type Experiment,
  ExperimentId,
  ExperimentStatus,
  maximizes,
  MetricCap,
  MetricName,
  priorOf
} from "./Experiment.js"
import { ExposureDay, type PairKind, type SequentialPValue } from "./ExperimentStore.js"
import { covariateAdjustedComparisons, ratioComparisons } from "./MetricAdjustments.js"
import { controlIndex } from "./Variants.js"

/**
 * A computed statistic: a number, and in JSON a number or null. The arithmetic can give NaN or
 * ±Infinity (the mean of no values, an overflow), which JSON carries as null; the schema says so,
 * so the published contract describes what the server sends and a client reads null back as NaN.
 * Statistics that may be absent (sd, lifts, p-values) are nullable finite numbers instead: there,
 * a non-finite value arrives as null, "not available".
 */
export const Statistic = Schema.NullOr(Schema.Finite).pipe(
  Schema.decodeTo(
    Schema.Number,
    SchemaTransformation.transform({
      decode: (value) => value ?? Number.NaN,
      encode: (value) => (Number.isFinite(value) ? value : null)
    })
  )
)

export const ConfidenceInterval = Schema.Struct({ lower: Statistic, upper: Statistic })
export type ConfidenceInterval = typeof ConfidenceInterval.Type

/** One metric of one variant: size, mean, standard deviation and the mean's (1 - alpha) interval. */
export const MetricSummaryView = Schema.Struct({
  n: Schema.Int,
  mean: Statistic,
  /** Null below two values. */
  sd: Schema.NullOr(Schema.Finite),
  interval: Schema.NullOr(ConfidenceInterval),
  /** Present when the stored summary is not finite (then mean, sd and interval are null), saying why. */
  notComputable: Schema.optionalKey(Schema.String)
})
export type MetricSummaryView = typeof MetricSummaryView.Type

/**
 * The Bayesian comparison of a treatment with the control on the relative lift (gbstats' Gaussian
 * model, flat prior: BayesianLift). Lifts and risks are relative to the control mean (0.02 = 2%).
 */
export const BayesianComparison = Schema.Struct({
  /** Posterior probability that the treatment is better in the metric's goal direction. */
  chanceToBeatControl: Schema.Finite,
  /** Posterior mean of the relative lift. */
  expectedLift: Schema.Finite,
  /** Equal-tailed credible interval of the relative lift, mass 1 - alpha. */
  liftCredibleInterval: Schema.Struct({ lower: Schema.Finite, upper: Schema.Finite }),
  /** Expected loss (relative lift forgone or lost) of shipping the treatment, and of keeping the control. */
  riskOfChoosingTreatment: Schema.Finite,
  riskOfChoosingControl: Schema.Finite
})
export type BayesianComparison = typeof BayesianComparison.Type

/** A treatment against the control on one metric. */
export const Comparison = Schema.Struct({
  modelId: ModelId,
  metric: MetricName,
  difference: Statistic,
  differenceInterval: ConfidenceInterval,
  /** Null when the control mean is 0. */
  relativeLift: Schema.NullOr(Schema.Finite),
  relativeLiftInterval: Schema.NullOr(ConfidenceInterval),
  pValue: Statistic,
  /** Holm-adjusted across the treatments. */
  adjustedPValue: Statistic,
  /**
   * mSPRT always-valid p-value when the experiment is sequential: the smallest 1 / Λ over every
   * look at the results so far (stored per treatment and metric), so it never rises again.
   */
  sequentialPValue: Schema.NullOr(Schema.Finite),
  /** Null when the control mean is 0 or neither arm varies (no posterior of the relative lift). */
  bayesian: Schema.NullOr(BayesianComparison),
  /** Whether the treatment is better in the metric's goal direction, significantly. */
  significantlyBetter: Schema.Boolean,
  significantlyWorse: Schema.Boolean,
  /** Present when the statistics could not be computed (they are null then), saying why. */
  notComputable: Schema.optionalKey(Schema.String)
})
export type Comparison = typeof Comparison.Type

/**
 * A treatment against the control on one metric, CUPED-adjusted (MetricAdjustments): from the
 * observations that carried a covariate (the user's pre-experiment value). θ is the pooled
 * within-arm regression slope of the two arms compared; the estimate equals the coefficient of
 * the treatment in an OLS of the metric on the treatment and the centred covariate.
 */
export const CovariateAdjustedComparison = Schema.Struct({
  modelId: ModelId,
  metric: MetricName,
  /** Observations with a covariate in the treatment and in the control. */
  treatmentCount: Schema.Int,
  controlCount: Schema.Int,
  theta: Statistic,
  /** The adjusted difference of the means, with its (1 - alpha) interval (Welch on adjusted values). */
  difference: Statistic,
  differenceInterval: ConfidenceInterval,
  /** Relative to the control's unadjusted mean; null when it is 0. */
  relativeLift: Schema.NullOr(Schema.Finite),
  relativeLiftInterval: Schema.NullOr(ConfidenceInterval),
  pValue: Statistic,
  /** Holm-adjusted across the treatments. */
  adjustedPValue: Statistic,
  /** The same observations' difference without the adjustment. */
  unadjustedDifference: Statistic,
  /** 1 - adjusted variance / unadjusted variance of the difference (0.4 = 40% less). */
  varianceReduction: Statistic,
  significantlyBetter: Schema.Boolean,
  significantlyWorse: Schema.Boolean,
  notComputable: Schema.optionalKey(Schema.String)
})
export type CovariateAdjustedComparison = typeof CovariateAdjustedComparison.Type

/**
 * A ratio metric (observations that carried a denominator: Σ values / Σ denominators per arm), a
 * treatment against the control, with delta-method standard errors and a z-test.
 */
export const RatioComparison = Schema.Struct({
  modelId: ModelId,
  metric: MetricName,
  /** Observations with a denominator in the treatment and in the control. */
  treatmentCount: Schema.Int,
  controlCount: Schema.Int,
  treatmentRatio: Statistic,
  treatmentStandardError: Statistic,
  controlRatio: Statistic,
  controlStandardError: Statistic,
  difference: Statistic,
  differenceInterval: ConfidenceInterval,
  /** treatment / control - 1; null when the control's ratio is 0. */
  relativeLift: Schema.NullOr(Schema.Finite),
  relativeLiftInterval: Schema.NullOr(ConfidenceInterval),
  pValue: Statistic,
  /** Holm-adjusted across the treatments. */
  adjustedPValue: Statistic,
  significantlyBetter: Schema.Boolean,
  significantlyWorse: Schema.Boolean,
  notComputable: Schema.optionalKey(Schema.String)
})
export type RatioComparison = typeof RatioComparison.Type

export const VariantResults = Schema.Struct({
  modelId: ModelId,
  isControl: Schema.Boolean,
  trafficPct: Schema.Finite,
  /** Current share of traffic (bandit weight, or trafficPct / 100). */
  weight: Schema.Finite,
  exposures: Schema.Int,
  metrics: Schema.Record(Schema.String, MetricSummaryView)
})
export type VariantResults = typeof VariantResults.Type

/** Sample-ratio mismatch: chi-square of exposures against the current split (null before any exposure). */
export const SampleRatioCheck = Schema.Struct({ pValue: Schema.NullOr(Schema.Finite), detected: Schema.Boolean })
export type SampleRatioCheck = typeof SampleRatioCheck.Type

export const ExperimentResults = Schema.Struct({
  experimentId: ExperimentId,
  status: ExperimentStatus,
  targetMetric: MetricName,
  variants: Schema.Array(VariantResults),
  comparisons: Schema.Array(Comparison),
  /** Comparisons on the guardrail metrics. */
  guardrails: Schema.Array(Comparison),
  srm: SampleRatioCheck,
  banditHistory: Schema.Array(BanditWeights),
  /** Exposures per UTC day, oldest first: traffic over time (the newest MAX_EXPOSURE_DAYS days). */
  exposuresByDay: Schema.Array(ExposureDay),
  decision: Decision,
  /** CUPED-adjusted comparisons of every metric with covariates (the unadjusted ones stay above). */
  covariateAdjusted: Schema.Array(CovariateAdjustedComparison),
  /** Comparisons of every metric recorded with denominators, as a ratio metric. */
  ratioMetrics: Schema.Array(RatioComparison),
  /** The caps applied to values at recording (winsorization), per metric; empty when none. */
  metricCaps: Schema.Record(Schema.String, MetricCap)
})
export type ExperimentResults = typeof ExperimentResults.Type

/** Per variant index: exposures and one summary per metric (ExperimentStore's counters). */
export type VariantTotals = ReadonlyArray<
  & { readonly exposures: number; readonly metrics: Readonly<Record<string, Summary>> }
  & { readonly [K in PairKind]?: Readonly<Record<string, PairedSummary>> | undefined }
>

/** SRM is flagged below this p-value unless the server configures another. */
export const defaultSrmThreshold = 0.001

/**
 * mSPRT always-valid p-value for a difference in means (normal mixture, Johari et al. 2017):
 * 1 / Λ with Λ = sqrt(V / (V + τ²)) · exp(τ² θ² / (2V(V + τ²))), V the variance of the estimate
 * θ, and τ² = 0.01 × the pooled per-observation variance (an effect of 0.1 standard deviation).
 */
export const msprtPValue = (difference: number, estimateVariance: number, pooledVariance: number): number => {
  if (!(estimateVariance > 0)) return difference === 0 ? 1 : 0
  const tau2 = 0.01 * pooledVariance
  const v = estimateVariance
  let logLambda = 0.5 * Math.log(v / (v + tau2)) + (tau2 * difference * difference) / (2 * v * (v + tau2))
  if (Number.isNaN(logLambda)) {
    // Products of large variances overflow (Inf / Inf); the same term as a share of v + tau2 does not.
    logLambda = 0.5 * Math.log(v / (v + tau2)) + (tau2 / (v + tau2)) * ((difference * difference) / (2 * v))
  }
  return Math.min(1, Math.exp(-logLambda))
}

/** A metric summary as reported: intervals use Student's t at the experiment's alpha. */
export const summaryView = (s: Summary | undefined, alpha: number): MetricSummaryView => {
  if (!s || s.count === 0) return { n: 0, mean: Number.NaN, sd: null, interval: null }
  const problem = summaryProblem(s)
  if (problem !== undefined) return { n: s.count, mean: Number.NaN, sd: null, interval: null, notComputable: problem }
  if (s.count < 2) return { n: s.count, mean: s.mean, sd: null, interval: null }
  const sd = Math.sqrt(variance(s))
  const half = studentT(s.count - 1).quantileUpper(alpha / 2) * (sd / Math.sqrt(s.count))
  return { n: s.count, mean: s.mean, sd, interval: { lower: s.mean - half, upper: s.mean + half } }
}

/**
 * Why a stored summary cannot be used, if it cannot: values are bounded (MAX_VALUE_MAGNITUDE)
 * so new summaries stay finite, but one stored before the bound may hold Infinity or NaN.
 */
export const summaryProblem = (s: Summary): string | undefined =>
  Number.isFinite(s.count) && Number.isFinite(s.mean) && Number.isFinite(s.m2) && Number.isFinite(s.shift)
    && Number.isFinite(s.shiftedMean)
    ? undefined
    : "the stored summary is not finite (values beyond the accepted range were recorded)"

/** A comparison whose statistics could not be computed: all null, never significant, with the reason. */
const notComputable = (modelId: string, metric: string, reason: string): Comparison => {
  const none = { lower: Number.NaN, upper: Number.NaN }
  return {
    modelId,
    metric,
    difference: Number.NaN,
    differenceInterval: none,
    relativeLift: null,
    relativeLiftInterval: null,
    pValue: Number.NaN,
    adjustedPValue: Number.NaN,
    sequentialPValue: null,
    bayesian: null,
    significantlyBetter: false,
    significantlyWorse: false,
    notComputable: reason
  }
}

/**
 * The stored running minimum of the always-valid p-value of a variant on a metric, if any (the
 * earlier looks); undefined before the first look.
 */
export type StoredSequentialMinimum = (variant: number, metric: string) => number | undefined

const noEarlierLooks: StoredSequentialMinimum = () => undefined

/** The stored minima (ExperimentStore.sequentialPValues) as a lookup. */
export const sequentialMinimumLookup = (stored: ReadonlyArray<SequentialPValue>): StoredSequentialMinimum => {
  const byKey = new Map(stored.map((s) => [`${s.variant}\u0000${s.metric}`, s.pValue]))
  return (variant, metric) => byKey.get(`${variant}\u0000${metric}`)
}

/**
 * Welch test of one treatment against the control, plus the mSPRT p-value when sequential: 1 / Λ
 * now, or the earlier looks' minimum when that is smaller.
 */
const testTreatment = (
  sequential: boolean,
  alpha: number,
  maximize: boolean,
  treatment: Summary,
  control: Summary,
  earlierMinimum: number | undefined,
  prior: BayesianPrior | undefined
) => {
  const welch = welchTTest(treatment, control, { alpha })
  const bayesian = bayesianComparison(treatment, control, alpha, maximize, prior)
  if (!sequential) return { welch, bayesian, sequential: null }
  const vt = variance(treatment)
  const vc = variance(control)
  const pooled = ((treatment.count - 1) * vt + (control.count - 1) * vc) / (treatment.count + control.count - 2)
  const estimateVariance = vt / treatment.count + vc / control.count
  const now = msprtPValue(meanDifference(treatment, control), estimateVariance, pooled)
  return { welch, bayesian, sequential: earlierMinimum === undefined ? now : Math.min(now, earlierMinimum) }
}

/**
 * The Bayesian view of a treatment against the control (the experiment's prior of the metric, else
 * flat), or null when it has no posterior.
 */
const bayesianComparison = (
  treatment: Summary,
  control: Summary,
  alpha: number,
  maximize: boolean,
  prior: BayesianPrior | undefined
): BayesianComparison | null => {
  const moments = (s: Summary) => ({ n: s.count, mean: s.mean, variance: variance(s) })
  const liftPrior = prior === undefined ? undefined : { mean: prior.mean, variance: prior.stddev * prior.stddev }
  const lift = bayesianLift(moments(treatment), moments(control), { alpha, maximize, prior: liftPrior })
  if (typeof lift === "string") return null
  const { chanceToBeatControl, credibleInterval, expectedLift, riskOfChoosingControl, riskOfChoosingTreatment } = lift
  const values = [expectedLift, credibleInterval.lower, credibleInterval.upper, riskOfChoosingControl]
  // Summaries near the value bound can overflow the delta-method variance: then there is no view.
  if (![...values, riskOfChoosingTreatment].every(Number.isFinite)) return null
  return {
    chanceToBeatControl,
    expectedLift,
    liftCredibleInterval: credibleInterval,
    riskOfChoosingTreatment,
    riskOfChoosingControl
  }
}

/**
 * Every treatment with at least two values against the control on `metric`. Significance uses
 * the Holm-adjusted p-value, or the larger of it and the mSPRT p-value when sequential.
 */
export const compareToControl = (
  experiment:
    & Pick<Experiment, "variants" | "metricGoals" | "alpha" | "sequential">
    & Partial<Pick<Experiment, "bayesianPrior" | "metricPriors">>,
  totals: VariantTotals,
  metric: string,
  earlierLooks: StoredSequentialMinimum = noEarlierLooks
): Array<Comparison> => {
  const control = controlIndex(experiment)
  const controlSummary = metricOf(totals[control], metric)
  const skipped: Array<Comparison> = []
  const raw = experiment.variants.flatMap((v, i) => {
    const treatment = metricOf(totals[i], metric)
    if (i === control || !treatment || !controlSummary || treatment.count < 2 || controlSummary.count < 2) return []
    const problem = summaryProblem(treatment) ?? summaryProblem(controlSummary)
    const tested = problem === undefined
      ? tryTest(
        experiment,
        maximizes(experiment, metric),
        treatment,
        controlSummary,
        earlierLooks(i, metric),
        priorOf(experiment, metric)
      )
      : problem
    if (typeof tested === "string") {
      skipped.push(notComputable(v.modelId, metric, tested))
      return []
    }
    return [{ modelId: v.modelId, ...tested }]
  })
  const adjusted = raw.length > 0 ? holmBonferroni(raw.map((r) => r.welch.pValue)) : []
  return [...compared(experiment, metric, raw, adjusted), ...skipped]
}

/** A metric's summary in a variant's totals, reading own properties only (metric names are user input). */
export const metricOf = (totals: VariantTotals[number] | undefined, metric: string): Summary | undefined =>
  totals && Object.hasOwn(totals.metrics, metric) ? totals.metrics[metric] : undefined

/**
 * The tests of one treatment, or why they cannot be computed. Finite summaries of bounded values
 * always compute; this keeps a summary the bound did not cover (stored earlier) from failing the
 * whole results with a 500.
 */
const tryTest = (
  experiment: Pick<Experiment, "alpha" | "sequential">,
  maximize: boolean,
  treatment: Summary,
  control: Summary,
  earlierMinimum: number | undefined,
  prior: BayesianPrior | undefined
): ReturnType<typeof testTreatment> | string => {
  try {
    const tested = testTreatment(
      experiment.sequential,
      experiment.alpha,
      maximize,
      treatment,
      control,
      earlierMinimum,
      prior
    )
    if (Number.isNaN(tested.welch.pValue)) return "the test statistic is not a number for these summaries"
    // Finite means beyond the bound (stored before it) can still differ by more than a double holds.
    if (!Number.isFinite(tested.welch.difference)) return "the difference of the means is not finite"
    return tested
  } catch (error) {
    if (error instanceof StatsInputError) return `the test could not be computed (${error.message})`
    throw error
  }
}

/** The computed comparisons with their Holm-adjusted p-values and significance in the goal's direction. */
const compared = (
  experiment: Pick<Experiment, "metricGoals" | "alpha" | "sequential">,
  metric: string,
  raw: ReadonlyArray<{ readonly modelId: string } & ReturnType<typeof testTreatment>>,
  adjusted: ReadonlyArray<number>
): Array<Comparison> => {
  const maximize = maximizes(experiment, metric)
  return raw.map((r, k) => {
    const p = experiment.sequential ? Math.max(adjusted[k]!, r.sequential!) : adjusted[k]!
    const better = maximize ? r.welch.difference > 0 : r.welch.difference < 0
    return {
      modelId: r.modelId,
      metric,
      difference: r.welch.difference,
      differenceInterval: r.welch.differenceInterval,
      relativeLift: r.welch.relativeLift,
      relativeLiftInterval: r.welch.relativeLiftInterval,
      pValue: r.welch.pValue,
      adjustedPValue: adjusted[k]!,
      sequentialPValue: r.sequential,
      bayesian: r.bayesian,
      significantlyBetter: p < experiment.alpha && better,
      significantlyWorse: p < experiment.alpha && !better && r.welch.difference !== 0
    }
  })
}

/** Chi-square goodness of fit of the exposures against the expected shares (null before any exposure). */
export const sampleRatioMismatch = (
  exposures: ReadonlyArray<number>,
  weights: ReadonlyArray<number>,
  threshold: number
): SampleRatioCheck => {
  const total = exposures.reduce((a, b) => a + b, 0)
  // A share of 0 would make the statistic infinite for any stray exposure; a tiny share keeps it finite.
  const expectedShares = weights.map((w) => Math.max(w, 1e-12))
  const pValue = total > 0 && exposures.length >= 2 ? chiSquareGoodnessOfFit(exposures, expectedShares).pValue : null
  return { pValue, detected: pValue !== null && pValue < threshold }
}

/**
 * The decision, first rule that applies: too few samples of the target metric in some variant;
 * sample-ratio mismatch; the best significant winner breaks a guardrail; a winner (the largest
 * significant improvement); otherwise no significant difference.
 */
export const experimentDecision = (
  experiment: Pick<Experiment, "targetMetric" | "minSamplesPerVariant" | "alpha">,
  evidence: {
    /** Samples of the target metric per variant. */
    readonly counts: ReadonlyArray<number>
    readonly exposures: ReadonlyArray<number>
    readonly srm: SampleRatioCheck
    readonly srmThreshold: number
    readonly comparisons: ReadonlyArray<Comparison>
    readonly guardrails: ReadonlyArray<Comparison>
  }
): Decision => {
  const { alpha, minSamplesPerVariant, targetMetric } = experiment
  const { comparisons, counts, exposures, guardrails, srm } = evidence
  const best = comparisons.filter((c) => c.significantlyBetter)
    .sort((a, b) => Math.abs(b.difference) - Math.abs(a.difference))[0]
  if (counts.some((n) => n < minSamplesPerVariant)) {
    const reason = `every variant needs ${minSamplesPerVariant} samples of ${targetMetric}; have ${counts.join(", ")}`
    return { outcome: "insufficient_data", winnerModelId: null, reason }
  }
  if (srm.detected) {
    return {
      outcome: "srm_detected",
      winnerModelId: null,
      reason: `exposures ${exposures.join(", ")} do not match the configured split (chi-square p = ${
        srm.pValue!.toExponential(2)
      } < ${evidence.srmThreshold})`
    }
  }
  const broken = best
    ? guardrails.filter((g) => g.modelId === best.modelId && g.significantlyWorse).map((g) => g.metric)
    : []
  if (best && broken.length > 0) {
    const reason = `${best.modelId} wins on ${targetMetric} but is significantly worse on ${broken.join(", ")}`
    return { outcome: "guardrail_violated", winnerModelId: null, reason }
  }
  if (best) {
    const reason = `${best.modelId} is better on ${targetMetric} (adjusted p = ${
      best.adjustedPValue.toExponential(2)
    } < ${alpha})`
    return { outcome: "winner", winnerModelId: best.modelId, reason }
  }
  const reason = `no treatment differs significantly from the control on ${targetMetric} at alpha ${alpha}`
  return { outcome: "no_significant_difference", winnerModelId: null, reason }
}

/**
 * The always-valid p-values of a look, per treatment (variant index) and metric: what a sequential
 * experiment's store lowers its running minima with (ExperimentStore.lowerSequentialPValues).
 */
export const sequentialLooks = (
  experiment: Pick<Experiment, "variants">,
  results: Pick<ExperimentResults, "comparisons" | "guardrails">
): Array<SequentialPValue> =>
  [...results.comparisons, ...results.guardrails].flatMap((c) => {
    const variant = experiment.variants.findIndex((v) => v.modelId === c.modelId)
    return c.sequentialPValue === null || variant === -1
      ? []
      : [{ variant, metric: c.metric, pValue: c.sequentialPValue }]
  })

/**
 * Results and the decision, from an experiment and its counters (and its per-day exposures, shown
 * as they are); `earlierLooks` holds the running minima of the always-valid p-values so far.
 */
export const computeResults = (
  experiment: Experiment,
  totals: VariantTotals,
  settings: { readonly srmThreshold: number } = { srmThreshold: defaultSrmThreshold },
  exposuresByDay: ReadonlyArray<ExposureDay> = [],
  earlierLooks: StoredSequentialMinimum = noEarlierLooks
): ExperimentResults => {
  const weights = currentWeights(experiment)
  const variants = experiment.variants.map((v, i) => ({
    modelId: v.modelId,
    isControl: v.isControl,
    trafficPct: v.trafficPct,
    weight: weights[i]!,
    exposures: totals[i]?.exposures ?? 0,
    metrics: Object.fromEntries(
      Object.entries(totals[i]?.metrics ?? {}).map(([m, s]) => [m, summaryView(s, experiment.alpha)])
    )
  }))
  const comparisons = compareToControl(experiment, totals, experiment.targetMetric, earlierLooks)
  const guardrails = Object.entries(experiment.metricGoals)
    .filter(([m, g]) => g.guardrail && m !== experiment.targetMetric)
    .flatMap(([m]) => compareToControl(experiment, totals, m, earlierLooks))
  const exposures = variants.map((v) => v.exposures)
  const srm = sampleRatioMismatch(exposures, weights, settings.srmThreshold)
  const counts = experiment.variants.map((_, i) => metricOf(totals[i], experiment.targetMetric)?.count ?? 0)
  const decision = experimentDecision(experiment, {
    counts,
    exposures,
    srm,
    srmThreshold: settings.srmThreshold,
    comparisons,
    guardrails
  })
  return {
    experimentId: experiment.id,
    status: experiment.status,
    targetMetric: experiment.targetMetric,
    variants,
    comparisons,
    guardrails,
    srm,
    banditHistory: experiment.banditHistory,
    exposuresByDay,
    decision,
    covariateAdjusted: covariateAdjustedComparisons(experiment, totals),
    ratioMetrics: ratioComparisons(experiment, totals),
    metricCaps: experiment.metricCaps ?? {}
  }
}
