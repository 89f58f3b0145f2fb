/**
 * The 2 x 2 counts the binary tests (Z-test, Fisher's exact test) compare: how often a binary
 * feature takes its positive value in the window and in the baseline. A numeric feature is
 * binary when every baseline reference value and window value is 0 or 1 and both occur
 * (positive: 1); a categorical one when the baseline and the window together hold exactly two
 * categories (positive: the later one in sorted order). Any other feature is not binary (null),
 * and the binary tests are absent from its report.
 */
import type { CategoricalBaseline, NumericBaseline } from "../Baseline.js"
import { countOf } from "../Observations.js"

export interface Proportion {
  readonly successes: number
  readonly trials: number
}

export interface BinaryCounts {
  readonly current: Proportion
  readonly baseline: Proportion
}

/** How many values are 1, or null as soon as one is neither 0 nor 1. */
const countOnes = (values: ReadonlyArray<number>): number | null => {
  let ones = 0
  for (const v of values) {
    if (v === 1) ones++
    else if (v !== 0) return null
  }
  return ones
}

export const numericBinaryCounts = (baseline: NumericBaseline, values: ReadonlyArray<number>): BinaryCounts | null => {
  const baselineOnes = countOnes(baseline.sample)
  const currentOnes = baselineOnes === null ? null : countOnes(values)
  if (baselineOnes === null || currentOnes === null) return null
  const ones = baselineOnes + currentOnes
  if (ones === 0 || ones === baseline.sample.length + values.length) return null
  return {
    current: { successes: currentOnes, trials: values.length },
    baseline: { successes: baselineOnes, trials: baseline.sample.length }
  }
}

export const categoricalBinaryCounts = (
  baseline: CategoricalBaseline,
  counts: Readonly<Record<string, number>>
): BinaryCounts | null => {
  const present = (record: Readonly<Record<string, number>>) =>
    Object.keys(record).filter((c) => countOf(record, c) > 0)
  const categories = [...new Set([...present(baseline.counts), ...present(counts)])].sort()
  if (categories.length !== 2) return null
  const positive = categories[1]!
  const total = (record: Readonly<Record<string, number>>) => Object.values(record).reduce((sum, n) => sum + n, 0)
  return {
    current: { successes: countOf(counts, positive), trials: total(counts) },
    baseline: { successes: countOf(baseline.counts, positive), trials: total(baseline.counts) }
  }
}
