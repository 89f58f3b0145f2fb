/**
 * The analyses of paired summaries, pure: CUPED-adjusted comparisons (observations that carried a
 * covariate) and ratio metrics (observations that carried a denominator), each treatment against
 * the control on every metric that has pairs, Holm-adjusted across the treatments like the
 * unadjusted comparisons. The statistics are stats/PairedTests; this file picks the summaries,
 * catches what cannot be computed and says why, and applies the goal's direction.
 */
import { holmBonferroni } from "../stats/HypothesisTests.js"
import type { PairedSummary } from "../stats/PairedSummary.js"
import { cupedTest, ratioTest } from "../stats/PairedTests.js"
import { StatsInputError } from "../stats/StatsError.js"
import { type Experiment, maximizes } from "./Experiment.js"
import type { PairKind } from "./ExperimentStore.js"
import type { CovariateAdjustedComparison, RatioComparison, VariantTotals } from "./Results.js"
import { controlIndex } from "./Variants.js"

type Settings = Pick<Experiment, "variants" | "alpha" | "metricGoals">

const pairsOf = (totals: VariantTotals[number] | undefined, kind: PairKind, metric: string) => {
  const byMetric = totals?.[kind]
  return byMetric !== undefined && Object.hasOwn(byMetric, metric) ? byMetric[metric] : undefined
}

/** Metric names with pairs of `kind` in the control, sorted (a stable order for readers and tests). */
const pairedMetrics = (experiment: Settings, totals: VariantTotals, kind: PairKind) =>
  Object.keys(totals[controlIndex(experiment)]?.[kind] ?? {}).sort()

/** A test's result, or why it could not be computed (too few pairs, a zero denominator, overflow). */
const attempt = <A>(run: () => A): A | string => {
  try {
    return run()
  } catch (error) {
    if (error instanceof StatsInputError) return `not computable (${error.message})`
    throw error
  }
}

interface Tested {
  readonly modelId: string
  readonly treatment: PairedSummary
  readonly control: PairedSummary
}

/**
 * Per metric with pairs: every treatment with pairs against the control, tested with `test`; the
 * Holm adjustment runs over the computed ones. `view` builds the reported comparison.
 */
const compareEachMetric = <R extends { readonly pValue: number; readonly difference: number }, C>(
  experiment: Settings,
  totals: VariantTotals,
  kind: PairKind,
  test: (treatment: PairedSummary, control: PairedSummary) => R,
  view: (
    arms: Tested,
    metric: string,
    result: R | string,
    adjustedPValue: number,
    verdict: { readonly better: boolean; readonly worse: boolean }
  ) => C
): Array<C> =>
  pairedMetrics(experiment, totals, kind).flatMap((metric) => {
    const control = pairsOf(totals[controlIndex(experiment)], kind, metric)!
    const arms = experiment.variants.flatMap((v, i) => {
      const treatment = i === controlIndex(experiment) ? undefined : pairsOf(totals[i], kind, metric)
      return treatment === undefined ? [] : [{ modelId: v.modelId, treatment, control }]
    })
    const results = arms.map((arm) => {
      const result = attempt(() => test(arm.treatment, arm.control))
      return typeof result === "string" || Number.isNaN(result.pValue) || !Number.isFinite(result.difference)
        ? typeof result === "string" ? result : "the statistics are not finite for these summaries"
        : result
    })
    const computed = results.flatMap((r) => (typeof r === "string" ? [] : [r.pValue]))
    const adjusted = computed.length > 0 ? holmBonferroni(computed) : []
    let next = 0
    const maximize = maximizes(experiment, metric)
    return arms.map((arm, k) => {
      const result = results[k]!
      if (typeof result === "string") {
        return view(arm, metric, result, Number.NaN, { better: false, worse: false })
      }
      const p = adjusted[next++]!
      const significant = p < experiment.alpha
      const better = maximize ? result.difference > 0 : result.difference < 0
      return view(arm, metric, result, p, {
        better: significant && better,
        worse: significant && !better && result.difference !== 0
      })
    })
  })

const none = { lower: Number.NaN, upper: Number.NaN }

/** CUPED-adjusted comparisons on every metric recorded with covariates. */
export const covariateAdjustedComparisons = (
  experiment: Settings,
  totals: VariantTotals
): Array<CovariateAdjustedComparison> =>
  compareEachMetric(
    experiment,
    totals,
    "covariatePairs",
    (t, c) => cupedTest(t, c, { alpha: experiment.alpha }),
    ({ control, modelId, treatment }, metric, r, adjustedPValue, verdict) => {
      const counts = { modelId, metric, treatmentCount: treatment.count, controlCount: control.count }
      if (typeof r === "string") {
        return {
          ...counts,
          theta: Number.NaN,
          difference: Number.NaN,
          differenceInterval: none,
          relativeLift: null,
          relativeLiftInterval: null,
          pValue: Number.NaN,
          adjustedPValue: Number.NaN,
          unadjustedDifference: Number.NaN,
          varianceReduction: Number.NaN,
          significantlyBetter: false,
          significantlyWorse: false,
          notComputable: r
        }
      }
      return {
        ...counts,
        theta: r.theta,
        difference: r.difference,
        differenceInterval: r.differenceInterval,
        relativeLift: r.relativeLift,
        relativeLiftInterval: r.relativeLiftInterval,
        pValue: r.pValue,
        adjustedPValue,
        unadjustedDifference: r.unadjustedDifference,
        varianceReduction: r.varianceReduction,
        significantlyBetter: verdict.better,
        significantlyWorse: verdict.worse
      }
    }
  )

/** Ratio-metric comparisons on every metric recorded with denominators. */
export const ratioComparisons = (experiment: Settings, totals: VariantTotals): Array<RatioComparison> =>
  compareEachMetric(
    experiment,
    totals,
    "denominatorPairs",
    (t, c) => ratioTest(t, c, { alpha: experiment.alpha }),
    ({ control, modelId, treatment }, metric, r, adjustedPValue, verdict) => {
      const counts = { modelId, metric, treatmentCount: treatment.count, controlCount: control.count }
      if (typeof r === "string") {
        return {
          ...counts,
          treatmentRatio: Number.NaN,
          treatmentStandardError: Number.NaN,
          controlRatio: Number.NaN,
          controlStandardError: Number.NaN,
          difference: Number.NaN,
          differenceInterval: none,
          relativeLift: null,
          relativeLiftInterval: null,
          pValue: Number.NaN,
          adjustedPValue: Number.NaN,
          significantlyBetter: false,
          significantlyWorse: false,
          notComputable: r
        }
      }
      return {
        ...counts,
        treatmentRatio: r.treatment.ratio,
        treatmentStandardError: r.treatment.standardError,
        controlRatio: r.control.ratio,
        controlStandardError: r.control.standardError,
        difference: r.difference,
        differenceInterval: r.differenceInterval,
        relativeLift: r.relativeLift,
        relativeLiftInterval: r.relativeLiftInterval,
        pValue: r.pValue,
        adjustedPValue,
        significantlyBetter: verdict.better,
        significantlyWorse: verdict.worse
      }
    }
  )
