/**
 * Comparisons of a treatment with the control from paired summaries (PairedSummary): CUPED, the
 * metric adjusted by a pre-experiment covariate, and ratio metrics by the delta method.
 *
 * CUPED (Deng et al. 2013): θ is pooled over the two arms compared, within arms: θ = (C_t + C_c) /
 * (M2x_t + M2x_c), the slope of the regression of y on the treatment indicator and x (so the
 * estimate equals that OLS coefficient exactly). GrowthBook and Statsig pool the two arms too. The
 * estimate is Δȳ - θ·Δx̄; its variance is Welch's on the adjusted values y - θx of each arm (each
 * arm keeps its own variance), and the variance reduction is 1 - that / the unadjusted one.
 *
 * Ratio metrics: per arm R = ȳ / x̄ (y the numerator, x the denominator per unit), with the delta-
 * method variance (σ²y/μx² - 2μy·σxy/μx³ + μy²·σ²x/μx⁴) / n; arms are compared with a z-test.
 */
import { normal } from "./Distributions.js"
import { type Interval, type WelchResult, welchTTest } from "./HypothesisTests.js"
import {
  covariance,
  meanDifferenceX,
  meanDifferenceY,
  meanX,
  meanY,
  type PairedSummary,
  varianceX,
  varianceY
} from "./PairedSummary.js"
import { checkProbability, invalid } from "./StatsError.js"
import type { Summary } from "./Summary.js"

const standardNormal = normal()

export interface CupedResult extends WelchResult {
  /** The pooled within-arm regression slope of y on x. */
  readonly theta: number
  /** 1 - variance of the adjusted estimate / variance of the unadjusted difference (0.3 = 30% less). */
  readonly varianceReduction: number
  /** The difference of the unadjusted means, for reference. */
  readonly unadjustedDifference: number
}

/** An arm's adjusted values as a Summary around `mean`: only count, the mean and M2 matter to Welch. */
const adjustedArm = (s: PairedSummary, theta: number, shift: number, shiftedMean: number): Summary => ({
  count: s.count,
  mean: shift + shiftedMean,
  // Σ((y - ȳ) - θ(x - x̄))², never negative (rounding could make it so for perfectly correlated arms).
  m2: Math.max(0, s.m2Y - 2 * theta * s.coMoment + theta * theta * s.m2X),
  min: Number.NaN,
  max: Number.NaN,
  shift,
  shiftedMean
})

/**
 * CUPED comparison of treatment with control (x the covariate, y the metric), at least two pairs
 * per arm. Relative lifts are against the control's unadjusted mean.
 */
export const cupedTest = (
  treatment: PairedSummary,
  control: PairedSummary,
  options: { readonly alpha?: number } = {}
): CupedResult => {
  if (treatment.count < 2) invalid("treatment.count", `needs at least 2 pairs, got ${treatment.count}`)
  if (control.count < 2) invalid("control.count", `needs at least 2 pairs, got ${control.count}`)
  const m2X = treatment.m2X + control.m2X
  // A covariate constant within both arms explains nothing: no adjustment.
  const theta = m2X > 0 ? (treatment.coMoment + control.coMoment) / m2X : 0
  const unadjustedDifference = meanDifferenceY(treatment, control)
  const estimate = unadjustedDifference - theta * meanDifferenceX(treatment, control)
  const controlMean = meanY(control)
  const adjustedTreatment = adjustedArm(treatment, theta, controlMean, estimate)
  const adjustedControl = adjustedArm(control, theta, controlMean, 0)
  const welch = welchTTest(adjustedTreatment, adjustedControl, options)
  const armVariance = (s: Summary) => s.m2 / (s.count - 1) / s.count
  const adjustedVariance = armVariance(adjustedTreatment) + armVariance(adjustedControl)
  const unadjustedVariance = varianceY(treatment) / treatment.count + varianceY(control) / control.count
  return {
    ...welch,
    theta,
    varianceReduction: unadjustedVariance > 0 ? 1 - adjustedVariance / unadjustedVariance : 0,
    unadjustedDifference
  }
}

export interface RatioEstimate {
  readonly ratio: number
  /** Delta-method standard error of the ratio. */
  readonly standardError: number
}

/** An arm's ratio of means (y / x) and its delta-method standard error; needs x̄ ≠ 0 and two pairs. */
export const ratioEstimate = (s: PairedSummary): RatioEstimate => {
  const mx = meanX(s)
  if (!(mx !== 0)) invalid("denominator", "must have a nonzero mean")
  const my = meanY(s)
  const ratio = my / mx
  // (σ²y - 2Rσxy + R²σ²x) / (n μx²): the delta-method variance, written without fourth powers.
  const spread = varianceY(s) - 2 * ratio * covariance(s) + ratio * ratio * varianceX(s)
  return { ratio, standardError: Math.sqrt(Math.max(0, spread) / s.count) / Math.abs(mx) }
}

export interface RatioTestResult {
  readonly treatment: RatioEstimate
  readonly control: RatioEstimate
  readonly z: number
  /** Two-sided p-value of the z-test. */
  readonly pValue: number
  /** R_treatment - R_control and its normal (1 - alpha) interval. */
  readonly difference: number
  readonly differenceInterval: Interval
  /** R_treatment / R_control - 1 and its delta-method interval; null when R_control is 0. */
  readonly relativeLift: number | null
  readonly relativeLiftInterval: Interval | null
}

/** Delta-method z-test of the treatment's ratio against the control's. */
export const ratioTest = (
  treatment: PairedSummary,
  control: PairedSummary,
  options: { readonly alpha?: number } = {}
): RatioTestResult => {
  const alpha = options.alpha ?? 0.05
  checkProbability(alpha, "alpha", { open: true })
  const t = ratioEstimate(treatment)
  const c = ratioEstimate(control)
  const difference = t.ratio - c.ratio
  const se = Math.hypot(t.standardError, c.standardError)
  const z = se > 0 ? difference / se : difference === 0 ? 0 : Math.sign(difference) * Number.POSITIVE_INFINITY
  const pValue = se > 0 ? Math.min(1, 2 * standardNormal.sf(Math.abs(z))) : difference === 0 ? 1 : 0
  const critical = standardNormal.quantileUpper(alpha / 2)
  let relativeLift: number | null = null
  let relativeLiftInterval: Interval | null = null
  if (c.ratio !== 0) {
    relativeLift = t.ratio / c.ratio - 1
    const share = t.ratio / c.ratio
    const liftSe = Math.hypot(t.standardError, share * c.standardError) / Math.abs(c.ratio)
    relativeLiftInterval = { lower: relativeLift - critical * liftSe, upper: relativeLift + critical * liftSe }
  }
  return {
    treatment: t,
    control: c,
    z,
    pValue,
    difference,
    differenceInterval: { lower: difference - critical * se, upper: difference + critical * se },
    relativeLift,
    relativeLiftInterval
  }
}
