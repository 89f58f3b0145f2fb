/**
 * Kolmogorov-Smirnov tests with scipy's semantics (scipy.stats.ks_2samp and ks_1samp, two-sided):
 * exact lattice-path p-values for small samples, the finite-n Kolmogorov distribution otherwise.
 */
import { normal } from "./Distributions.js"
import { sortedSample } from "./EmpiricalCdf.js"
import { kolmogn, kolmogorovSf } from "./Kolmogorov.js"
import { checkPositive, checkSample, invalid } from "./StatsError.js"

export type KsMethod = "auto" | "exact" | "asymp"

export interface KsResult {
  readonly statistic: number
  readonly pValue: number
  /** The method actually used (auto resolves to one of these; exact may fall back to asymp). */
  readonly method: "exact" | "asymp"
}

/** Rounds half to even, as numpy's round does. */
export const roundHalfEven = (x: number): number => {
  const floor = Math.floor(x)
  const diff = x - floor
  if (diff < 0.5) return floor
  if (diff > 0.5) return floor + 1
  return floor % 2 === 0 ? floor : floor + 1
}

const gcd = (a: number, b: number): number => {
  while (b) [a, b] = [b, a % b]
  return a
}

/** Proportion of lattice paths from (0,0) to (n,n) that leave the band |x - y| < h. */
const probOutsideSquare = (n: number, h: number): number => {
  let P = 0
  let k = Math.floor(n / h)
  while (k >= 0) {
    let p1 = 1
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1)
    P = p1 * (1 - P)
    k -= 1
  }
  return 2 * P
}

/** 1/k for k < size: the exact path's inner loop multiplies instead of dividing. */
const reciprocals = (size: number): Float64Array => {
  const table = new Float64Array(size)
  for (let k = 1; k < size; k++) table[k] = 1 / k
  return table
}

/**
 * Proportion of lattice paths from (0,0) to (m,n) that do not stay strictly inside
 * |x/m - y/n| < h/lcm(m,n), computed directly as 1 - p with Viehmann's stable recursion
 * (Hodges' inside method), as scipy does.
 *
 * Each column is the first-order recurrence val_j = a_j + b_j * val_(j-1), with
 * a_j = A_j * i/(i+j) and b_j = j/(i+j). Written as scipy writes it, every step waits for a
 * division on the previous step's result; here the reciprocals come from a table and two steps
 * are folded into one (val_(j+1) = a_(j+1) + b_(j+1)*a_j + b_(j+1)*b_j * val_(j-1)), which halves
 * the dependency chain. The terms are non-negative, so the reordering moves the result by a few
 * ulps, not more (the golden tests hold it to scipy's within 1e-10 relative).
 */
const outerProbInside = (m0: number, n0: number, g: number, h: number): number => {
  const m = Math.max(m0, n0)
  const n = Math.min(m0, n0)
  const mg = m / g
  const ng = n / g
  const recip = reciprocals(m + n + 2)
  let minj = 0
  let maxj = Math.min(Math.ceil(h / mg), n + 1)
  let curlen = maxj - minj
  const lenA = Math.min(2 * maxj + 2, n + 1)
  const A = new Float64Array(lenA).fill(1)
  for (let j = minj; j < maxj; j++) A[j] = 0
  for (let i = 1; i <= m; i++) {
    const lastminj = minj
    const lastlen = curlen
    minj = Math.max(Math.floor((ng * i - h) / mg) + 1, 0)
    minj = Math.min(minj, n)
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1)
    if (maxj <= minj) return 1
    const width = maxj - minj
    const shift = minj - lastminj
    let val = minj === 0 ? 0 : 1
    let jj = 0
    for (; jj + 1 < width; jj += 2) {
      const j = jj + minj
      const r1 = recip[i + j]!
      const r2 = recip[i + j + 1]!
      const a1 = A[jj + shift]! * (i * r1)
      const b1 = j * r1
      const a2 = A[jj + shift + 1]! * (i * r2)
      const b2 = (j + 1) * r2
      A[jj] = a1 + b1 * val
      val = (a2 + b2 * a1) + (b2 * b1) * val
      A[jj + 1] = val
    }
    if (jj < width) {
      const j = jj + minj
      const r = recip[i + j]!
      val = A[jj + shift]! * (i * r) + val * (j * r)
      A[jj] = val
    }
    curlen = width
    if (lastlen > curlen) A.fill(1, width, width + (lastlen - curlen))
  }
  return A[maxj - minj - 1]!
}

/** Survival function of the two-sided one-sample KS statistic for sample size n (scipy's kstwo.sf). */
export const kstwoSf = (d: number, n: number): number => {
  if (!(Number.isInteger(n) && n > 0)) invalid("n", `must be a positive integer, got ${n}`)
  if (Number.isNaN(d)) invalid("d", "must be a number, got NaN")
  return kolmogn(n, d, false)
}

export const kstwoCdf = (d: number, n: number): number => {
  if (!(Number.isInteger(n) && n > 0)) invalid("n", `must be a positive integer, got ${n}`)
  if (Number.isNaN(d)) invalid("d", "must be a number, got NaN")
  return kolmogn(n, d, true)
}

/** Survival function of the limiting distribution of √n·D (scipy's kstwobign.sf). */
export const kolmogorovSurvival = (y: number): number => {
  if (Number.isNaN(y)) invalid("y", "must be a number, got NaN")
  return kolmogorovSf(y)
}

/** The two-sided KS statistic of two sorted samples, evaluated at every observation (ties exact). */
const twoSampleStatistic = (a: Float64Array, b: Float64Array): number => {
  const n1 = a.length
  const n2 = b.length
  let i = 0
  let j = 0
  let maxS = Number.NEGATIVE_INFINITY
  let minS = Number.POSITIVE_INFINITY
  while (i < n1 || j < n2) {
    // Advance past every copy of the next value in either sample, then compare the ECDFs there.
    const v = j >= n2 || (i < n1 && a[i]! <= b[j]!) ? a[i]! : b[j]!
    while (i < n1 && a[i]! <= v) i++
    while (j < n2 && b[j]! <= v) j++
    const diff = i / n1 - j / n2
    if (diff > maxS) maxS = diff
    if (diff < minS) minS = diff
  }
  const minClipped = Math.min(1, Math.max(0, -minS))
  return minClipped > maxS ? minClipped : maxS
}

/** Two-sample, two-sided Kolmogorov-Smirnov test (scipy.stats.ks_2samp semantics). */
export const ks2Samp = (
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  options: { readonly method?: KsMethod } = {}
): KsResult => {
  const method = options.method ?? "auto"
  if (method !== "auto" && method !== "exact" && method !== "asymp") {
    invalid("method", `must be "auto", "exact" or "asymp", got ${String(method)}`)
  }
  // A sample already in order (a stored baseline's) is only copied.
  const data1 = sortedSample(a, "a")
  const data2 = sortedSample(b, "b")
  const n1 = data1.length
  const n2 = data2.length
  let d = twoSampleStatistic(data1, data2)
  const g = gcd(n1, n2)
  const n1g = n1 / g
  const n2g = n2 / g
  let mode: "exact" | "asymp" = method === "auto" ? (Math.max(n1, n2) <= 10000 ? "exact" : "asymp") : method
  if (mode === "exact" && n1g >= 2147483647 / n2g) mode = "asymp"
  if (mode === "exact") {
    const lcm = n1g * n2
    const h = roundHalfEven(d * lcm)
    d = h / lcm
    if (h === 0) return { statistic: d, pValue: 1, method: "exact" }
    const prob = n1 === n2 ? probOutsideSquare(n1, h) : outerProbInside(n1, n2, g, h)
    if (prob >= 0 && prob <= 1) return { statistic: d, pValue: prob, method: "exact" }
    mode = "asymp"
  }
  const m = Math.max(n1, n2)
  const n = Math.min(n1, n2)
  const en = (m * n) / (m + n)
  const pValue = Math.min(1, Math.max(0, kolmogn(roundHalfEven(en), d, false)))
  return { statistic: d, pValue, method: "asymp" }
}

export type Ks1Reference =
  | { readonly distribution: "normal"; readonly mean?: number; readonly sd?: number }
  | { readonly distribution: "uniform"; readonly low?: number; readonly high?: number }

/**
 * One-sample, two-sided KS test of `sample` against a normal or uniform distribution
 * (scipy.stats.ks_1samp semantics: "auto" and "exact" use kstwo, "asymp" the limiting
 * Kolmogorov distribution).
 */
export const ks1Samp = (
  sample: ArrayLike<number>,
  reference: Ks1Reference,
  options: { readonly method?: KsMethod } = {}
): KsResult => {
  checkSample(sample, "sample")
  let cdf: (x: number) => number
  if (reference.distribution === "normal") {
    cdf = normal(reference.mean ?? 0, reference.sd ?? 1).cdf
  } else if (reference.distribution === "uniform") {
    const low = reference.low ?? 0
    const scale = (reference.high ?? 1) - low
    checkPositive(scale, "high - low")
    cdf = (x) => Math.min(1, Math.max(0, (x - low) / scale))
  } else {
    return invalid("reference.distribution", `must be "normal" or "uniform"`)
  }
  const x = Float64Array.from(sample).sort()
  const n = x.length
  let dPlus = Number.NEGATIVE_INFINITY
  let dMinus = Number.NEGATIVE_INFINITY
  for (let i = 0; i < n; i++) {
    const c = cdf(x[i]!)
    dPlus = Math.max(dPlus, (i + 1) / n - c)
    dMinus = Math.max(dMinus, c - i / n)
  }
  const statistic = dPlus > dMinus ? dPlus : dMinus
  const method = options.method === "asymp" ? "asymp" : "exact"
  const pValue = method === "exact" ? kolmogn(n, statistic, false) : kolmogorovSf(statistic * Math.sqrt(n))
  return { statistic, pValue: Math.min(1, Math.max(0, pValue)), method }
}
