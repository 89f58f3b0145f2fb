/**
 * Kullback-Leibler divergence KL(baseline ‖ current) = Σ base·ln(base / cur) over the bin
 * (numeric) or category shares, in nats: the direction Evidently uses (scipy's
 * entropy(reference, current)). An empty share would make it infinite, so empty shares on either
 * side are filled exactly as PSI fills them (emptyShareFill: 1e-4, or the smallest non-zero share
 * / 1e6 when that is <= 1e-4) and both sides renormalized to sum to 1. Reported per feature; it
 * decides nothing yet.
 */
import { klDivergence } from "../../stats/Divergence.js"
import { emptyShareFill } from "../../stats/Psi.js"
import { type BinnedShares, categoricalBinnedShares, numericBinnedShares } from "./BinnedShares.js"
import type { CategoricalDriftTest, NumericDriftTest, TestResult } from "./DriftTest.js"

const divergence = (shares: BinnedShares): TestResult => {
  const fill = emptyShareFill(shares.baseline, shares.current)
  const filled = (list: ReadonlyArray<number>) => list.map((share) => (share === 0 ? fill : share))
  return { statistic: klDivergence(filled(shares.baseline), filled(shares.current)) }
}

export const numericKlDivergenceTest: NumericDriftTest = {
  name: "kl-divergence",
  role: "distance",
  appliesTo: "numeric",
  run: (baseline, values) => divergence(numericBinnedShares(baseline, values))
}

export const categoricalKlDivergenceTest: CategoricalDriftTest = {
  name: "kl-divergence",
  role: "distance",
  appliesTo: "categorical",
  run: (baseline, counts) => divergence(categoricalBinnedShares(baseline, counts))
}
