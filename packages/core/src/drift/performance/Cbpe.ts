/**
 * Confidence-based performance estimation (CBPE, NannyML's method) for a binary classifier whose
 * score is a calibrated probability of class 1: without labels, each row is a true positive with
 * probability p when predicted positive (p >= threshold) and a false positive with probability
 * 1 - p, and likewise for negatives, so the expected confusion matrix is E[TP] = sum of p over
 * predicted positives, E[FP] = sum of 1 - p over them, E[FN] = sum of p over predicted negatives,
 * E[TN] = sum of 1 - p over them. Accuracy, precision and recall follow from it; ROC AUC is the
 * area under the ROC curve of those expected counts at every cut. Realized values use the same
 * formulas with the labels in place of p, so estimate and truth are computed alike.
 *
 * The band is NannyML's: estimate +- 3 standard errors, each the per-row standard deviation of
 * the metric on the reference over sqrt(the rows it counts in the window). Monitors keep no
 * labels, so the reference's per-row deviation is taken from its expected values under the same
 * calibration (a 0/1 variable with mean m has deviation sqrt(m(1 - m))); ROC AUC's uses Hanley &
 * McNeil (1982) at the reference's AUC and the window's expected class counts.
 */
import { Schema } from "effect"
import { invalid } from "../../stats/StatsError.js"

export interface ConfusionCounts {
  readonly tp: number
  readonly fp: number
  readonly fn: number
  readonly tn: number
}

export const PERFORMANCE_METRICS = ["accuracy", "precision", "recall", "rocAuc"] as const
export type PerformanceMetric = typeof PERFORMANCE_METRICS[number]

/** Each metric's value; null where it is undefined (no predicted positives, one class only). */
export type PerformanceValues = Readonly<Record<PerformanceMetric, number | null>>

const checkProbabilities = (probabilities: ArrayLike<number>, field: string) => {
  if (probabilities.length === 0) invalid(field, "must not be empty")
  for (let i = 0; i < probabilities.length; i++) {
    const p = probabilities[i]!
    if (!(p >= 0 && p <= 1)) invalid(`${field}[${i}]`, `must be a probability in [0, 1], got ${p}`)
  }
}

const checkLabels = (labels: ArrayLike<number>, length: number) => {
  if (labels.length !== length) invalid("labels", `must hold one label per probability (${length})`)
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 0 && labels[i] !== 1) invalid(`labels[${i}]`, `must be 0 or 1, got ${labels[i]}`)
  }
}

const checkThreshold = (threshold: number) => {
  if (!(threshold > 0 && threshold < 1)) invalid("threshold", `must be strictly between 0 and 1, got ${threshold}`)
}

/** Confusion counts where row i is positive with weight positive(i) (p for expected, the label for realized). */
const confusion = (
  probabilities: ArrayLike<number>,
  positive: (i: number) => number,
  threshold: number
): ConfusionCounts => {
  let tp = 0, fp = 0, fn = 0, tn = 0
  for (let i = 0; i < probabilities.length; i++) {
    const w = positive(i)
    if (probabilities[i]! >= threshold) {
      tp += w
      fp += 1 - w
    } else {
      fn += w
      tn += 1 - w
    }
  }
  return { tp, fp, fn, tn }
}

/** The expected confusion matrix of a calibrated classifier predicting 1 when p >= threshold. */
export const expectedConfusion = (probabilities: ArrayLike<number>, threshold = 0.5): ConfusionCounts => {
  checkProbabilities(probabilities, "probabilities")
  checkThreshold(threshold)
  return confusion(probabilities, (i) => probabilities[i]!, threshold)
}

/** The confusion matrix against the labels. */
export const realizedConfusion = (
  probabilities: ArrayLike<number>,
  labels: ArrayLike<number>,
  threshold = 0.5
): ConfusionCounts => {
  checkProbabilities(probabilities, "probabilities")
  checkLabels(labels, probabilities.length)
  checkThreshold(threshold)
  return confusion(probabilities, (i) => labels[i]!, threshold)
}

/**
 * The area under the ROC curve through the counts at every distinct score (ties are one step, a
 * trapezoid), with row i positive by weight positive(i); null when either class has no weight.
 */
const rocAuc = (probabilities: ArrayLike<number>, positive: (i: number) => number): number | null => {
  const order = Array.from({ length: probabilities.length }, (_, i) => i)
    .sort((a, b) => probabilities[b]! - probabilities[a]!)
  let positives = 0
  let negatives = 0
  for (const i of order) {
    positives += positive(i)
    negatives += 1 - positive(i)
  }
  if (!(positives > 0 && negatives > 0)) return null
  // Each step right (the tie group's negatives) adds a trapezoid under the curve's height.
  let area = 0
  let tp = 0
  for (let start = 0; start < order.length;) {
    let end = start
    let groupTp = 0
    let groupFp = 0
    while (end < order.length && probabilities[order[end]!] === probabilities[order[start]!]) {
      groupTp += positive(order[end]!)
      groupFp += 1 - positive(order[end]!)
      end++
    }
    area += groupFp * (2 * tp + groupTp) / 2
    tp += groupTp
    start = end
  }
  return area / (positives * negatives)
}

const valuesOf = (c: ConfusionCounts, auc: number | null): PerformanceValues => {
  const n = c.tp + c.fp + c.fn + c.tn
  return {
    accuracy: (c.tp + c.tn) / n,
    precision: c.tp + c.fp > 0 ? c.tp / (c.tp + c.fp) : null,
    recall: c.tp + c.fn > 0 ? c.tp / (c.tp + c.fn) : null,
    rocAuc: auc
  }
}

/** CBPE's estimates for the rows' calibrated probabilities (no labels). */
export const estimatedPerformance = (probabilities: ArrayLike<number>, threshold = 0.5): PerformanceValues =>
  valuesOf(expectedConfusion(probabilities, threshold), rocAuc(probabilities, (i) => probabilities[i]!))

/** The realized values once the labels are known. */
export const realizedPerformance = (
  probabilities: ArrayLike<number>,
  labels: ArrayLike<number>,
  threshold = 0.5
): PerformanceValues =>
  valuesOf(realizedConfusion(probabilities, labels, threshold), rocAuc(probabilities, (i) => labels[i]!))

/** What the standard errors need from the reference: its expected metrics and class shares. */
export interface ReferencePerformance {
  readonly rows: number
  readonly values: PerformanceValues
  /** The share of rows predicted positive. */
  readonly predictedPositiveShare: number
  /** The expected share of positive rows (the mean probability). */
  readonly positiveShare: number
}

/** Summarizes the reference (baseline) probabilities for the standard errors of later windows. */
export const referencePerformance = (probabilities: ArrayLike<number>, threshold = 0.5): ReferencePerformance => {
  const c = expectedConfusion(probabilities, threshold)
  const n = probabilities.length
  return {
    rows: n,
    values: valuesOf(c, rocAuc(probabilities, (i) => probabilities[i]!)),
    predictedPositiveShare: (c.tp + c.fp) / n,
    positiveShare: (c.tp + c.fn) / n
  }
}

/** The standard deviation of a 0/1 variable with mean m. */
const bernoulliSd = (m: number) => Math.sqrt(Math.max(0, m * (1 - m)))

/** Hanley & McNeil's (1982) standard error of an AUC with the given class counts. */
const hanleyMcNeil = (auc: number, positives: number, negatives: number): number => {
  const q1 = auc / (2 - auc)
  const q2 = 2 * auc * auc / (1 + auc)
  const variance = (auc * (1 - auc) + (positives - 1) * (q1 - auc * auc) + (negatives - 1) * (q2 - auc * auc)) /
    (positives * negatives)
  return Math.sqrt(Math.max(0, variance))
}

/** Each metric's standard error in a window of `rows` rows; null where the reference leaves it undefined. */
export const standardErrors = (
  reference: ReferencePerformance,
  rows: number
): Readonly<Record<PerformanceMetric, number | null>> => {
  const { positiveShare, predictedPositiveShare, values } = reference
  const over = (sd: number, share: number) => share > 0 ? sd / Math.sqrt(rows * share) : null
  const positives = rows * positiveShare
  const negatives = rows * (1 - positiveShare)
  return {
    accuracy: over(bernoulliSd(values.accuracy!), 1),
    precision: values.precision === null ? null : over(bernoulliSd(values.precision), predictedPositiveShare),
    recall: values.recall === null ? null : over(bernoulliSd(values.recall), positiveShare),
    rocAuc: values.rocAuc === null || positives < 1 || negatives < 1
      ? null
      : hanleyMcNeil(values.rocAuc, positives, negatives)
  }
}

/** Band half-widths in standard errors (NannyML's). */
export const BAND_STANDARD_ERRORS = 3

const NullableNumber = Schema.NullOr(Schema.Finite)

/** One metric of a window: CBPE's estimate, its band, the realized value when known, the alert. */
export const MetricEstimate = Schema.Struct({
  metric: Schema.Literals(PERFORMANCE_METRICS),
  /** CBPE's estimate; null where the metric is undefined for the window. */
  estimate: NullableNumber,
  standardError: NullableNumber,
  /** estimate -+ 3 standard errors, clipped to [0, 1]. */
  lower: NullableNumber,
  upper: NullableNumber,
  /** The value from the labels, when given. */
  realized: NullableNumber,
  /** The alert threshold, when one is set for the metric. */
  alertBelow: NullableNumber,
  /** The estimate fell below alertBelow. */
  alert: Schema.Boolean
})
export type MetricEstimate = typeof MetricEstimate.Type

/**
 * A window's CBPE estimates with their bands, compared with realized values when `labels` are
 * given, and alerts for estimates below `alertBelow`. `reference` defaults to the window itself.
 */
export const estimateWindow = (
  probabilities: ArrayLike<number>,
  options: {
    readonly threshold?: number
    readonly reference?: ReferencePerformance
    readonly labels?: ArrayLike<number>
    readonly alertBelow?: Partial<Record<PerformanceMetric, number>>
  } = {}
): Array<MetricEstimate> => {
  const threshold = options.threshold ?? 0.5
  const estimated = estimatedPerformance(probabilities, threshold)
  const errors = standardErrors(
    options.reference ?? referencePerformance(probabilities, threshold),
    probabilities.length
  )
  const realized = options.labels ? realizedPerformance(probabilities, options.labels, threshold) : null
  return PERFORMANCE_METRICS.map((metric) => {
    const estimate = estimated[metric]
    const standardError = estimate === null ? null : errors[metric]
    const alertBelow = options.alertBelow?.[metric] ?? null
    return {
      metric,
      estimate,
      standardError,
      lower: standardError === null ? null : Math.max(0, estimate! - BAND_STANDARD_ERRORS * standardError),
      upper: standardError === null ? null : Math.min(1, estimate! + BAND_STANDARD_ERRORS * standardError),
      realized: realized?.[metric] ?? null,
      alertBelow,
      alert: alertBelow !== null && estimate !== null && estimate < alertBelow
    }
  })
}
