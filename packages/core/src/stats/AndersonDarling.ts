/**
 * The k-sample Anderson-Darling test with scipy's semantics (scipy.stats.anderson_ksamp,
 * midrank version, scipy 1.10): Scholz and Stephens' (1987) A²akN for data with ties, normalized
 * by its variance under the null, with their critical values for k samples at significance
 * levels 25%, 10%, 5%, 2.5%, 1%, 0.5% and 0.1%. The p-value interpolates log(level) by a
 * quadratic least-squares fit through those points, and is capped to [0.001, 0.25] outside
 * them: a statistic below the 25% critical value reports 0.25 (the true p-value is larger),
 * above the 0.1% one reports 0.001 (it is smaller). O(N log N) for the sorts, linear after.
 */
import { numpySum } from "./NumpySum.js"
import { checkSample, invalid } from "./StatsError.js"

export interface AndersonKSampResult {
  readonly statistic: number
  /** Critical values at significanceLevels, in the same order. */
  readonly criticalValues: ReadonlyArray<number>
  /** Interpolated, and capped to [0.001, 0.25] (see the module comment). */
  readonly pValue: number
}

export const significanceLevels: ReadonlyArray<number> = [0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001]

// Scholz and Stephens' Table 2 interpolation coefficients: critical = b0 + b1/√m + b2/m, m = k - 1.
const b0 = [0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085]
const b1 = [-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615]
const b2 = [-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154]

/**
 * Least-squares coefficients (highest power first) of a degree-2 polynomial through (x, y), as
 * numpy.polyfit: Vandermonde columns scaled to unit norm, solved by Householder QR.
 */
const quadraticFit = (x: ReadonlyArray<number>, y: ReadonlyArray<number>): [number, number, number] => {
  const rows = x.length
  const columns = 3
  const a = x.map((xi) => [xi * xi, xi, 1])
  const scale = [0, 1, 2].map((c) => {
    let sum = 0
    for (let r = 0; r < rows; r++) sum += a[r]![c]! * a[r]![c]!
    return Math.sqrt(sum)
  })
  for (const row of a) for (let c = 0; c < columns; c++) row[c]! /= scale[c]!
  const b = [...y]
  for (let c = 0; c < columns; c++) {
    let norm = 0
    for (let r = c; r < rows; r++) norm += a[r]![c]! ** 2
    norm = Math.sqrt(norm)
    const alpha = a[c]![c]! > 0 ? -norm : norm
    const v = a.map((row, r) => (r < c ? 0 : row[c]!))
    v[c]! -= alpha
    let vv = 0
    for (let r = c; r < rows; r++) vv += v[r]! * v[r]!
    if (vv === 0) continue
    for (let k = c; k < columns; k++) {
      let dot = 0
      for (let r = c; r < rows; r++) dot += v[r]! * a[r]![k]!
      for (let r = c; r < rows; r++) a[r]![k]! -= (2 * dot * v[r]!) / vv
    }
    let dot = 0
    for (let r = c; r < rows; r++) dot += v[r]! * b[r]!
    for (let r = c; r < rows; r++) b[r]! -= (2 * dot * v[r]!) / vv
  }
  const coefficients = [0, 0, 0]
  for (let c = columns - 1; c >= 0; c--) {
    let sum = b[c]!
    for (let k = c + 1; k < columns; k++) sum -= a[c]![k]! * coefficients[k]!
    coefficients[c] = sum / a[c]![c]!
  }
  return [coefficients[0]! / scale[0]!, coefficients[1]! / scale[1]!, coefficients[2]! / scale[2]!]
}

/** The sorted union of sorted samples (a k-way merge, linear for the usual k = 2). */
const mergeSorted = (samples: ReadonlyArray<Float64Array>, total: number): Float64Array => {
  const merged = new Float64Array(total)
  const next = samples.map(() => 0)
  for (let out = 0; out < total; out++) {
    let pick = -1
    for (let i = 0; i < samples.length; i++) {
      if (next[i]! < samples[i]!.length && (pick < 0 || samples[i]![next[i]!]! < samples[pick]![next[pick]!]!)) pick = i
    }
    merged[out] = samples[pick]![next[pick]!++]!
  }
  return merged
}

/** The k-sample Anderson-Darling test of samples already sorted ascending (each non-empty). */
export const andersonKSampSorted = (samples: ReadonlyArray<Float64Array>): AndersonKSampResult => {
  const k = samples.length
  if (k < 2) invalid("samples", "needs at least 2 samples")
  samples.forEach((s, i) => {
    if (s.length === 0) invalid(`samples[${i}]`, "must not be empty")
  })
  const n = samples.map((s) => s.length)
  let N = 0
  for (const size of n) N += size
  const pooled = mergeSorted(samples, N)
  // The distinct pooled values; l[j] how often each occurs (1 when nothing ties, as scipy's
  // scalar lj), B[j] its midrank position: values below it plus half its own count.
  const distinct: Array<number> = []
  const counts: Array<number> = []
  for (let i = 0; i < N; i++) {
    if (i === 0 || pooled[i] !== pooled[i - 1]) {
      distinct.push(pooled[i]!)
      counts.push(1)
    } else {
      counts[counts.length - 1]!++
    }
  }
  if (distinct.length < 2) invalid("samples", "need more than one distinct value in all")
  if (N < 4) invalid("samples", "need at least 4 values in all")
  const J = distinct.length
  const l = new Float64Array(J)
  const B = new Float64Array(J)
  for (let j = 0, below = 0; j < J; j++) {
    l[j] = J === N ? 1 : counts[j]!
    B[j] = below + l[j]! / 2
    below += counts[j]!
  }
  let a2akN = 0
  const inner = new Float64Array(J)
  for (let i = 0; i < k; i++) {
    const s = samples[i]!
    let left = 0
    for (let j = 0; j < J; j++) {
      // left: values of this sample below distinct[j]; right: at or below it.
      const v = distinct[j]!
      while (left < s.length && s[left]! < v) left++
      let right = left
      while (right < s.length && s[right]! <= v) right++
      const m = right - (right - left) / 2
      left = right
      const gap = N * m - B[j]! * n[i]!
      inner[j] = ((l[j]! / N) * (gap * gap)) / (B[j]! * (N - B[j]!) - (N * l[j]!) / 4)
    }
    a2akN += numpySum(inner) / n[i]!
  }
  a2akN *= (N - 1) / N

  const H = numpySum(n.map((size) => 1 / size))
  // hs[t] = Σ_{r = N-1 down to N-1-t} 1/r, t = 0 .. N-3 (numpy's cumsum of 1/arange(N-1, 1, -1)).
  const hs = new Float64Array(N - 2)
  let running = 0
  for (let t = 0; t < N - 2; t++) {
    running += 1 / (N - 1 - t)
    hs[t] = running
  }
  const h = hs[N - 3]! + 1
  const gTerms = new Float64Array(N - 2)
  for (let t = 0; t < N - 2; t++) gTerms[t] = hs[t]! / (t + 2)
  const g = numpySum(gTerms)
  const a = (4 * g - 6) * (k - 1) + (10 - 6 * g) * H
  const b = (2 * g - 4) * k ** 2 + 8 * h * k + (2 * g - 14 * h - 4) * H - 8 * h + 4 * g - 6
  const c = (6 * h + 2 * g - 2) * k ** 2 + (4 * h - 4 * g + 6) * k + (2 * h - 6) * H + 4 * h
  const d = (2 * h + 6) * k ** 2 - 4 * h * k
  const sigmaSquared = (a * N ** 3 + b * N ** 2 + c * N + d) / ((N - 1) * (N - 2) * (N - 3))
  const m = k - 1
  const statistic = (a2akN - m) / Math.sqrt(sigmaSquared)
  const criticalValues = b0.map((v, i) => v + b1[i]! / Math.sqrt(m) + b2[i]! / m)
  const pValue = statistic < Math.min(...criticalValues)
    ? 0.25
    : statistic > Math.max(...criticalValues)
    ? 0.001
    : (() => {
      const [c2, c1, c0] = quadraticFit(criticalValues, significanceLevels.map(Math.log))
      return Math.exp((c2 * statistic + c1) * statistic + c0)
    })()
  return { statistic, criticalValues, pValue }
}

/** The k-sample Anderson-Darling test (scipy.stats.anderson_ksamp, midrank). */
export const andersonKSamp = (samples: ReadonlyArray<ArrayLike<number>>): AndersonKSampResult => {
  samples.forEach((s, i) => checkSample(s, `samples[${i}]`))
  return andersonKSampSorted(samples.map((s) => Float64Array.from(s).sort()))
}
