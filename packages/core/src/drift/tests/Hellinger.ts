/**
 * Hellinger distance between the baseline's and the window's bin (numeric) or category shares,
 * in [0, 1]. It is finite with empty bins, so shares are compared as they are (no filling), as
 * Evidently does. Reported per feature; it decides nothing yet.
 */
import { hellingerDistance } from "../../stats/Divergence.js"
import { type BinnedShares, categoricalBinnedShares, numericBinnedShares } from "./BinnedShares.js"
import type { CategoricalDriftTest, NumericDriftTest, TestResult } from "./DriftTest.js"

const distance = (shares: BinnedShares): TestResult => ({
  statistic: hellingerDistance(shares.baseline, shares.current)
})

export const numericHellingerTest: NumericDriftTest = {
  name: "hellinger",
  role: "distance",
  appliesTo: "numeric",
  run: (baseline, values) => distance(numericBinnedShares(baseline, values))
}

export const categoricalHellingerTest: CategoricalDriftTest = {
  name: "hellinger",
  role: "distance",
  appliesTo: "categorical",
  run: (baseline, counts) => distance(categoricalBinnedShares(baseline, counts))
}
