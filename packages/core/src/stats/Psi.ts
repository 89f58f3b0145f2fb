/**
 * Binning, histograms, numpy-compatible quantiles and the Population Stability Index.
 *
 * PSI = Σ (current_i - baseline_i) · ln(current_i / baseline_i) over bin shares. Bin edges are
 * frozen from the baseline alone (`psiBins`), with open-ended outer bins, so a baseline is
 * computed once and every later window is compared on the same edges. Empty shares would make
 * the logarithm infinite; they are replaced (Evidently's rule) by 1e-4, or, when the smallest
 * non-zero share of the two distributions is itself at most 1e-4, by that share / 1e6.
 */
import { largestCdfGap } from "./EmpiricalCdf.js"
import { checkCount, checkSample, invalid } from "./StatsError.js"

/** numpy's "linear" interpolation between order statistics a <= b at fraction t (numpy's _lerp). */
const lerp = (a: number, b: number, t: number): number => {
  const diff = b - a
  // a + diff·t, but b - diff·(1-t) when t >= 0.5, exact at both ends
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t
}

const swap = (a: Float64Array, i: number, j: number) => {
  const t = a[i]!
  a[i] = a[j]!
  a[j] = t
}

/**
 * Rearranges `a` so that every index in `targets` (sorted, within [from, to]) holds the value
 * it would hold if `a` were sorted: a multi-target quickselect, O(n log k) instead of a full
 * O(n log n) sort when only a few quantiles are needed.
 */
const selectInPlace = (a: Float64Array, targets: ReadonlyArray<number>, from: number, to: number): void => {
  if (targets.length === 0 || from >= to) return
  if (to - from < 32) {
    // Insertion sort for small ranges.
    for (let i = from + 1; i <= to; i++) {
      const v = a[i]!
      let j = i - 1
      while (j >= from && a[j]! > v) {
        a[j + 1] = a[j]!
        j--
      }
      a[j + 1] = v
    }
    return
  }
  // Median-of-three pivot, Hoare partition.
  const mid = (from + to) >>> 1
  if (a[mid]! < a[from]!) swap(a, mid, from)
  if (a[to]! < a[from]!) swap(a, to, from)
  if (a[to]! < a[mid]!) swap(a, to, mid)
  const pivot = a[mid]!
  let i = from
  let j = to
  while (i <= j) {
    while (a[i]! < pivot) i++
    while (a[j]! > pivot) j--
    if (i <= j) {
      swap(a, i, j)
      i++
      j--
    }
  }
  // Now a[from..j] <= pivot <= a[i..to], and from j+1 to i-1 everything equals the pivot.
  selectInPlace(a, targets.filter((t) => t <= j), from, j)
  selectInPlace(a, targets.filter((t) => t >= i), i, to)
}

/** Order statistics (0-based ranks) of `values` by quickselect on a copy. */
const orderStatisticsBySelection = (values: ArrayLike<number>, ranks: ReadonlyArray<number>): Map<number, number> => {
  const copy = Float64Array.from(values)
  selectInPlace(copy, ranks, 0, copy.length - 1)
  return new Map(ranks.map((r) => [r, copy[r]!]))
}

/**
 * Order statistics by bucketing: one pass counts values into 4096 equal-width buckets between
 * min and max (the bucket index is monotone in the value, so buckets are ordered), a second pass
 * copies out only the buckets holding the wanted ranks, which are then sorted. Two linear passes
 * instead of a sort; falls back to quickselect when the data crowd into a few buckets.
 */
const orderStatistics = (
  values: ArrayLike<number>,
  ranks: ReadonlyArray<number>,
  min: number,
  max: number
): Map<number, number> => {
  const n = values.length
  if (min === max) return new Map(ranks.map((r) => [r, min]))
  const buckets = 4096
  const scale = buckets / (max - min)
  // A range so narrow (subnormal) that the scale overflows cannot be bucketed: select instead.
  if (!Number.isFinite(scale)) return orderStatisticsBySelection(values, ranks)
  const bucketOf = (v: number) => Math.min(buckets - 1, Math.floor((v - min) * scale))
  const counts = new Int32Array(buckets)
  for (let i = 0; i < n; i++) counts[bucketOf(values[i]!)]!++
  const starts = new Int32Array(buckets + 1)
  for (let b = 0; b < buckets; b++) starts[b + 1] = starts[b]! + counts[b]!
  const wanted = new Map<number, { start: number; items: Float64Array; filled: number }>()
  const locate = (rank: number) => {
    let lo = 0
    let hi = buckets - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (starts[mid + 1]! <= rank) lo = mid + 1
      else hi = mid
    }
    return lo
  }
  let copied = 0
  for (const rank of ranks) {
    const b = locate(rank)
    if (!wanted.has(b)) {
      wanted.set(b, { start: starts[b]!, items: new Float64Array(counts[b]!), filled: 0 })
      copied += counts[b]!
    }
  }
  if (copied > n / 4) return orderStatisticsBySelection(values, ranks)
  const slot = new Int32Array(buckets).fill(-1)
  const groups = [...wanted.entries()]
  groups.forEach(([b], index) => (slot[b] = index))
  for (let i = 0; i < n; i++) {
    const v = values[i]!
    const index = slot[bucketOf(v)]!
    if (index >= 0) {
      const group = groups[index]![1]
      group.items[group.filled++] = v
    }
  }
  for (const [, group] of groups) group.items.sort()
  return new Map(ranks.map((rank) => {
    const group = wanted.get(locate(rank))!
    return [rank, group.items[rank - group.start]!]
  }))
}

/** numpy-linear quantiles of unsorted data (the input is not modified). */
const quantilesOfUnsorted = (
  values: ArrayLike<number>,
  probabilities: ReadonlyArray<number>,
  min: number,
  max: number
): Array<number> => {
  const n = values.length
  const positions = probabilities.map((p) => {
    const h = (n - 1) * p
    const lo = Math.floor(h)
    return { lo, hi: Math.min(lo + 1, n - 1), t: h - lo }
  })
  const ranks = [...new Set(positions.flatMap(({ lo, hi }) => [lo, hi]))].sort((x, y) => x - y)
  const stats = orderStatistics(values, ranks, min, max)
  return positions.map(({ lo, hi, t }) => lerp(stats.get(lo)!, stats.get(hi)!, t))
}

const extent = (values: ArrayLike<number>) => {
  let min = Number.POSITIVE_INFINITY
  let max = Number.NEGATIVE_INFINITY
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!
    if (v < min) min = v
    if (v > max) max = v
  }
  return { min, max }
}

/** Quantiles of `values` at each probability in `probabilities`, as numpy.quantile(method="linear"). */
export const quantiles = (values: ArrayLike<number>, probabilities: ReadonlyArray<number>): Array<number> => {
  checkSample(values, "values")
  probabilities.forEach((p, i) => {
    if (!(p >= 0 && p <= 1)) invalid(`probabilities[${i}]`, `must be in [0, 1], got ${p}`)
  })
  const { min, max } = extent(values)
  return quantilesOfUnsorted(values, probabilities, min, max)
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
  return countBins(values, edges)
}

/** histogram without validation, for callers that already validated (the hot path of psi). */
const countBins = (values: ArrayLike<number>, edges: ArrayLike<number>): Array<number> => {
  const counts = new Float64Array(edges.length + 1)
  if (edges.length <= 16) {
    // Few edges: count the edges <= v with branch-free comparisons instead of a binary search.
    const e = Float64Array.from(edges)
    const k = e.length
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!
      let index = 0
      for (let j = 0; j < k; j++) index += v >= e[j]! ? 1 : 0
      counts[index]!++
    }
  } else {
    for (let i = 0; i < values.length; i++) counts[binIndex(edges, values[i]!)]!++
  }
  return Array.from(counts)
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
 * ties) collapse, so fewer bins may result. An edge equal to the baseline's minimum stays: it
 * leaves the first bin, (-∞, min), empty in the baseline, which is what lets a constant or
 * zero-inflated baseline notice values below its range.
 */
export const psiBins = (
  baseline: ArrayLike<number>,
  options: { readonly bins?: number; readonly strategy?: BinStrategy } = {}
): PsiBins => {
  const bins = options.bins ?? 10
  const strategy = options.strategy ?? "quantile"
  if (!(Number.isInteger(bins) && bins >= 2)) invalid("bins", `must be an integer >= 2, got ${bins}`)
  if (strategy !== "quantile" && strategy !== "uniform") {
    invalid("strategy", `must be "quantile" or "uniform", got ${String(strategy)}`)
  }
  checkSample(baseline, "baseline")
  const { min, max } = extent(baseline)
  const levels = Array.from({ length: bins - 1 }, (_, k) => (k + 1) / bins)
  const candidates = strategy === "quantile"
    ? quantilesOfUnsorted(baseline, levels, min, max)
    : levels.map((_, k) => min + ((max - min) * (k + 1)) / bins)
  const interior: Array<number> = []
  for (const edge of candidates) {
    if (interior.length === 0 || edge > interior[interior.length - 1]!) interior.push(edge)
  }
  const counts = countBins(baseline, interior)
  return {
    edges: interior,
    baselineShares: counts.map((c) => c / baseline.length),
    baselineCount: baseline.length,
    strategy
  }
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
  const counts = countBins(current, bins.edges)
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

const countCategories = (
  values: ReadonlyArray<string> | Readonly<Record<string, number>>,
  field: string
): Map<string, number> => {
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

export interface SplitPsiResult {
  /** PSI of the two bins (-∞, location] and (location, ∞), empty shares replaced as in psi. */
  readonly value: number
  readonly location: number
  /** Shares at or below the location and above it. */
  readonly baselineShares: readonly [number, number]
  readonly currentShares: readonly [number, number]
}

/**
 * PSI of the two-bin split at the point where the two empirical CDFs differ most (where the KS
 * statistic is taken), for samples sorted ascending. Bins frozen from the baseline cannot see a
 * shift inside one bin (a constant or zero-inflated baseline puts most of its mass in one);
 * this split can. Bins that separate the values up to that point from those above it have at
 * least this PSI (merging bins never raises it, empty-share replacement aside), so it is a
 * floor for the shift the KS test found.
 */
export const splitPsi = (baselineSorted: Float64Array, currentSorted: Float64Array): SplitPsiResult => {
  const gap = largestCdfGap(baselineSorted, currentSorted)
  const baselineShares = [gap.aBelow, 1 - gap.aBelow] as const
  const currentShares = [gap.bBelow, 1 - gap.bBelow] as const
  return {
    value: psiFromShares(baselineShares, currentShares).value,
    location: gap.location,
    baselineShares,
    currentShares
  }
}
