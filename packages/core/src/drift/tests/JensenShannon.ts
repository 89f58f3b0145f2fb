/**
 * Jensen-Shannon distance between the baseline's and the window's bin (numeric) or category
 * shares, in base 2 as Evidently computes it (scipy's jensenshannon with base=2), so it lies in
 * [0, 1]. It is finite with empty bins, so shares are compared as they are (no filling).
 * Reported per feature; it decides nothing yet.
 */
import { jensenShannonDistance } from "../../stats/Divergence.js"
import { type BinnedShares, categoricalBinnedShares, numericBinnedShares } from "./BinnedShares.js"
import type { CategoricalDriftTest, NumericDriftTest, TestResult } from "./DriftTest.js"

const distance = (shares: BinnedShares): TestResult => ({
  statistic: jensenShannonDistance(shares.baseline, shares.current, { base: 2 })
})

export const numericJensenShannonTest: NumericDriftTest = {
  name: "jensen-shannon",
  role: "distance",
  appliesTo: "numeric",
  run: (baseline, values) => distance(numericBinnedShares(baseline, values))
}

export const categoricalJensenShannonTest: CategoricalDriftTest = {
  name: "jensen-shannon",
  role: "distance",
  appliesTo: "categorical",
  run: (baseline, counts) => distance(categoricalBinnedShares(baseline, counts))
}
