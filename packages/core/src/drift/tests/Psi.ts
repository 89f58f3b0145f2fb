/**
 * Population Stability Index, the distance test of both feature types: numeric windows are
 * counted into the bins frozen with the baseline, categorical ones compared by category share.
 * Its value sets the severity band.
 */
import { categoricalPsi, psi } from "../../stats/Psi.js"
import type { CategoricalDriftTest, NumericDriftTest } from "./DriftTest.js"

export const numericPsiTest: NumericDriftTest = {
  name: "psi",
  role: "distance",
  appliesTo: "numeric",
  run: (baseline, values, settings) => {
    const result = psi({
      edges: baseline.edges,
      baselineShares: baseline.shares,
      baselineCount: baseline.count,
      strategy: settings.psiStrategy
    }, values)
    return {
      statistic: result.value,
      bins: {
        edges: result.edges,
        categories: null,
        baselineShares: result.baselineShares,
        currentShares: result.currentShares,
        unseenCategories: []
      }
    }
  }
}

export const categoricalPsiTest: CategoricalDriftTest = {
  name: "psi",
  role: "distance",
  appliesTo: "categorical",
  run: (baseline, counts) => {
    const result = categoricalPsi(baseline.counts, counts)
    return {
      statistic: result.value,
      bins: {
        edges: null,
        categories: result.categories,
        baselineShares: result.baselineShares,
        currentShares: result.currentShares,
        unseenCategories: result.unseenCategories
      }
    }
  }
}
