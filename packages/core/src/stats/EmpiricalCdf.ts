/**
 * Sorted samples and walks over two empirical distribution functions: the shared ground of the
 * two-sample statistics that look at whole distributions (Wasserstein, energy, Cramér-von Mises,
 * Anderson-Darling) and of the split PSI the severity rule uses.
 */
import { checkSample } from "./StatsError.js"

/**
 * A sorted copy (numeric order) of a validated sample. Input that is already sorted (baselines
 * store their sample sorted) is only copied, a linear pass instead of a sort.
 */
export const sortedSample = (values: ArrayLike<number>, field: string): Float64Array => {
  checkSample(values, field)
  const copy = Float64Array.from(values)
  for (let i = 1; i < copy.length; i++) if (copy[i]! < copy[i - 1]!) return copy.sort()
  return copy
}

export interface CdfGap {
  /** The point t where the two empirical CDFs differ most (KS's D = |aBelow - bBelow|). */
  readonly location: number
  /** Share of a and of b at or below t. */
  readonly aBelow: number
  readonly bBelow: number
}

/** The largest gap between the ECDFs of two sorted samples (the first such point on ties). */
export const largestCdfGap = (a: Float64Array, b: Float64Array): CdfGap => {
  const n1 = a.length
  const n2 = b.length
  let i = 0
  let j = 0
  let best: CdfGap = { location: Math.min(a[0]!, b[0]!), aBelow: 0, bBelow: 0 }
  let bestGap = -1
  while (i < n1 || j < n2) {
    const v = j >= n2 || (i < n1 && a[i]! <= b[j]!) ? a[i]! : b[j]!
    while (i < n1 && a[i]! <= v) i++
    while (j < n2 && b[j]! <= v) j++
    const gap = Math.abs(i / n1 - j / n2)
    if (gap > bestGap) {
      bestGap = gap
      best = { location: v, aBelow: i / n1, bBelow: j / n2 }
    }
  }
  return best
}
