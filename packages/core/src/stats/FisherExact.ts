/**
 * Fisher's exact test of a 2 x 2 table, two-sided, as scipy.stats.fisher_exact: conditional on
 * the margins, the count in the top-left cell is hypergeometric, and the p-value is the total
 * probability of the tables no more likely than the observed one. Exact at any size, so it is
 * the test of choice where a z-test's normal approximation is poor (few observations or rare
 * outcomes).
 */
import { logBeta } from "./Special.js"
import { checkCount } from "./StatsError.js"

export interface FisherExactResult {
  /**
   * The sample odds ratio (a·d) / (b·c), as scipy reports it: +∞ when b or c is 0, NaN when a
   * row or column of the table is empty.
   */
  readonly oddsRatio: number
  readonly pValue: number
}

/**
 * Tables whose probability is within this factor of the observed one count as equally likely
 * (R's fisher.test uses the same 1e-7; scipy 1e-14), so that exact ties computed with rounding
 * still count.
 */
const tieTolerance = 1 + 1e-7

/** Below this probability relative to the most likely table, the linear-scale sums lose digits. */
const linearFloor = 1e-250

/** ln C(n, k) through the log of the beta function, accurate for large n. */
const logChoose = (n: number, k: number): number =>
  k === 0 || k === n ? 0 : -Math.log(n + 1) - logBeta(n - k + 1, k + 1)

/** Two-sided Fisher's exact test of [[a, b], [c, d]] (counts). */
export const fisherExact = (
  table: readonly [readonly [number, number], readonly [number, number]]
): FisherExactResult => {
  const [[a, b], [c, d]] = table
  checkCount(a, "table[0][0]")
  checkCount(b, "table[0][1]")
  checkCount(c, "table[1][0]")
  checkCount(d, "table[1][1]")
  const row1 = a + b
  const row2 = c + d
  const column1 = a + c
  const total = row1 + row2
  if (row1 === 0 || row2 === 0 || column1 === 0 || b + d === 0) return { oddsRatio: Number.NaN, pValue: 1 }
  const oddsRatio = b > 0 && c > 0 ? (a * d) / (b * c) : Number.POSITIVE_INFINITY

  // The top-left count x ranges over [low, high]; pmf(x) ∝ C(row1, x)·C(row2, column1 − x).
  const low = Math.max(0, column1 - row2)
  const high = Math.min(row1, column1)
  const mode = Math.min(high, Math.max(low, Math.floor(((column1 + 1) * (row1 + 1)) / (total + 2))))
  // Probabilities relative to the mode's, by the ratio of neighbouring terms: one rounding per step.
  const relative = new Float64Array(high - low + 1)
  relative[mode - low] = 1
  for (let x = mode; x < high; x++) {
    relative[x + 1 - low] = (relative[x - low]! * ((row1 - x) * (column1 - x))) / ((x + 1) * (row2 - column1 + x + 1))
  }
  for (let x = mode; x > low; x--) {
    relative[x - 1 - low] = (relative[x - low]! * (x * (row2 - column1 + x))) / ((row1 - x + 1) * (column1 - x + 1))
  }
  const observed = relative[a - low]!
  if (observed >= linearFloor) {
    const bound = observed * tieTolerance
    let sum = 0
    let tail = 0
    for (const p of relative) {
      sum += p
      if (p <= bound) tail += p
    }
    return { oddsRatio, pValue: Math.min(1, tail / sum) }
  }
  // An astronomically unlikely table: sum the tail's exact log-probabilities instead.
  const logNormalizer = logChoose(total, column1)
  const logPmf = (x: number) => logChoose(row1, x) + logChoose(row2, column1 - x) - logNormalizer
  const logBound = logPmf(a) + Math.log(tieTolerance)
  const logTail: Array<number> = []
  let largest = Number.NEGATIVE_INFINITY
  for (let x = low; x <= high; x++) {
    const lp = logPmf(x)
    if (lp <= logBound) {
      logTail.push(lp)
      if (lp > largest) largest = lp
    }
  }
  let scaled = 0
  for (const lp of logTail) scaled += Math.exp(lp - largest)
  return { oddsRatio, pValue: Math.min(1, Math.exp(largest) * scaled) }
}
