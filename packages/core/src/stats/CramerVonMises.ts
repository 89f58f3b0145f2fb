/**
 * The two-sample Cramér-von Mises test with scipy's semantics (scipy.stats.cramervonmises_2samp,
 * scipy 1.10): the statistic T from the pooled midranks (Anderson 1962); the p-value exact for
 * samples of at most 20 each (the frequency table of the rank statistic over all lattice paths,
 * Xiao, Gordon and Yakovlev 2006), else from the limiting distribution of the normalized
 * statistic (Csörgő and Faraway 1996), summed term by term until a term is below 1e-7 as scipy
 * does, so it shares that series' limits (a p-value far in the tail is only good to about 1e-7
 * absolute, and is 1 when the normalized statistic is below 0.003).
 */
import { besselK } from "./Bessel.js"
import { sortedSample } from "./EmpiricalCdf.js"
import { numpySum } from "./NumpySum.js"
import { logGamma } from "./Special.js"
import { invalid } from "./StatsError.js"

export type CvmMethod = "auto" | "exact" | "asymptotic"

export interface CvmResult {
  readonly statistic: number
  readonly pValue: number
  readonly method: "exact" | "asymptotic"
}

/** Python's float floor division (numpy's npy_divmod), which zeta below must match bit for bit. */
const floorDivide = (a: number, b: number): number => {
  const mod = a % b
  let div = (a - mod) / b
  if (mod !== 0 && (b < 0) !== (mod < 0)) div -= 1
  if (div === 0) return 0
  let floor = Math.floor(div)
  if (div - floor > 0.5) floor += 1
  return floor
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b))

/** Binomial coefficient C(n, k), exact while it stays below 2^53 (n <= 40 here). */
const choose = (n: number, k: number): number => {
  let c = 1
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i
  return Math.round(c)
}

/**
 * P(U >= u) for sizes m and n: every lattice path from (0, 0) to (n, m) adds (a·v - b·u)² at each
 * point it visits; the table counts paths by that sum (scipy's _pval_cvm_2samp_exact).
 */
const exactPValue = (u: number, m: number, n: number): number => {
  const lcm = (m / gcd(m, n)) * n
  const a = lcm / m
  const b = lcm / n
  const mn = m * n
  const zeta = floorDivide(lcm * lcm * (m + n) * (6 * u - mn * (4 * mn - 1)), 6 * mn * mn)
  // tables[v]: sum -> number of paths reaching (column, v) with that sum.
  let tables: Array<Map<number, number>> = Array.from({ length: m + 1 }, (_, v) => new Map(v === 0 ? [[0, 1]] : []))
  for (let column = 0; column <= n; column++) {
    const next: Array<Map<number, number>> = []
    let left = new Map<number, number>()
    for (let v = 0; v <= m; v++) {
      const merged = new Map(left)
      for (const [sum, count] of tables[v]!) merged.set(sum, (merged.get(sum) ?? 0) + count)
      const step = (a * v - b * column) ** 2
      const shifted = new Map<number, number>()
      for (const [sum, count] of merged) shifted.set(sum + step, count)
      next.push(shifted)
      left = shifted
    }
    tables = next
  }
  let atLeast = 0
  for (const [sum, count] of tables[m]!) if (sum >= zeta) atLeast += count
  return atLeast / choose(m + n, m)
}

/** The limiting CDF of the one-sample statistic (scipy's _cdf_cvm_inf), to scipy's 1e-7 term cutoff. */
export const cvmLimitingCdf = (x: number): number => {
  let total = 0
  for (let k = 0; k < 10_000; k++) {
    const scale = Math.exp(logGamma(k + 0.5) - logGamma(k + 1)) / (Math.PI ** 1.5 * Math.sqrt(x))
    const y = 4 * k + 1
    const q = (y * y) / (16 * x)
    const term = scale * Math.sqrt(y) * Math.exp(-q) * besselK(0.25, q)
    total += term
    if (Math.abs(term) < 1e-7) break
  }
  return total
}

/** Σ (rank_i - i)² over one sample's pooled midranks (ranks in order, i from 1), summed as numpy does. */
const squaredRankShifts = (ranks: Float64Array): number => {
  const shifts = new Float64Array(ranks.length)
  for (let i = 0; i < ranks.length; i++) {
    const d = ranks[i]! - (i + 1)
    shifts[i] = d * d
  }
  return numpySum(shifts)
}

/** Two-sample Cramér-von Mises test of samples already sorted ascending (each of at least 2 values). */
export const cramerVonMises2SampSorted = (
  x: Float64Array,
  y: Float64Array,
  options: { readonly method?: CvmMethod } = {}
): CvmResult => {
  const nx = x.length
  const ny = y.length
  if (nx < 2) invalid("x", "needs at least 2 values")
  if (ny < 2) invalid("y", "needs at least 2 values")
  const requested = options.method ?? "auto"
  if (requested !== "auto" && requested !== "exact" && requested !== "asymptotic") {
    invalid("method", `must be "auto", "exact" or "asymptotic", got ${String(requested)}`)
  }
  const method = requested === "auto" ? (Math.max(nx, ny) > 20 ? "asymptotic" : "exact") : requested
  // Midranks in the pooled sample: a run of ties from position start to end (exclusive) ranks (start + end + 1)/2.
  const rx = new Float64Array(nx)
  const ry = new Float64Array(ny)
  let i = 0
  let j = 0
  while (i < nx || j < ny) {
    const v = j >= ny || (i < nx && x[i]! <= y[j]!) ? x[i]! : y[j]!
    const start = i + j
    let i2 = i
    let j2 = j
    while (i2 < nx && x[i2] === v) i2++
    while (j2 < ny && y[j2] === v) j2++
    const rank = 0.5 * (start + i2 + j2 + 1)
    rx.fill(rank, i, i2)
    ry.fill(rank, j, j2)
    i = i2
    j = j2
  }
  let u = nx * squaredRankShifts(rx)
  u += ny * squaredRankShifts(ry)
  const k = nx * ny
  const N = nx + ny
  const statistic = u / (k * N) - (4 * k - 1) / (6 * N)
  if (method === "exact") return { statistic, pValue: exactPValue(u, nx, ny), method }
  const expected = (1 + 1 / N) / 6
  const variance = ((N + 1) * (4 * k * N - 3 * (nx * nx + ny * ny) - 2 * k)) / (45 * N * N * 4 * k)
  const normalized = 1 / 6 + (statistic - expected) / Math.sqrt(45 * variance)
  const pValue = normalized < 0.003 ? 1 : Math.max(0, 1 - cvmLimitingCdf(normalized))
  return { statistic, pValue, method }
}

/** Two-sample Cramér-von Mises test (scipy.stats.cramervonmises_2samp). */
export const cramerVonMises2Samp = (
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  options: { readonly method?: CvmMethod } = {}
): CvmResult => cramerVonMises2SampSorted(sortedSample(x, "x"), sortedSample(y, "y"), options)
