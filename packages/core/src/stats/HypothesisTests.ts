/**
 * Tests for A/B results and alerts: Welch's t-test with confidence intervals for the difference
 * and (delta method) the relative lift, the two-proportion z-test, chi-square goodness of fit
 * (sample-ratio mismatch) and independence (categorical drift), Holm and Benjamini-Hochberg
 * adjustment, and sample sizes per arm.
 */
import { chiSquare, normal, studentT } from "./Distributions.js"
import { checkCount, checkPositive, checkProbability, checkSample, invalid } from "./StatsError.js"
import { meanDifference, type Summary, variance } from "./Summary.js"
import { summarize } from "./Summary.js"

const standardNormal = normal()

export interface Interval {
  readonly lower: number
  readonly upper: number
}

export interface WelchResult {
  readonly t: number
  /** Welch-Satterthwaite degrees of freedom. */
  readonly df: number
  /** Two-sided p-value. */
  readonly pValue: number
  /** mean(treatment) - mean(control), with its (1 - alpha) confidence interval (t quantile, Welch df). */
  readonly difference: number
  readonly differenceInterval: Interval
  /**
   * mean(treatment) / mean(control) - 1 and its delta-method interval (normal quantile); null when
   * the control mean is 0.
   */
  readonly relativeLift: number | null
  readonly relativeLiftInterval: Interval | null
}

const asSummary = (input: Summary | ArrayLike<number>, field: string): Summary => {
  if ("count" in input && "m2" in input) return input as Summary
  checkSample(input as ArrayLike<number>, field, 2)
  return summarize(input as ArrayLike<number>)
}

/**
 * Welch's unequal-variance t-test of treatment against control (scipy.stats.ttest_ind with
 * equal_var=False). Inputs are raw samples or mergeable summaries (at least 2 values each).
 */
export const welchTTest = (
  treatment: Summary | ArrayLike<number>,
  control: Summary | ArrayLike<number>,
  options: { readonly alpha?: number } = {}
): WelchResult => {
  const alpha = options.alpha ?? 0.05
  checkProbability(alpha, "alpha", { open: true })
  const t1 = asSummary(treatment, "treatment")
  const c1 = asSummary(control, "control")
  const vt = variance(t1) / t1.count
  const vc = variance(c1) / c1.count
  const se2 = vt + vc
  const difference = meanDifference(t1, c1)
  let t: number
  let df: number
  let pValue: number
  if (se2 === 0) {
    // Both arms constant: no sampling noise, the difference either is there or it is not.
    t = difference === 0 ? 0 : difference > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY
    df = t1.count + c1.count - 2
    pValue = difference === 0 ? 1 : 0
  } else {
    const se = Math.sqrt(se2)
    t = difference / se
    df = (se2 * se2) / ((vt * vt) / (t1.count - 1) + (vc * vc) / (c1.count - 1))
    if (!(df > 0 && df < Number.POSITIVE_INFINITY)) {
      // The squares overflow (variances near 1e300) or underflow (near 1e-300); as shares of se2 they cannot.
      const shareT = vt / se2
      const shareC = vc / se2
      df = 1 / ((shareT * shareT) / (t1.count - 1) + (shareC * shareC) / (c1.count - 1))
    }
    pValue = Math.min(1, 2 * studentT(df).sf(Math.abs(t)))
  }
  const se = Math.sqrt(se2)
  const critical = se2 === 0 ? 0 : studentT(df).quantileUpper(alpha / 2)
  let relativeLift: number | null = null
  let relativeLiftInterval: Interval | null = null
  if (c1.mean !== 0) {
    relativeLift = difference / c1.mean
    let liftSe = Math.sqrt(vt / (c1.mean * c1.mean) + (t1.mean * t1.mean * vc) / c1.mean ** 4)
    if (!Number.isFinite(liftSe)) {
      // The same quantity without the fourth power, which overflows for large means.
      const ratio = t1.mean / c1.mean
      liftSe = Math.sqrt(vt + ratio * ratio * vc) / Math.abs(c1.mean)
    }
    const z = standardNormal.quantileUpper(alpha / 2)
    relativeLiftInterval = { lower: relativeLift - z * liftSe, upper: relativeLift + z * liftSe }
  }
  return {
    t,
    df,
    pValue,
    difference,
    differenceInterval: { lower: difference - critical * se, upper: difference + critical * se },
    relativeLift,
    relativeLiftInterval
  }
}

export interface ProportionsResult {
  readonly z: number
  readonly pValue: number
  readonly difference: number
  /** Unpooled (Wald) interval of the difference of proportions. */
  readonly differenceInterval: Interval
  readonly relativeLift: number | null
}

/** Two-sided two-proportion z-test with the pooled standard error. */
export const twoProportionZTest = (
  treatment: { readonly successes: number; readonly trials: number },
  control: { readonly successes: number; readonly trials: number },
  options: { readonly alpha?: number } = {}
): ProportionsResult => {
  const alpha = options.alpha ?? 0.05
  checkProbability(alpha, "alpha", { open: true })
  for (const [name, arm] of [["treatment", treatment], ["control", control]] as const) {
    checkCount(arm.successes, `${name}.successes`)
    checkCount(arm.trials, `${name}.trials`)
    if (arm.trials === 0) invalid(`${name}.trials`, "must be positive")
    if (arm.successes > arm.trials) invalid(`${name}.successes`, `cannot exceed trials (${arm.trials})`)
  }
  const p1 = treatment.successes / treatment.trials
  const p2 = control.successes / control.trials
  const pooled = (treatment.successes + control.successes) / (treatment.trials + control.trials)
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / treatment.trials + 1 / control.trials))
  const difference = p1 - p2
  const z = se === 0 ? 0 : difference / se
  const pValue = se === 0 ? 1 : Math.min(1, 2 * standardNormal.sf(Math.abs(z)))
  const waldSe = Math.sqrt((p1 * (1 - p1)) / treatment.trials + (p2 * (1 - p2)) / control.trials)
  const critical = standardNormal.quantileUpper(alpha / 2)
  return {
    z,
    pValue,
    difference,
    differenceInterval: { lower: difference - critical * waldSe, upper: difference + critical * waldSe },
    relativeLift: p2 === 0 ? null : p1 / p2 - 1
  }
}

export interface ChiSquareResult {
  readonly statistic: number
  readonly df: number
  readonly pValue: number
}

/**
 * Chi-square goodness of fit of observed counts against expected proportions (or counts; they
 * are rescaled to the observed total), as scipy.stats.chisquare. The sample-ratio-mismatch check.
 */
export const chiSquareGoodnessOfFit = (
  observed: ReadonlyArray<number>,
  expected: ReadonlyArray<number>
): ChiSquareResult => {
  if (observed.length < 2) invalid("observed", "needs at least 2 categories")
  if (expected.length !== observed.length) {
    invalid("expected", `must have ${observed.length} entries like observed, got ${expected.length}`)
  }
  observed.forEach((c, i) => checkCount(c, `observed[${i}]`))
  expected.forEach((e, i) => checkPositive(e, `expected[${i}]`))
  const total = observed.reduce((a, b) => a + b, 0)
  if (total === 0) invalid("observed", "must contain at least one observation")
  const expectedTotal = expected.reduce((a, b) => a + b, 0)
  let statistic = 0
  for (let i = 0; i < observed.length; i++) {
    const e = (expected[i]! / expectedTotal) * total
    const d = observed[i]! - e
    statistic += (d * d) / e
  }
  const df = observed.length - 1
  return { statistic, df, pValue: chiSquare(df).sf(statistic) }
}

export interface IndependenceResult extends ChiSquareResult {
  readonly expected: ReadonlyArray<ReadonlyArray<number>>
}

/**
 * Chi-square test of independence on a contingency table (scipy.stats.chi2_contingency):
 * Yates' continuity correction is applied when df = 1 unless `correction: false`.
 */
export const chiSquareIndependence = (
  table: ReadonlyArray<ReadonlyArray<number>>,
  options: { readonly correction?: boolean } = {}
): IndependenceResult => {
  const rows = table.length
  if (rows < 2) invalid("table", "needs at least 2 rows")
  const cols = table[0]!.length
  if (cols < 2) invalid("table[0]", "needs at least 2 columns")
  table.forEach((row, r) => {
    if (row.length !== cols) invalid(`table[${r}]`, `must have ${cols} columns like table[0], got ${row.length}`)
    row.forEach((c, k) => checkCount(c, `table[${r}][${k}]`))
  })
  const rowSums = table.map((row) => row.reduce((a, b) => a + b, 0))
  const colSums = Array.from({ length: cols }, (_, k) => table.reduce((a, row) => a + row[k]!, 0))
  const total = rowSums.reduce((a, b) => a + b, 0)
  rowSums.forEach((s, r) =>
    s === 0 && invalid(`table[${r}]`, "row has no observations (expected frequencies would be 0)")
  )
  colSums.forEach((s, k) =>
    s === 0 && invalid(`table[*][${k}]`, "column has no observations (expected frequencies would be 0)")
  )
  const expected = table.map((_, r) => colSums.map((cs) => (rowSums[r]! * cs) / total))
  const df = (rows - 1) * (cols - 1)
  const correct = (options.correction ?? true) && df === 1
  let statistic = 0
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < cols; k++) {
      const e = expected[r]![k]!
      let o = table[r]![k]!
      if (correct) {
        const diff = e - o
        o += Math.sign(diff) * Math.min(0.5, Math.abs(diff))
      }
      const d = o - e
      statistic += (d * d) / e
    }
  }
  return { statistic, df, pValue: chiSquare(df).sf(statistic), expected }
}

const checkPValues = (pValues: ReadonlyArray<number>) => {
  if (pValues.length === 0) invalid("pValues", "must not be empty")
  pValues.forEach((p, i) => checkProbability(p, `pValues[${i}]`))
}

/** Holm-Bonferroni step-down adjusted p-values, in the input order. */
export const holmBonferroni = (pValues: ReadonlyArray<number>): Array<number> => {
  checkPValues(pValues)
  const m = pValues.length
  const order = pValues.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0])
  const adjusted = new Array<number>(m)
  let running = 0
  order.forEach(([p, i], rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p))
    adjusted[i] = running
  })
  return adjusted
}

/** Benjamini-Hochberg step-up adjusted p-values (false discovery rate), in the input order. */
export const benjaminiHochberg = (pValues: ReadonlyArray<number>): Array<number> => {
  checkPValues(pValues)
  const m = pValues.length
  const order = pValues.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0])
  const adjusted = new Array<number>(m)
  let running = 1
  for (let rank = m - 1; rank >= 0; rank--) {
    const [p, i] = order[rank]!
    running = Math.min(running, (m / (rank + 1)) * p)
    adjusted[i] = Math.min(1, running)
  }
  return adjusted
}

export interface SampleSizeOptions {
  readonly alpha?: number
  readonly power?: number
}

/** Per-arm sample size to detect a difference `mde` in means with standard deviation `sd` (two-sided). */
export const sampleSizeForMeans = (mde: number, sd: number, options: SampleSizeOptions = {}): number => {
  checkPositive(Math.abs(mde), "mde")
  checkPositive(sd, "sd")
  const alpha = options.alpha ?? 0.05
  const power = options.power ?? 0.8
  checkProbability(alpha, "alpha", { open: true })
  checkProbability(power, "power", { open: true })
  const z = standardNormal.quantileUpper(alpha / 2) + standardNormal.quantile(power)
  return Math.ceil((2 * z * z * sd * sd) / (mde * mde))
}

/** Per-arm sample size to detect a change from proportion `baseline` to `baseline + mde` (two-sided). */
export const sampleSizeForProportions = (baseline: number, mde: number, options: SampleSizeOptions = {}): number => {
  checkProbability(baseline, "baseline", { open: true })
  checkPositive(Math.abs(mde), "mde")
  const target = baseline + mde
  if (!(target > 0 && target < 1)) invalid("mde", `baseline + mde must lie in (0, 1), got ${target}`)
  const alpha = options.alpha ?? 0.05
  const power = options.power ?? 0.8
  checkProbability(alpha, "alpha", { open: true })
  checkProbability(power, "power", { open: true })
  const za = standardNormal.quantileUpper(alpha / 2)
  const zb = standardNormal.quantile(power)
  const mean = (baseline + target) / 2
  const n =
    (za * Math.sqrt(2 * mean * (1 - mean)) + zb * Math.sqrt(baseline * (1 - baseline) + target * (1 - target))) ** 2 /
    (mde * mde)
  return Math.ceil(n)
}
