/**
 * Distances between two one-dimensional samples through their empirical CDFs U and V, with
 * scipy's semantics: the first Wasserstein distance ∫|U - V| (scipy.stats.wasserstein_distance)
 * and the energy distance √2·(∫(U - V)²)^½ (scipy.stats.energy_distance). Both walk the merged
 * sorted values once (O(n log n) for the sorts, linear after) and sum in numpy's order.
 */
import { sortedSample } from "./EmpiricalCdf.js"
import { numpySum } from "./NumpySum.js"

/** The integral of |U - V|^p over the merged values, before the p-th root (scipy's _cdf_distance terms). */
const cdfDifferenceIntegral = (u: Float64Array, v: Float64Array, power: 1 | 2): number => {
  const n = u.length
  const m = v.length
  const all = new Float64Array(n + m)
  for (let i = 0, j = 0, k = 0; k < n + m; k++) all[k] = j >= m || (i < n && u[i]! <= v[j]!) ? u[i++]! : v[j++]!
  const terms = new Float64Array(n + m - 1)
  let i = 0
  let j = 0
  for (let k = 0; k < terms.length; k++) {
    const x = all[k]!
    while (i < n && u[i]! <= x) i++
    while (j < m && v[j]! <= x) j++
    const difference = i / n - j / m
    const delta = all[k + 1]! - x
    terms[k] = power === 1 ? Math.abs(difference) * delta : difference * difference * delta
  }
  return numpySum(terms)
}

/** wasserstein_distance of two samples already sorted ascending. */
export const wassersteinDistanceSorted = (u: Float64Array, v: Float64Array): number => cdfDifferenceIntegral(u, v, 1)

/** energy_distance of two samples already sorted ascending. */
export const energyDistanceSorted = (u: Float64Array, v: Float64Array): number =>
  Math.SQRT2 * Math.sqrt(cdfDifferenceIntegral(u, v, 2))

/** The first Wasserstein (earth mover's) distance between two samples (scipy.stats.wasserstein_distance). */
export const wassersteinDistance = (u: ArrayLike<number>, v: ArrayLike<number>): number =>
  wassersteinDistanceSorted(sortedSample(u, "u"), sortedSample(v, "v"))

/** The energy distance between two samples (scipy.stats.energy_distance). */
export const energyDistance = (u: ArrayLike<number>, v: ArrayLike<number>): number =>
  energyDistanceSorted(sortedSample(u, "u"), sortedSample(v, "v"))
