/**
 * The shares the binned distance tests (Jensen-Shannon, Kullback-Leibler, Hellinger) compare,
 * on the bins PSI uses: a numeric window is counted into the baseline's frozen PSI edges
 * (open-ended outer bins) and compared with the baseline's frozen shares; a categorical window's
 * category shares are compared with the baseline's over the categories of both, sorted.
 */
import { categoricalPsi, histogram } from "../../stats/Psi.js"
import type { CategoricalBaseline, NumericBaseline } from "../Baseline.js"

export interface BinnedShares {
  readonly baseline: ReadonlyArray<number>
  readonly current: ReadonlyArray<number>
}

export const numericBinnedShares = (baseline: NumericBaseline, values: ReadonlyArray<number>): BinnedShares => ({
  baseline: baseline.shares,
  current: histogram(values, baseline.edges).map((count) => count / values.length)
})

export const categoricalBinnedShares = (
  baseline: CategoricalBaseline,
  counts: Readonly<Record<string, number>>
): BinnedShares => {
  const { baselineShares, currentShares } = categoricalPsi(baseline.counts, counts)
  return { baseline: baselineShares, current: currentShares }
}
