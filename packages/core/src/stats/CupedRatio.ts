/**
 * CUPED for ratio metrics (revenue per order, clicks per session), as Statsig and Eppo document
 * it: the numerator Y and the denominator D of each user are each regression-adjusted with their
 * own pre-experiment covariate (X_Y, X_D), Ỹ = Y − θ_Y (X_Y − x̄_Y) and D̃ = D − θ_D (X_D − x̄_D),
 * with x̄ the mean over both arms and each θ the within-arm pooled OLS slope (θ_Y = ΣC(Y, X_Y) /
 * ΣM2(X_Y) over the two arms, as the plain CUPED of PairedTests.ts pools it). Each arm's ratio is
 * mean(Ỹ) / mean(D̃), its variance the delta method's over the adjusted pair,
 * (s²_Ỹ − 2R s_ỸD̃ + R² s²_D̃) / (n D̃̄²), where every (co)variance of the adjusted values follows
 * from the arm's 4 × 4 co-moments of (Y, D, X_Y, X_D); the difference of the ratios gets a z-test.
 *
 * The arm summary (count, means, co-moments) merges like the other summaries (Chan's formula),
 * so it can be kept per variant and metric; recording it is not wired yet (README: CUPED, ratio
 * metrics and capping), this is the estimator and its summary.
 */
import { normal } from "./Distributions.js"

/** The variables of one user, in this order: numerator, denominator, their pre-experiment values. */
export type RatioRow = readonly [y: number, d: number, xY: number, xD: number]

/** One arm's summary of RatioRows: count, means and the co-moment matrix Σ (v_i − mean_i)(v_j − mean_j). */
export interface RatioMoments {
  readonly count: number
  readonly means: readonly [number, number, number, number]
  /** Row-major 4 × 4, symmetric. */
  readonly comoments: ReadonlyArray<number>
}

export const emptyRatioMoments: RatioMoments = { count: 0, means: [0, 0, 0, 0], comoments: Array(16).fill(0) }

/** Adds one row (Welford's update of the means and co-moments). */
export const addRatioRow = (s: RatioMoments, row: RatioRow): RatioMoments => {
  const count = s.count + 1
  const before = s.means.map((m, i) => row[i]! - m)
  const means = s.means.map((m, i) => m + before[i]! / count) as unknown as RatioMoments["means"]
  const after = means.map((m, i) => row[i]! - m)
  const comoments = s.comoments.map((c, k) => c + before[Math.floor(k / 4)]! * after[k % 4]!)
  return { count, means, comoments }
}

/** The summary of both (Chan et al.'s merge): equal to summarizing all rows at once. */
export const mergeRatioMoments = (a: RatioMoments, b: RatioMoments): RatioMoments => {
  if (a.count === 0) return b
  if (b.count === 0) return a
  const count = a.count + b.count
  const delta = b.means.map((m, i) => m - a.means[i]!)
  const means = a.means.map((m, i) => m + (delta[i]! * b.count) / count) as unknown as RatioMoments["means"]
  const weight = (a.count * b.count) / count
  const comoments = a.comoments.map((c, k) => c + b.comoments[k]! + delta[Math.floor(k / 4)]! * delta[k % 4]! * weight)
  return { count, means, comoments }
}

export const summarizeRatioRows = (rows: ReadonlyArray<RatioRow>): RatioMoments =>
  rows.reduce(addRatioRow, emptyRatioMoments)

export interface CupedRatioArm {
  readonly ratio: number
  readonly standardError: number
  /** The same arm's ratio and standard error without the adjustment. */
  readonly unadjustedRatio: number
  readonly unadjustedStandardError: number
}

export interface CupedRatioComparison {
  /** The pooled slopes of the numerator and denominator on their pre-experiment values. */
  readonly theta: { readonly numerator: number; readonly denominator: number }
  readonly control: CupedRatioArm
  readonly treatment: CupedRatioArm
  /** Treatment ratio − control ratio, adjusted, with its normal interval and two-sided z-test. */
  readonly difference: number
  readonly differenceInterval: { readonly lower: number; readonly upper: number }
  readonly pValue: number
  /** 1 − adjusted variance / unadjusted variance of the difference. */
  readonly varianceReduction: number
}

const Y = 0
const D = 1
const XY = 2
const XD = 3

/** The delta-method ratio and standard error of one arm from the (co)variances of its (numerator, denominator). */
const deltaRatio = (n: number, meanY: number, meanD: number, vYY: number, vYD: number, vDD: number) => {
  const ratio = meanY / meanD
  const variance = (vYY - 2 * ratio * vYD + ratio * ratio * vDD) / (n * meanD * meanD)
  return { ratio, standardError: Math.sqrt(Math.max(variance, 0)) }
}

/**
 * The adjusted comparison, or why there is none: an arm with fewer than two users, a covariate
 * without spread in both arms, or a denominator whose mean is 0.
 */
export const cupedRatioTest = (
  treatment: RatioMoments,
  control: RatioMoments,
  options: { readonly alpha: number }
): CupedRatioComparison | string => {
  if (treatment.count < 2 || control.count < 2) return "each arm needs at least two users"
  const pooled = (i: number, j: number) => treatment.comoments[i * 4 + j]! + control.comoments[i * 4 + j]!
  if (!(pooled(XY, XY) > 0) || !(pooled(XD, XD) > 0)) {
    return "a pre-experiment covariate does not vary, so it cannot adjust"
  }
  const thetaY = pooled(Y, XY) / pooled(XY, XY)
  const thetaD = pooled(D, XD) / pooled(XD, XD)
  const total = treatment.count + control.count
  const grand = (i: number) => (treatment.means[i]! * treatment.count + control.means[i]! * control.count) / total
  const [centreY, centreD] = [grand(XY), grand(XD)]
  const arm = (s: RatioMoments): CupedRatioArm | string => {
    const cov = (i: number, j: number) => s.comoments[i * 4 + j]! / (s.count - 1)
    const meanY = s.means[Y] - thetaY * (s.means[XY] - centreY)
    const meanD = s.means[D] - thetaD * (s.means[XD] - centreD)
    if (meanD === 0 || s.means[D] === 0) return "a denominator's mean is 0, so the ratio is undefined"
    // Cov(a − θa' , b − θb') expanded over the arm's (co)variances.
    const vYY = cov(Y, Y) - 2 * thetaY * cov(Y, XY) + thetaY * thetaY * cov(XY, XY)
    const vDD = cov(D, D) - 2 * thetaD * cov(D, XD) + thetaD * thetaD * cov(XD, XD)
    const vYD = cov(Y, D) - thetaD * cov(Y, XD) - thetaY * cov(XY, D) + thetaY * thetaD * cov(XY, XD)
    const adjusted = deltaRatio(s.count, meanY, meanD, vYY, vYD, vDD)
    const plain = deltaRatio(s.count, s.means[Y], s.means[D], cov(Y, Y), cov(Y, D), cov(D, D))
    return {
      ...adjusted,
      unadjustedRatio: plain.ratio,
      unadjustedStandardError: plain.standardError
    }
  }
  const [t, c] = [arm(treatment), arm(control)]
  if (typeof t === "string") return t
  if (typeof c === "string") return c
  const difference = t.ratio - c.ratio
  const se = Math.hypot(t.standardError, c.standardError)
  const plainSe = Math.hypot(t.unadjustedStandardError, c.unadjustedStandardError)
  const z = normal().quantileUpper(options.alpha / 2)
  const pValue = se > 0 ? 2 * normal().sf(Math.abs(difference) / se) : difference === 0 ? 1 : 0
  return {
    theta: { numerator: thetaY, denominator: thetaD },
    control: c,
    treatment: t,
    difference,
    differenceInterval: { lower: difference - z * se, upper: difference + z * se },
    pValue,
    varianceReduction: plainSe > 0 ? 1 - (se * se) / (plainSe * plainSe) : 0
  }
}
