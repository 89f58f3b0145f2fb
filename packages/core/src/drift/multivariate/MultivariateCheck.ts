/**
 * One multivariate check, pure: the baseline rows kept for the monitor and the window's rows go
 * through the enabled detectors (DomainClassifier.ts, PcaReconstruction.ts); the result is part
 * of the drift report. Only features of kind "feature" take part (the prediction is the model's
 * output, not its input). Rows are columns of equal length; window rows are rebuilt from the
 * per-feature windows by aligning their newest values (see `alignedRows`).
 */
import { Schema } from "effect"
import { makeRandom } from "../../stats/Random.js"
import type { FeatureSpec } from "../Monitor.js"
import type { Severity } from "../Severity.js"
import type { WindowValue } from "../ValueArrays.js"
import { domainClassifierDrift } from "./DomainClassifier.js"
import { MAX_MULTIVARIATE_ROWS, multivariateDefaults, type MultivariateSettings } from "./MultivariateSettings.js"
import { MIN_BASELINE_CHUNKS, pcaReconstructionDrift } from "./PcaReconstruction.js"
import {
  fitRowEncoding,
  oneHotColumns,
  oneHotWidth,
  type RowColumns,
  rowCount,
  standardizedNumeric
} from "./RowEncoding.js"

const Count = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

export const DomainClassifierCheck = Schema.Struct({
  auc: Schema.Finite,
  pValue: Schema.Finite,
  pValueThreshold: Schema.Finite,
  permutations: Count,
  trainRows: Count,
  testRows: Count,
  drifted: Schema.Boolean
})

export const PcaCheck = Schema.Struct({
  components: Count,
  explainedVariance: Schema.Finite,
  reconstructionError: Schema.Finite,
  baselineMean: Schema.Finite,
  baselineSd: Schema.Finite,
  lower: Schema.Finite,
  upper: Schema.Finite,
  drifted: Schema.Boolean
})

export const MultivariateCheck = Schema.Struct({
  baselineRows: Count,
  windowRows: Count,
  /** Null when disabled or untested (see `untested`). */
  domainClassifier: Schema.NullOr(DomainClassifierCheck),
  pca: Schema.NullOr(PcaCheck),
  /** Why the enabled detectors did not run (too few rows, no baseline rows yet); null when they ran. */
  untested: Schema.NullOr(Schema.String),
  /** Whether any enabled detector found drift. */
  drifted: Schema.Boolean
})
export type MultivariateCheck = typeof MultivariateCheck.Type

/** A multivariate check's alert severity: high when both enabled detectors drift, medium when one does. */
export const multivariateSeverity = (check: MultivariateCheck): Severity => {
  const drifted = [check.domainClassifier, check.pca].filter((d) => d?.drifted === true).length
  return drifted === 0 ? "none" : drifted === 2 ? "high" : "medium"
}

/** The features the detectors use: inputs (kind "feature"), not predictions. */
export const multivariateFeatures = (features: ReadonlyArray<FeatureSpec>): ReadonlyArray<FeatureSpec> =>
  features.filter((f) => f.kind === "feature")

/**
 * Rows from per-feature windows: the last `n` values of each, where `n` is the shortest window.
 * Windows are filled batch by batch with one value per feature per row (rows recorded through
 * recordRows are padded with null for absent features), so their newest values line up.
 */
export const alignedRows = (
  windows: Readonly<Record<string, ReadonlyArray<WindowValue>>>,
  names: ReadonlyArray<string>
): Record<string, ReadonlyArray<WindowValue>> => {
  const n = rowCount(windows, names)
  const rows: Record<string, ReadonlyArray<WindowValue>> = Object.create(null)
  for (const name of names) {
    const list = windows[name] ?? []
    rows[name] = list.slice(list.length - n)
  }
  return rows
}

/**
 * A seeded uniform sample of at most `size` rows (Algorithm R over row indices), in random
 * order, so that consecutive rows make random chunks. Every column must have the same length.
 */
export const sampleRows = (
  columns: RowColumns,
  names: ReadonlyArray<string>,
  size: number,
  seed: string
): Record<string, ReadonlyArray<WindowValue>> => {
  const n = rowCount(columns, names)
  const random = makeRandom(seed)
  const kept = Array.from({ length: Math.min(n, size) }, (_, i) => i)
  for (let i = kept.length; i < n; i++) {
    const j = Math.floor(random.uniform() * (i + 1))
    if (j < kept.length) kept[j] = i
  }
  for (let i = kept.length - 1; i > 0; i--) {
    const j = Math.floor(random.uniform() * (i + 1))
    const swap = kept[i]!
    kept[i] = kept[j]!
    kept[j] = swap
  }
  const sample: Record<string, ReadonlyArray<WindowValue>> = Object.create(null)
  for (const name of names) sample[name] = kept.map((i) => columns[name]![i]!)
  return sample
}

const untested = (baselineRows: number, windowRows: number, reason: string): MultivariateCheck => ({
  baselineRows,
  windowRows,
  domainClassifier: null,
  pca: null,
  untested: reason,
  drifted: false
})

/**
 * Runs the enabled detectors on the baseline rows and the window rows of `features` (inputs
 * only; each set sampled down to MAX_MULTIVARIATE_ROWS rows, seeded, and reported at that
 * size). Untested when the window has fewer than `minWindow` rows or the baseline fewer than
 * 2 x MIN_BASELINE_CHUNKS rows.
 */
export const checkMultivariate = (input: {
  readonly features: ReadonlyArray<FeatureSpec>
  readonly settings: MultivariateSettings
  readonly pValueThreshold: number
  readonly minWindow: number
  readonly seed: string
  readonly baseline: RowColumns
  readonly window: RowColumns
}): MultivariateCheck => {
  const { settings } = input
  const features = multivariateFeatures(input.features)
  const names = features.map((f) => f.name)
  // Bounded work and memory: beyond MAX_MULTIVARIATE_ROWS rows, a seeded sample of that many.
  const baseline = rowCount(input.baseline, names) > MAX_MULTIVARIATE_ROWS
    ? sampleRows(input.baseline, names, MAX_MULTIVARIATE_ROWS, `${input.seed}:baseline`)
    : input.baseline
  const window = rowCount(input.window, names) > MAX_MULTIVARIATE_ROWS
    ? sampleRows(input.window, names, MAX_MULTIVARIATE_ROWS, `${input.seed}:window`)
    : input.window
  const baselineRows = rowCount(baseline, names)
  const windowRows = rowCount(window, names)
  if (baselineRows < 2 * MIN_BASELINE_CHUNKS) {
    return untested(
      baselineRows,
      windowRows,
      `needs baseline rows of every input feature (at least ${2 * MIN_BASELINE_CHUNKS}); set a baseline ` +
        "giving every feature the same number of values"
    )
  }
  if (windowRows < input.minWindow) {
    return untested(baselineRows, windowRows, `needs at least minWindow (${input.minWindow}) window rows`)
  }
  const encoding = fitRowEncoding(features, baseline)
  const d = encoding.numeric.length
  const baselineNumeric = standardizedNumeric(encoding, baseline, baselineRows)
  const windowNumeric = standardizedNumeric(encoding, window, windowRows)
  const classifier = settings.domainClassifier
  let domainClassifier: typeof DomainClassifierCheck.Type | null = null
  if (classifier !== undefined) {
    const width = oneHotWidth(encoding)
    const pValueThreshold = classifier.pValueThreshold ?? input.pValueThreshold
    const result = domainClassifierDrift({
      baseline: {
        numeric: baselineNumeric,
        oneHot: oneHotColumns(encoding, baseline, baselineRows),
        rows: baselineRows
      },
      window: { numeric: windowNumeric, oneHot: oneHotColumns(encoding, window, windowRows), rows: windowRows },
      numericFeatures: d,
      oneHotWidth: width,
      options: {
        permutations: classifier.permutations ?? multivariateDefaults.permutations,
        epochs: classifier.epochs ?? multivariateDefaults.epochs,
        learningRate: multivariateDefaults.learningRate,
        seed: input.seed
      }
    })
    domainClassifier = {
      auc: result.auc,
      pValue: result.pValue,
      pValueThreshold,
      permutations: result.permutations,
      trainRows: result.trainRows,
      testRows: result.testRows,
      drifted: result.pValue < pValueThreshold
    }
  }
  let pca: typeof PcaCheck.Type | null = null
  if (settings.pca !== undefined && d >= 2) {
    const result = pcaReconstructionDrift({
      baseline: baselineNumeric,
      baselineRows,
      window: windowNumeric,
      windowRows,
      features: d,
      varianceShare: settings.pca.varianceShare ?? multivariateDefaults.varianceShare,
      thresholdSds: settings.pca.thresholdSds ?? multivariateDefaults.thresholdSds
    })
    pca = {
      components: result.componentCount,
      explainedVariance: result.explainedVariance,
      reconstructionError: result.error,
      baselineMean: result.baselineMean,
      baselineSd: result.baselineSd,
      lower: result.lower,
      upper: result.upper,
      drifted: result.drifted
    }
  }
  return {
    baselineRows,
    windowRows,
    domainClassifier,
    pca,
    untested: null,
    drifted: (domainClassifier?.drifted ?? false) || (pca?.drifted ?? false)
  }
}
