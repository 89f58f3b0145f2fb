/**
 * Two-proportion z-test (pooled standard error, two-sided, as statsmodels' proportions_ztest) of
 * a binary feature's positive share in the window against the baseline's; the statistic is z,
 * positive when the positive value is more common now. Absent for features that are not binary
 * (see BinaryCounts.ts). Reported per feature; it decides nothing yet.
 */
import { twoProportionZTest } from "../../stats/HypothesisTests.js"
import { type BinaryCounts, categoricalBinaryCounts, numericBinaryCounts } from "./BinaryCounts.js"
import type { CategoricalDriftTest, NumericDriftTest, TestResult } from "./DriftTest.js"

const zTest = (counts: BinaryCounts | null): TestResult | null => {
  if (counts === null) return null
  const result = twoProportionZTest(counts.current, counts.baseline)
  return { statistic: result.z, pValue: result.pValue }
}

export const numericZTest: NumericDriftTest = {
  name: "z-test",
  role: "significance",
  appliesTo: "numeric",
  run: (baseline, values) => zTest(numericBinaryCounts(baseline, values))
}

export const categoricalZTest: CategoricalDriftTest = {
  name: "z-test",
  role: "significance",
  appliesTo: "categorical",
  run: (baseline, counts) => zTest(categoricalBinaryCounts(baseline, counts))
}
