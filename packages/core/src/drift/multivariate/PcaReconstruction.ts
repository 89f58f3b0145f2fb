/**
 * PCA reconstruction error (NannyML's data reconstruction drift): PCA is fitted on the
 * baseline's standardized numeric rows, keeping the fewest components whose explained variance
 * share exceeds a target (NannyML's default 0.65, chosen as scikit-learn chooses for a fractional
 * n_components). A row's error is the Euclidean distance between it and its projection back
 * from those components; a set of rows scores the mean error. Structure the baseline had (a
 * correlation, say) is what the components capture, so rows that break it reconstruct worse.
 * The window alerts when its error is outside the baseline chunks' mean +- k standard deviations
 * (NannyML's threshold rule, k = 3 by default).
 */
import { invalid } from "../../stats/StatsError.js"
import { symmetricEigen } from "../../stats/SymmetricEigen.js"

export interface PcaModel {
  readonly features: number
  /** Column means of the fitted rows (about 0 for rows standardized with the same baseline). */
  readonly mean: Float64Array
  /** Row-major features x components; column c is the c-th principal axis. */
  readonly components: Float64Array
  readonly componentCount: number
  /** Each kept component's share of the total variance, largest first. */
  readonly explainedVarianceRatio: ReadonlyArray<number>
}

/** Fits PCA on `rows` rows of `d` features (row-major) keeping components until `varianceShare` is exceeded. */
export const fitPca = (data: Float64Array, rows: number, d: number, varianceShare: number): PcaModel => {
  if (!(varianceShare > 0 && varianceShare < 1)) {
    invalid("varianceShare", `must be strictly between 0 and 1, got ${varianceShare}`)
  }
  if (rows < 2) invalid("rows", `PCA needs at least 2 rows, got ${rows}`)
  const mean = new Float64Array(d)
  for (let i = 0; i < rows; i++) for (let j = 0; j < d; j++) mean[j]! += data[i * d + j]!
  for (let j = 0; j < d; j++) mean[j]! /= rows
  const covariance = new Float64Array(d * d)
  const centered = new Float64Array(d)
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < d; j++) centered[j] = data[i * d + j]! - mean[j]!
    for (let j = 0; j < d; j++) {
      const cj = centered[j]!
      for (let k = j; k < d; k++) covariance[j * d + k]! += cj * centered[k]!
    }
  }
  for (let j = 0; j < d; j++) {
    for (let k = j; k < d; k++) {
      covariance[j * d + k]! /= rows - 1
      covariance[k * d + j] = covariance[j * d + k]!
    }
  }
  const { values, vectors } = symmetricEigen(covariance, d)
  // Largest first; rounding can leave tiny negative eigenvalues of a singular covariance.
  const variances = Array.from(values, (v) => Math.max(0, v)).reverse()
  const total = variances.reduce((s, v) => s + v, 0)
  const ratios = variances.map((v) => (total > 0 ? v / total : 1 / d))
  // scikit-learn: searchsorted(cumsum, share, side="right") + 1, i.e. 1 + #{cumulative share <= target}.
  let kept = 0
  let cumulative = 0
  for (const ratio of ratios) {
    cumulative += ratio
    if (cumulative <= varianceShare) kept++
    else break
  }
  const componentCount = Math.min(d, kept + 1)
  const components = new Float64Array(d * componentCount)
  for (let c = 0; c < componentCount; c++) {
    const column = d - 1 - c
    for (let j = 0; j < d; j++) components[j * componentCount + c] = vectors[j * d + column]!
  }
  return { features: d, mean, components, componentCount, explainedVarianceRatio: ratios.slice(0, componentCount) }
}

/** Each row's reconstruction error: |x - (mean + (x - mean) W W^T)|, for `rows` rows (row-major). */
export const reconstructionErrors = (model: PcaModel, data: Float64Array, rows: number): Float64Array => {
  const { componentCount: k, components: w, features: d, mean } = model
  const errors = new Float64Array(rows)
  const centered = new Float64Array(d)
  const scores = new Float64Array(k)
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < d; j++) centered[j] = data[i * d + j]! - mean[j]!
    scores.fill(0)
    for (let j = 0; j < d; j++) {
      const cj = centered[j]!
      for (let c = 0; c < k; c++) scores[c]! += cj * w[j * k + c]!
    }
    let squared = 0
    for (let j = 0; j < d; j++) {
      let projected = 0
      for (let c = 0; c < k; c++) projected += scores[c]! * w[j * k + c]!
      squared += (centered[j]! - projected) ** 2
    }
    errors[i] = Math.sqrt(squared)
  }
  return errors
}

const meanOf = (values: ArrayLike<number>, from = 0, to = values.length) => {
  let sum = 0
  for (let i = from; i < to; i++) sum += values[i]!
  return sum / (to - from)
}

/** The fewest baseline chunks the threshold is estimated from. */
export const MIN_BASELINE_CHUNKS = 30

export interface PcaDriftResult {
  readonly componentCount: number
  readonly explainedVariance: number
  /** The window's mean reconstruction error. */
  readonly error: number
  /** The baseline chunks' mean error and its standard deviation at the window's size. */
  readonly baselineMean: number
  readonly baselineSd: number
  readonly lower: number
  readonly upper: number
  readonly chunks: number
  readonly drifted: boolean
}

/**
 * Fits PCA on the baseline rows and compares the window's mean error with the baseline's chunk
 * errors. Chunks have the window's row count when the baseline holds at least
 * MIN_BASELINE_CHUNKS of them; otherwise the baseline is cut into MIN_BASELINE_CHUNKS equal
 * chunks and their standard deviation is scaled to the window's size by sqrt(chunk / window),
 * as the error is a mean over rows. The baseline rows should be in random order (a sample).
 */
export const pcaReconstructionDrift = (input: {
  readonly baseline: Float64Array
  readonly baselineRows: number
  readonly window: Float64Array
  readonly windowRows: number
  readonly features: number
  readonly varianceShare: number
  readonly thresholdSds: number
}): PcaDriftResult => {
  const { baselineRows, features, windowRows } = input
  if (windowRows < 1) invalid("windowRows", "must be at least 1")
  if (baselineRows < 2 * MIN_BASELINE_CHUNKS) {
    invalid("baselineRows", `must be at least ${2 * MIN_BASELINE_CHUNKS} (two rows per chunk), got ${baselineRows}`)
  }
  const model = fitPca(input.baseline, baselineRows, features, input.varianceShare)
  const baselineErrors = reconstructionErrors(model, input.baseline, baselineRows)
  const error = meanOf(reconstructionErrors(model, input.window, windowRows))
  const chunkSize = Math.floor(baselineRows / MIN_BASELINE_CHUNKS) >= windowRows
    ? windowRows
    : Math.floor(baselineRows / MIN_BASELINE_CHUNKS)
  const chunks = Math.floor(baselineRows / chunkSize)
  const chunkErrors = Array.from(
    { length: chunks },
    (_, c) => meanOf(baselineErrors, c * chunkSize, (c + 1) * chunkSize)
  )
  const baselineMean = meanOf(chunkErrors)
  const chunkSd = Math.sqrt(chunkErrors.reduce((s, e) => s + (e - baselineMean) ** 2, 0) / (chunks - 1))
  const baselineSd = chunkSd * Math.sqrt(chunkSize / windowRows)
  const lower = baselineMean - input.thresholdSds * baselineSd
  const upper = baselineMean + input.thresholdSds * baselineSd
  return {
    componentCount: model.componentCount,
    explainedVariance: model.explainedVarianceRatio.reduce((s, r) => s + r, 0),
    error,
    baselineMean,
    baselineSd,
    lower,
    upper,
    chunks,
    drifted: error < lower || error > upper
  }
}
