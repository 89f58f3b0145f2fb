/**
 * Binning, histograms, numpy-compatible quantiles and the Population Stability Index.
 *
 * PSI = Σ (current_i - baseline_i) · ln(current_i / baseline_i) over bin shares. Bin edges are
 * frozen from the baseline alone (`psiBins`), with open-ended outer bins, so a baseline is
 * computed once and every later window is compared on the same edges. Empty shares would make
 * the logarithm infinite; they are replaced (Evidently's rule) by 1e-4, or, when the smallest
 * non-zero share of the two distributions is itself at most 1e-4, by that share / 1e6.
 */
import { checkCount, checkSample, invalid } from "./StatsError.js"

/** numpy's default ("linear") quantile of sorted data, with numpy's two-sided interpolation. */
const quantileSorted = (sorted: ArrayLike<number>, p: number): number => {
  const n = sorted.length
  const h = (n - 1) * p
  const lo = Math.floor(h)
  const hi = Math.min(lo + 1, n - 1)
  const t = h - lo
  const a = sorted[lo]!
  const b = sorted[hi]!
  const diff = b - a
  // numpy's _lerp: a + diff·t, but b - diff·(1-t) when t >= 0.5 (exact at both ends)
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t
}

/** Quantiles of `values` at each probability in `probabilities`, as numpy.quantile(method="linear"). */
export const quantiles = (values: ArrayLike<number>, probabilities: ReadonlyArray<number>): Array<number> => {
  checkSample(values, "values")
  probabilities.forEach((p, i) => {
    if (!(p >= 0 && p <= 1)) invalid(`probabilities[${i}]`, `must be in [0, 1], got ${p}`)
  })
  const sorted = Float64Array.from(values).sort()
  return probabilities.map((p) => quantileSorted(sorted, p))
}

export const quantile = (values: ArrayLike<number>, p: number): number => quantiles(values, [p])[0]!

/** Strictly increasing, finite interior edges. */
const checkEdges = (edges: ArrayLike<number>, field: string) => {
  for (let i = 0; i < edges.length; i++) {
    if (!Number.isFinite(edges[i])) invalid(`${field}[${i}]`, `must be finite, got ${edges[i]}`)
    if (i > 0 && !(edges[i]! > edges[i - 1]!)) invalid(`${field}[${i}]`, "edges must be strictly increasing")
  }
}

/** Index of the bin holding v: the number of edges <= v (bins (-∞, e0), [e0, e1), ..., [e_last, ∞)). */
const binIndex = (edges: ArrayLike<number>, v: number): number => {
  let lo = 0
  let hi = edges.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (edges[mid]! <= v) lo = mid + 1
    else hi = mid
  }
  return lo
}

/**
 * Counts per bin for interior `edges`: edges.length + 1 bins, (-∞, e0), [e0, e1), ...,
 * [e_last, +∞), so no value ever falls outside.
 */
export const histogram = (values: ArrayLike<number>, edges: ArrayLike<number>): Array<number> => {
  checkSample(values, "values", 0)
  checkEdges(edges, "edges")
  const counts = new Array<number>(edges.length + 1).fill(0)
  for (let i = 0; i < values.length; i++) counts[binIndex(edges, values[i]!)]!++
  return counts
}

export type BinStrategy = "quantile" | "uniform"

export interface PsiBins {
  /** Interior edges; the outer bins are open-ended. */
  readonly edges: ReadonlyArray<number>
  /** Share of the baseline in each of edges.length + 1 bins. */
  readonly baselineShares: ReadonlyArray<number>
  readonly baselineCount: number
  readonly strategy: BinStrategy
}

/**
 * Freezes bins from a baseline: `quantile` puts (about) equal baseline mass in each bin, using
 * numpy-linear quantiles at k/bins; `uniform` splits [min, max] evenly. Repeated edges (heavy
 * ties) collapse, so fewer bins may result.
 */
export const psiBins = (baseline: ArrayLike<number>, options: { readonly bins?: number; readonly strategy?: BinStrategy } = {}): PsiBins => {
  const bins = options.bins ?? 10
  const strategy = options.strategy ?? "quantile"
  if (!(Number.isInteger(bins) && bins >= 2)) invalid("bins", `must be an integer >= 2, got ${bins}`)
  if (strategy !== "quantile" && strategy !== "uniform") invalid("strategy", `must be "quantile" or "uniform", got ${String(strategy)}`)
  checkSample(baseline, "baseline")
  const sorted = Float64Array.from(baseline).sort()
  const min = sorted[0]!
  const max = sorted[sorted.length - 1]!
  const interior: Array<number> = []
  for (let k = 1; k < bins; k++) {
    const edge = strategy === "quantile" ? quantileSorted(sorted, k / bins) : min + ((max - min) * k) / bins
    if (edge > min && (interior.length === 0 || edge > interior[interior.length - 1]!)) interior.push(edge)
  }
  const counts = histogram(sorted, interior)
  return { edges: interior, baselineShares: counts.map((c) => c / sorted.length), baselineCount: sorted.length, strategy }
}

export interface PsiBin {
  readonly lower: number
  readonly upper: number
  readonly baselineShare: number
  readonly currentShare: number
  /** This bin's term (cur - base)·ln(cur/base), after empty-share replacement. */
  readonly contribution: number
}

export interface PsiResult {
  readonly value: number
  readonly edges: ReadonlyArray<number>
  readonly baselineShares: ReadonlyArray<number>
  readonly currentShares: ReadonlyArray<number>
  readonly perBin: ReadonlyArray<PsiBin>
}

/** The replacement for empty shares: 1e-4, or min non-zero share / 1e6 when that is <= 1e-4. */
export const emptyShareFill = (...shareSets: ReadonlyArray<ReadonlyArray<number>>): number => {
  let smallest = Number.POSITIVE_INFINITY
  for (const shares of shareSets) for (const s of shares) if (s > 0 && s < smallest) smallest = s
  return smallest <= 1e-4 ? smallest / 1e6 : 1e-4
}

const psiFromShares = (base: ReadonlyArray<number>, cur: ReadonlyArray<number>) => {
  const fill = emptyShareFill(base, cur)
  let value = 0
  const terms = base.map((b, i) => {
    const bb = b === 0 ? fill : b
    const cc = cur[i] === 0 ? fill : cur[i]!
    const term = (cc - bb) * Math.log(cc / bb)
    value += term
    return term
  })
  return { value, terms }
}

/** PSI of `current` against a baseline sample (binned here) or against frozen bins. */
export const psi = (
  baselineOrBins: ArrayLike<number> | PsiBins,
  current: ArrayLike<number>,
  options: { readonly bins?: number; readonly strategy?: BinStrategy } = {}
): PsiResult => {
  const bins = "edges" in baselineOrBins ? baselineOrBins : psiBins(baselineOrBins, options)
  checkSample(current, "current")
  const counts = histogram(current, bins.edges)
  const currentShares = counts.map((c) => c / current.length)
  const { value, terms } = psiFromShares(bins.baselineShares, currentShares)
  const edges = bins.edges
  return {
    value,
    edges,
    baselineShares: bins.baselineShares,
    currentShares,
    perBin: terms.map((contribution, i) => ({
      lower: i === 0 ? Number.NEGATIVE_INFINITY : edges[i - 1]!,
      upper: i === edges.length ? Number.POSITIVE_INFINITY : edges[i]!,
      baselineShare: bins.baselineShares[i]!,
      currentShare: currentShares[i]!,
      contribution
    }))
  }
}

export interface CategoricalPsiResult {
  readonly value: number
  readonly categories: ReadonlyArray<string>
  readonly baselineShares: ReadonlyArray<number>
  readonly currentShares: ReadonlyArray<number>
  readonly contributions: ReadonlyArray<number>
  /** Categories present now but never seen in the baseline. */
  readonly unseenCategories: ReadonlyArray<string>
}

const countCategories = (values: ReadonlyArray<string> | Readonly<Record<string, number>>, field: string): Map<string, number> => {
  const counts = new Map<string, number>()
  if (Array.isArray(values)) {
    for (const v of values as ReadonlyArray<string>) counts.set(v, (counts.get(v) ?? 0) + 1)
  } else {
    for (const [k, c] of Object.entries(values)) {
      checkCount(c, `${field}.${k}`)
      counts.set(k, c)
    }
  }
  let total = 0
  for (const c of counts.values()) total += c
  if (total === 0) invalid(field, "must contain at least one observation")
  return counts
}

/** PSI over category shares; inputs are raw category values or counts per category. */
export const categoricalPsi = (
  baseline: ReadonlyArray<string> | Readonly<Record<string, number>>,
  current: ReadonlyArray<string> | Readonly<Record<string, number>>
): CategoricalPsiResult => {
  const base = countCategories(baseline, "baseline")
  const cur = countCategories(current, "current")
  const categories = [...new Set([...base.keys(), ...cur.keys()])].sort()
  const baseTotal = [...base.values()].reduce((a, b) => a + b, 0)
  const curTotal = [...cur.values()].reduce((a, b) => a + b, 0)
  const baselineShares = categories.map((c) => (base.get(c) ?? 0) / baseTotal)
  const currentShares = categories.map((c) => (cur.get(c) ?? 0) / curTotal)
  const { value, terms } = psiFromShares(baselineShares, currentShares)
  return {
    value,
    categories,
    baselineShares,
    currentShares,
    contributions: terms,
    unseenCategories: categories.filter((c) => !base.has(c) && (cur.get(c) ?? 0) > 0)
  }
}
