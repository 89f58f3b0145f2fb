/**
 * One check of a monitor, as pure functions: each feature with a baseline is tested (the
 * registered drift tests and the monitor's extra tests, when its window holds at least minWindow
 * values) and its drift method (DriftMethod.ts) run, the p-values of all tested features are
 * corrected together for multiple testing, and each feature gets its drift verdict and severity.
 * FeatureCheck is the per-feature result in reports and alerts.
 */
import { Schema } from "effect"
import { sortedSample } from "../stats/EmpiricalCdf.js"
import { benjaminiHochberg } from "../stats/HypothesisTests.js"
import { splitPsi } from "../stats/Psi.js"
import type { Baseline } from "./Baseline.js"
import { decideMethod, FeatureDrift, featureDrift, mayDrift, type PendingDrift } from "./DriftMethod.js"
import { type Correction, type FeatureSpec, FeatureType, type MonitorSettings } from "./Monitor.js"
import { countCategories, splitMissing } from "./Observations.js"
import { Severity, severityFor } from "./Severity.js"
import type { CategoricalDriftTest, DriftTest, NumericDriftTest, TestResult, TestRole } from "./tests/DriftTest.js"
import { extraTestsOf } from "./tests/ExtraTests.js"
import { categoricalTests, numericTests } from "./tests/registry.js"
import type { WindowValue } from "./ValueArrays.js"

const Numbers = Schema.Array(Schema.Finite)

/**
 * One drift test's outcome on a feature: its statistic (null where infinite), its p-value if it
 * has one, and the details some tests give (Anderson-Darling's critical values, ...).
 */
export const TestStatistic = Schema.Struct({
  statistic: Schema.NullOr(Schema.Finite),
  pValue: Schema.optionalKey(Schema.Finite),
  details: Schema.optionalKey(Schema.Record(Schema.String, Schema.Union([Schema.Finite, Numbers])))
})
export type TestStatistic = typeof TestStatistic.Type

export const FeatureCheck = Schema.Struct({
  feature: Schema.String,
  type: FeatureType,
  windowCount: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
  missingShare: Schema.Finite,
  /** Null when the window is smaller than minWindow (not tested). */
  psi: Schema.NullOr(Schema.Finite),
  ksStatistic: Schema.NullOr(Schema.Finite),
  /** KS (numeric) or chi-square (categorical) p-value, raw and after the correction. */
  pValue: Schema.NullOr(Schema.Finite),
  adjustedPValue: Schema.NullOr(Schema.Finite),
  severity: Severity,
  baselineVersion: Schema.Int,
  edges: Schema.NullOr(Numbers),
  categories: Schema.NullOr(Schema.Array(Schema.String)),
  baselineShares: Schema.NullOr(Numbers),
  currentShares: Schema.NullOr(Numbers),
  unseenCategories: Schema.Array(Schema.String),
  /**
   * Every test that ran on the feature, by name (e.g. "ks", "psi", "z-test", and the monitor's
   * settings.extraTests), when it was tested; reports written before these tests existed lack it.
   */
  statistics: Schema.optionalKey(Schema.Record(Schema.String, TestStatistic)),
  /**
   * Numeric features whose raw p-value is below the threshold: the PSI of the two-bin split at
   * the largest gap between the two CDFs (see splitPsi); the severity uses the larger PSI.
   */
  splitPsi: Schema.optionalKey(Schema.NullOr(Schema.Finite)),
  /**
   * The drift method's verdict (which test decided, its threshold, statistic, p-values, drifted),
   * when the feature was tested; reports written before drift methods existed lack it.
   */
  drift: Schema.optionalKey(FeatureDrift)
})
export type FeatureCheck = typeof FeatureCheck.Type

/** A feature's results before the correction across features sets its adjusted p-value, verdict and severity. */
export type TestedFeature = Omit<FeatureCheck, "adjustedPValue" | "severity" | "drift"> & {
  readonly baselineMissingShare: number
  /** The drift method's outcome (undefined when untested); its verdict waits for the correction. */
  readonly pendingDrift: PendingDrift | undefined
}

type NamedResult = TestResult & { readonly name: string; readonly role: TestRole }

/**
 * Every registered test for the baseline's type that applies to the feature, over the window's
 * non-missing values (each was checked against the feature's type when recorded, hence the casts).
 */
const runTests = (
  baseline: Baseline,
  present: ReadonlyArray<number | string>,
  settings: MonitorSettings,
  tests: {
    readonly numeric: ReadonlyArray<NumericDriftTest>
    readonly categorical: ReadonlyArray<CategoricalDriftTest>
  }
): ReadonlyArray<NamedResult> => {
  if (baseline.type === "numeric") {
    const numbers = present as ReadonlyArray<number>
    return tests.numeric.flatMap((t) => named(t, t.run(baseline, numbers, settings)))
  }
  const counts = countCategories(present as ReadonlyArray<string>)
  return tests.categorical.flatMap((t) => named(t, t.run(baseline, counts, settings)))
}

const named = (test: DriftTest, result: TestResult | null): Array<NamedResult> =>
  result === null ? [] : [{ name: test.name, role: test.role, ...result }]

/** The report's view of the results: statistic (null where infinite), p-value and details by test name. */
const statisticsOf = (results: ReadonlyArray<NamedResult>): Record<string, TestStatistic> =>
  Object.fromEntries(results.map((r) => [r.name, {
    statistic: Number.isFinite(r.statistic) ? r.statistic : null,
    ...(r.pValue === undefined ? {} : { pValue: r.pValue }),
    ...(r.details === undefined ? {} : { details: r.details })
  }]))

/**
 * The split PSI of a numeric feature that may drift: its drift method's raw p-value is below its
 * threshold or its distance reaches it (adjusted p-values are never smaller, so no other feature
 * can drift and the sort is skipped for them).
 */
const splitPsiOf = (
  baseline: Baseline,
  present: ReadonlyArray<number | string>,
  pending: PendingDrift
): number | null =>
  baseline.type === "numeric" && mayDrift(pending)
    ? splitPsi(
      sortedSample(baseline.sample, "baseline.sample"),
      sortedSample(present as ReadonlyArray<number>, "values")
    )
      .value
    : null

/** Tests one feature's window against its latest baseline (untested when the window is too small). */
export const testFeature = (
  spec: FeatureSpec,
  baseline: Baseline,
  window: ReadonlyArray<WindowValue>,
  settings: MonitorSettings
): TestedFeature => {
  const { missingShare, present } = splitMissing(window)
  const base = {
    feature: spec.name,
    type: spec.type,
    windowCount: window.length,
    missingShare,
    baselineVersion: baseline.version,
    baselineMissingShare: baseline.missingShare,
    unseenCategories: [] as ReadonlyArray<string>
  }
  if (present.length < settings.minWindow) {
    return {
      ...base,
      psi: null,
      ksStatistic: null,
      pValue: null,
      edges: null,
      categories: null,
      baselineShares: null,
      currentShares: null,
      pendingDrift: undefined
    }
  }
  const results = runTests(baseline, present, settings, { numeric: numericTests, categorical: categoricalTests })
  const extras = runTests(baseline, present, settings, extraTestsOf(settings))
  const distance = results.find((r) => r.role === "distance")
  const bins = distance?.bins
  const pValue = results.find((r) => r.role === "significance")?.pValue
  const ran = new Map([...results, ...extras].map((r) => [r.name, r]))
  const pendingDrift = decideMethod(spec, baseline, present, settings, ran)
  return {
    ...base,
    psi: distance?.statistic ?? null,
    ksStatistic: results.find((r) => r.name === "ks")?.statistic ?? null,
    pValue: pValue ?? null,
    edges: bins?.edges ?? null,
    categories: bins?.categories ?? null,
    baselineShares: bins?.baselineShares ?? null,
    currentShares: bins?.currentShares ?? null,
    unseenCategories: bins?.unseenCategories ?? [],
    statistics: statisticsOf([...results, ...extras]),
    ...(baseline.type === "numeric" ? { splitPsi: splitPsiOf(baseline, present, pendingDrift) } : {}),
    pendingDrift
  }
}

/** The p-values after the monitor's multiple-testing correction, in the same order. */
export const adjustPValues = (pValues: ReadonlyArray<number>, correction: Correction): ReadonlyArray<number> =>
  pValues.length === 0
    ? []
    : correction === "bonferroni"
    ? pValues.map((p) => Math.min(1, p * pValues.length))
    : correction === "benjamini-hochberg"
    ? benjaminiHochberg(pValues)
    : pValues

/** The p-values of the features passing `keep`, corrected together, by feature. */
const correctedBy = <A>(
  features: ReadonlyArray<A>,
  pValueOf: (feature: A) => number | undefined,
  correction: Correction
): Map<A, number> => {
  const tested = features.filter((f) => pValueOf(f) !== undefined)
  const adjusted = adjustPValues(tested.map((f) => pValueOf(f)!), correction)
  return new Map(tested.map((f, i) => [f, adjusted[i]!]))
}

/**
 * Corrects the tested features' p-values together (the KS / chi-square ones, and those of the
 * features whose drift method is a significance test), then gives each feature its drift verdict
 * and severity: the PSI band, only when its drift method found drift (Severity.ts).
 */
export const assessFeatures = (
  features: ReadonlyArray<TestedFeature>,
  settings: MonitorSettings
): Array<FeatureCheck> => {
  const adjustedOf = correctedBy(features, (f) => f.pValue ?? undefined, settings.correction)
  const driftAdjustedOf = correctedBy(
    features,
    (f) => f.pendingDrift?.role === "significance" ? f.pendingDrift.result.pValue : undefined,
    settings.correction
  )
  return features.map((feature) => {
    const { baselineMissingShare, pendingDrift, ...result } = feature
    const adjustedPValue = adjustedOf.get(feature)
    if (adjustedPValue === undefined || pendingDrift === undefined) {
      return { ...result, adjustedPValue: null, severity: "none" }
    }
    const drift = featureDrift(pendingDrift, driftAdjustedOf.get(feature))
    return {
      ...result,
      adjustedPValue,
      severity: severityFor({
        psi: result.psi!,
        splitPsi: result.splitPsi ?? null,
        drifted: drift.drifted,
        missingShare: result.missingShare,
        baselineMissingShare,
        bands: settings.severityThresholds
      }),
      drift
    }
  })
}
