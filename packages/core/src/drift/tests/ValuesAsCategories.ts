/**
 * A numeric feature with few distinct values (a flag, a rating, a count of 0-4) read as a
 * categorical one, each distinct value a category: how the automatic choice (DriftMethod.ts)
 * runs chi-square, the z-test, Fisher's test or Jensen-Shannon on it, as Evidently does for
 * numeric columns with at most 5 values. The baseline side is its stored reference sample.
 */
import type { CategoricalBaseline, NumericBaseline } from "../Baseline.js"

const countValues = (values: ReadonlyArray<number>): Record<string, number> => {
  const counts: Record<string, number> = Object.create(null)
  for (const v of values) {
    const key = String(v)
    counts[key] = (counts[key] ?? 0) + 1
  }
  return counts
}

export const numericAsCategorical = (
  baseline: NumericBaseline,
  values: ReadonlyArray<number>
): { readonly baseline: CategoricalBaseline; readonly counts: Record<string, number> } => ({
  baseline: {
    type: "categorical",
    version: baseline.version,
    createdAt: baseline.createdAt,
    count: baseline.sample.length,
    missingShare: baseline.missingShare,
    counts: countValues(baseline.sample)
  },
  counts: countValues(values)
})

/** How many distinct values the two samples hold together, counted up to `limit` (then `limit`). */
export const distinctValuesUpTo = (
  a: ReadonlyArray<number | string>,
  b: ReadonlyArray<number | string>,
  limit: number
): number => {
  const seen = new Set<number | string>()
  for (const list of [a, b]) {
    for (const v of list) {
      seen.add(v)
      if (seen.size >= limit) return limit
    }
  }
  return seen.size
}
