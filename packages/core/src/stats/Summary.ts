/**
 * Mergeable summary statistics: count, mean, M2 (sum of squared deviations), min and max.
 * Values fold in with Welford's update and summaries merge with Chan et al.'s formula, so
 * instances can keep partial summaries and combine them in any order.
 *
 * Accuracy for values like 1e9 ± 0.01: a double mean near 1e9 is only good to ~1e-7, which
 * would swamp deviations of 1e-2 (Welford alone loses ~1e-5 relative in the variance). So the
 * mean is kept as `shift` (the first value) plus `shiftedMean`, the mean of (x - shift): those
 * differences are exact for nearby values, and M2 and mean differences stay accurate. `mean` is
 * shift + shiftedMean, rounded, for readers.
 */
import { checkFinite, invalid } from "./StatsError.js"

export interface Summary {
  readonly count: number
  readonly mean: number
  readonly m2: number
  readonly min: number
  readonly max: number
  readonly shift: number
  readonly shiftedMean: number
}

export const emptySummary: Summary = {
  count: 0,
  mean: 0,
  m2: 0,
  min: Number.POSITIVE_INFINITY,
  max: Number.NEGATIVE_INFINITY,
  shift: 0,
  shiftedMean: 0
}

export const addValue = (summary: Summary, value: number): Summary => {
  checkFinite(value, "value")
  const shift = summary.count === 0 ? value : summary.shift
  const count = summary.count + 1
  const deviation = value - shift
  const delta = deviation - summary.shiftedMean
  const shiftedMean = summary.shiftedMean + delta / count
  return {
    count,
    mean: shift + shiftedMean,
    m2: summary.m2 + delta * (deviation - shiftedMean),
    min: Math.min(summary.min, value),
    max: Math.max(summary.max, value),
    shift,
    shiftedMean
  }
}

export const summarize = (values: ArrayLike<number>): Summary => {
  let summary = emptySummary
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) invalid(`values[${i}]`, `must be a finite number, got ${values[i]}`)
    summary = addValue(summary, values[i]!)
  }
  return summary
}

/** The difference of two summaries' means, computed from their shifts without rounding them away. */
export const meanDifference = (a: Summary, b: Summary): number => a.shift - b.shift + (a.shiftedMean - b.shiftedMean)

/** Chan, Golub & LeVeque's pairwise merge, on shifted means (b is re-expressed around a's shift). */
export const mergeSummaries = (a: Summary, b: Summary): Summary => {
  if (a.count === 0) return b
  if (b.count === 0) return a
  const count = a.count + b.count
  const delta = meanDifference(b, a)
  const shiftedMean = a.shiftedMean + (delta * b.count) / count
  const m2 = a.m2 + b.m2 + ((delta * delta * a.count) * b.count) / count
  return {
    count,
    mean: a.shift + shiftedMean,
    m2,
    min: Math.min(a.min, b.min),
    max: Math.max(a.max, b.max),
    shift: a.shift,
    shiftedMean
  }
}

/** Sample variance (n - 1 denominator); needs at least two values. */
export const variance = (summary: Summary): number => {
  if (summary.count < 2) invalid("summary.count", `needs at least 2 values for a variance, got ${summary.count}`)
  return summary.m2 / (summary.count - 1)
}

export const standardDeviation = (summary: Summary): number => Math.sqrt(variance(summary))
