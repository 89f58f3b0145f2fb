/**
 * Fisher's exact test (two-sided, as scipy's fisher_exact) of a binary feature: the table
 * [[window positives, window negatives], [baseline positives, baseline negatives]]. Exact at any
 * size, so it stays right for small windows and rare values where the z-test's normal
 * approximation does not. The statistic is the sample odds ratio (window over baseline), +∞
 * when a cell it divides by is empty. Absent for features that are not binary (see
 * BinaryCounts.ts). Reported per feature; it decides nothing yet.
 */
import { fisherExact } from "../../stats/FisherExact.js"
import { type BinaryCounts, categoricalBinaryCounts, numericBinaryCounts } from "./BinaryCounts.js"
import type { CategoricalDriftTest, NumericDriftTest, TestResult } from "./DriftTest.js"

const fisherTest = (counts: BinaryCounts | null): TestResult | null => {
  if (counts === null) return null
  const { baseline, current } = counts
  const result = fisherExact([
    [current.successes, current.trials - current.successes],
    [baseline.successes, baseline.trials - baseline.successes]
  ])
  return { statistic: result.oddsRatio, pValue: result.pValue }
}

export const numericFisherExactTest: NumericDriftTest = {
  name: "fisher-exact",
  role: "significance",
  appliesTo: "numeric",
  run: (baseline, values) => fisherTest(numericBinaryCounts(baseline, values))
}

export const categoricalFisherExactTest: CategoricalDriftTest = {
  name: "fisher-exact",
  role: "significance",
  appliesTo: "categorical",
  run: (baseline, counts) => fisherTest(categoricalBinaryCounts(baseline, counts))
}
