/**
 * Mergeable summary of paired values (x, y) per unit: count, both means, both M2 (sums of squared
 * deviations) and the co-moment Σ(x - x̄)(y - ȳ). It serves two analyses with one state: CUPED
 * (y the metric, x the unit's pre-experiment value of it) and ratio metrics (y the numerator, x the
 * denominator). Pairs fold in with the bivariate Welford update and summaries merge with Chan et
 * al.'s formula extended to the co-moment, so instances keep partial summaries and combine them in
 * any order. Like Summary, each mean is kept as a shift (the first value) plus the mean of the
 * shifted values, so values like 1e9 ± 0.01 keep their deviations.
 */
import { checkFinite, invalid } from "./StatsError.js"

export interface PairedSummary {
  readonly count: number
  readonly shiftX: number
  readonly shiftedMeanX: number
  readonly m2X: number
  readonly shiftY: number
  readonly shiftedMeanY: number
  readonly m2Y: number
  /** Σ (x - x̄)(y - ȳ). */
  readonly coMoment: number
}

export const emptyPairedSummary: PairedSummary = {
  count: 0,
  shiftX: 0,
  shiftedMeanX: 0,
  m2X: 0,
  shiftY: 0,
  shiftedMeanY: 0,
  m2Y: 0,
  coMoment: 0
}

export const addPair = (summary: PairedSummary, x: number, y: number): PairedSummary => {
  checkFinite(x, "x")
  checkFinite(y, "y")
  const first = summary.count === 0
  const shiftX = first ? x : summary.shiftX
  const shiftY = first ? y : summary.shiftY
  const count = summary.count + 1
  const deviationX = x - shiftX
  const deviationY = y - shiftY
  const deltaX = deviationX - summary.shiftedMeanX
  const deltaY = deviationY - summary.shiftedMeanY
  const shiftedMeanX = summary.shiftedMeanX + deltaX / count
  const shiftedMeanY = summary.shiftedMeanY + deltaY / count
  return {
    count,
    shiftX,
    shiftedMeanX,
    m2X: summary.m2X + deltaX * (deviationX - shiftedMeanX),
    shiftY,
    shiftedMeanY,
    m2Y: summary.m2Y + deltaY * (deviationY - shiftedMeanY),
    // The old mean of one, the new of the other: the exact one-pass co-moment update.
    coMoment: summary.coMoment + deltaX * (deviationY - shiftedMeanY)
  }
}

export const summarizePairs = (xs: ArrayLike<number>, ys: ArrayLike<number>): PairedSummary => {
  if (xs.length !== ys.length) invalid("ys", `must have as many values as xs (${xs.length}), got ${ys.length}`)
  let summary = emptyPairedSummary
  for (let i = 0; i < xs.length; i++) summary = addPair(summary, xs[i]!, ys[i]!)
  return summary
}

export const meanX = (s: PairedSummary): number => s.shiftX + s.shiftedMeanX
export const meanY = (s: PairedSummary): number => s.shiftY + s.shiftedMeanY

/** Differences of two summaries' means, from their shifts without rounding them away. */
export const meanDifferenceX = (a: PairedSummary, b: PairedSummary): number =>
  a.shiftX - b.shiftX + (a.shiftedMeanX - b.shiftedMeanX)
export const meanDifferenceY = (a: PairedSummary, b: PairedSummary): number =>
  a.shiftY - b.shiftY + (a.shiftedMeanY - b.shiftedMeanY)

/** Chan's pairwise merge with the co-moment term δx·δy·na·nb/n (b re-expressed around a's shifts). */
export const mergePairedSummaries = (a: PairedSummary, b: PairedSummary): PairedSummary => {
  if (a.count === 0) return b
  if (b.count === 0) return a
  const count = a.count + b.count
  const deltaX = meanDifferenceX(b, a)
  const deltaY = meanDifferenceY(b, a)
  const weight = (a.count * b.count) / count
  return {
    count,
    shiftX: a.shiftX,
    shiftedMeanX: a.shiftedMeanX + (deltaX * b.count) / count,
    m2X: a.m2X + b.m2X + deltaX * deltaX * weight,
    shiftY: a.shiftY,
    shiftedMeanY: a.shiftedMeanY + (deltaY * b.count) / count,
    m2Y: a.m2Y + b.m2Y + deltaY * deltaY * weight,
    coMoment: a.coMoment + b.coMoment + deltaX * deltaY * weight
  }
}

/** Sample variances and covariance (n - 1 denominator); need at least two pairs. */
const degreesOfFreedom = (s: PairedSummary) => {
  if (s.count < 2) invalid("summary.count", `needs at least 2 pairs for a variance, got ${s.count}`)
  return s.count - 1
}
export const varianceX = (s: PairedSummary): number => s.m2X / degreesOfFreedom(s)
export const varianceY = (s: PairedSummary): number => s.m2Y / degreesOfFreedom(s)
export const covariance = (s: PairedSummary): number => s.coMoment / degreesOfFreedom(s)
