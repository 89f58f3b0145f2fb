/**
 * Chi-square test of independence between the baseline's and the window's category counts
 * (2 x k table, no continuity correction): the significance test of categorical features. With
 * fewer than two categories in all there is nothing to compare, and the p-value is 1.
 */
import { chiSquareIndependence } from "../../stats/HypothesisTests.js"
import { countOf } from "../Observations.js"
import type { CategoricalDriftTest } from "./DriftTest.js"

export const chiSquareTest: CategoricalDriftTest = {
  name: "chi-square",
  role: "significance",
  appliesTo: "categorical",
  run: (baseline, counts) => {
    // Sorted like categoricalPsi's categories, so the sums run in the same order.
    const categories = [...new Set([...Object.keys(baseline.counts), ...Object.keys(counts)])].sort()
    if (categories.length < 2) return { statistic: 0, pValue: 1 }
    const table = [categories.map((c) => countOf(baseline.counts, c)), categories.map((c) => countOf(counts, c))]
    const result = chiSquareIndependence(table, { correction: false })
    return { statistic: result.statistic, pValue: result.pValue }
  }
}
