/**
 * Which drift test decides whether a feature drifted (its drift method), and at what threshold.
 * A feature's own choice (`features[i].drift`) wins over the monitor's for its type
 * (`settings.drift.numeric` / `.categorical`); without either, the automatic choice follows
 * Evidently's defaults (DataDriftPreset's get_stattest) by type, distinct values and size:
 *
 * - baseline or window of at most 1,000 values (Evidently looks at the baseline only; a fixed
 *   distance threshold alarms on noise at small windows, e.g. Wasserstein >= 0.1 in 67% of checks
 *   of 100 values with no drift, README's simulated table): numeric with more than 5 distinct values: KS; a categorical
 *   feature, or a numeric one with at most 5 distinct values (read as categories), with 3 or more:
 *   chi-square; with exactly 2 (binary): the z-test for two proportions, or Fisher's exact test
 *   when an expected cell of the 2 x 2 table is below 5 (where the z-test's normal approximation
 *   fails); all at the monitor's pValueThreshold;
 * - larger baselines and windows: numeric with more than 5 distinct values: the Wasserstein distance normed by
 *   the baseline's sd; otherwise Jensen-Shannon over the categories (values); both at 0.1.
 *
 * Distinct values are counted over the baseline's reference sample and the window together, as
 * Evidently counts over reference and current. A monitor stored without `settings.drift` (created
 * before the automatic choice) keeps its rule: KS or chi-square decides ("legacy"). A chosen test
 * that does not apply to the data (a binary test on a feature with three values) gives way to the
 * automatic choice.
 */
import { Schema } from "effect"
import type { FieldIssue } from "../shared/Errors.js"
import type { Baseline } from "./Baseline.js"
import type { DriftMethodChoice } from "./DriftMethodSettings.js"
import type { FeatureSpec, FeatureType, MonitorSettings } from "./Monitor.js"
import { countCategories } from "./Observations.js"
import { categoricalBinaryCounts } from "./tests/BinaryCounts.js"
import type { CategoricalDriftTest, DriftTest, TestResult, TestRole } from "./tests/DriftTest.js"
import { driftTests, extraDriftTests } from "./tests/registry.js"
import { distinctValuesUpTo, numericAsCategorical } from "./tests/ValuesAsCategories.js"

/** Baselines (Evidently's limit) or windows up to this size get tests with p-values, larger ones distances. */
export const SMALL_SAMPLE_SIZE = 1000
/** Numeric features with at most this many distinct values are compared as categories. */
export const FEW_DISTINCT_VALUES = 5
/** The default threshold of distance methods (Evidently's for Wasserstein, Jensen-Shannon, PSI, ...). */
export const DEFAULT_DISTANCE_THRESHOLD = 0.1
/** Below this expected count in a cell of the 2 x 2 table, a binary feature gets Fisher's exact test. */
const MIN_EXPECTED_CELL = 5

/** Who chose a feature's method: the automatic table, the feature, the monitor, or a monitor's legacy rule. */
export const MethodSource = Schema.Literals(["auto", "feature", "monitor", "legacy"])
export type MethodSource = typeof MethodSource.Type

/** A tested feature's drift verdict, in reports. */
export const FeatureDrift = Schema.Struct({
  method: Schema.String,
  role: Schema.Literals(["significance", "distance"]),
  chosenBy: MethodSource,
  /** True when a numeric feature with few distinct values was compared as categories (its values). */
  valuesAsCategories: Schema.optionalKey(Schema.Boolean),
  /** Significance: drifted when the corrected p-value is below it; distance: when the statistic reaches it. */
  threshold: Schema.Finite,
  /** Null where infinite (an odds ratio over an empty cell). */
  statistic: Schema.NullOr(Schema.Finite),
  pValue: Schema.optionalKey(Schema.Finite),
  /** The p-value after the monitor's correction across the features decided by significance tests. */
  adjustedPValue: Schema.optionalKey(Schema.Finite),
  drifted: Schema.Boolean
})
export type FeatureDrift = typeof FeatureDrift.Type

/** The chosen method's outcome before the correction across features sets the verdict. */
export interface PendingDrift {
  readonly method: string
  readonly role: TestRole
  readonly chosenBy: MethodSource
  readonly valuesAsCategories: boolean
  readonly threshold: number
  readonly result: TestResult
}

const allTests: ReadonlyArray<DriftTest> = [...driftTests, ...extraDriftTests]

/** The registered test of that name for the feature type, if any. */
const testNamed = (name: string, type: FeatureType): DriftTest | undefined =>
  allTests.find((t) => t.name === name && t.appliesTo === type)

/** The method names a feature of this type may choose. */
export const methodNames = (type: FeatureType): ReadonlyArray<string> => [
  ...new Set(allTests.filter((t) => t.appliesTo === type).map((t) => t.name))
]

const defaultThreshold = (role: TestRole, settings: MonitorSettings) =>
  role === "significance" ? settings.pValueThreshold : DEFAULT_DISTANCE_THRESHOLD

const runOn = (
  test: DriftTest,
  baseline: Baseline,
  present: ReadonlyArray<number | string>,
  counts: () => Readonly<Record<string, number>>,
  settings: MonitorSettings
): TestResult | null =>
  test.appliesTo === "numeric"
    ? baseline.type === "numeric" ? test.run(baseline, present as ReadonlyArray<number>, settings) : null
    : baseline.type === "categorical"
    ? test.run(baseline, counts(), settings)
    : null

/** A categorical test on a numeric feature's values read as categories. */
const runOnValues = (
  test: CategoricalDriftTest,
  baseline: Baseline,
  present: ReadonlyArray<number | string>,
  settings: MonitorSettings
): TestResult | null => {
  if (baseline.type !== "numeric") return null
  const asCategories = numericAsCategorical(baseline, present as ReadonlyArray<number>)
  return test.run(asCategories.baseline, asCategories.counts, settings)
}

const categorical = (name: string): CategoricalDriftTest => testNamed(name, "categorical") as CategoricalDriftTest

/** The binary test for a 2-valued feature: Fisher's when an expected cell is below 5, else the z-test. */
const binaryTestName = (
  baseline: Baseline,
  present: ReadonlyArray<number | string>,
  counts: () => Readonly<Record<string, number>>
): string => {
  const table = baseline.type === "categorical"
    ? categoricalBinaryCounts(baseline, counts())
    : (() => {
      const asCategories = numericAsCategorical(baseline, present as ReadonlyArray<number>)
      return categoricalBinaryCounts(asCategories.baseline, asCategories.counts)
    })()
  if (table === null) return "z-test"
  const total = table.current.trials + table.baseline.trials
  const positives = table.current.successes + table.baseline.successes
  const smallest = Math.min(table.current.trials, table.baseline.trials) * Math.min(positives, total - positives) /
    total
  return smallest < MIN_EXPECTED_CELL ? "fisher-exact" : "z-test"
}

/** The automatic choice (see the module comment): the test's name and whether values are read as categories. */
export const automaticMethod = (
  baseline: Baseline,
  present: ReadonlyArray<number | string>,
  counts: () => Readonly<Record<string, number>>
): { readonly method: string; readonly valuesAsCategories: boolean } => {
  const small = Math.min(baseline.count, present.length) <= SMALL_SAMPLE_SIZE
  const limit = FEW_DISTINCT_VALUES + 1
  const distinct = baseline.type === "numeric"
    ? distinctValuesUpTo(baseline.sample, present, limit)
    : distinctValuesUpTo(
      Object.keys(baseline.counts).filter((c) => baseline.counts[c]! > 0),
      Object.keys(counts()),
      limit
    )
  const valuesAsCategories = baseline.type === "numeric" && distinct <= FEW_DISTINCT_VALUES
  if (baseline.type === "numeric" && !valuesAsCategories) {
    return { method: small ? "ks" : "wasserstein", valuesAsCategories }
  }
  if (!small) return { method: "jensen-shannon", valuesAsCategories }
  // One value in all: nothing to compare, and chi-square says so (p = 1) where the z-test is undefined.
  const method = distinct === 2 ? binaryTestName(baseline, present, counts) : "chi-square"
  return { method, valuesAsCategories }
}

/** The feature's or the monitor's choice for it, if any (a legacy monitor's is KS or chi-square). */
const chosenMethod = (
  spec: FeatureSpec,
  settings: MonitorSettings
): { readonly choice: DriftMethodChoice; readonly chosenBy: MethodSource } | undefined => {
  if (spec.drift?.method !== undefined) return { choice: spec.drift, chosenBy: "feature" }
  if (settings.drift === undefined) {
    return { choice: { method: spec.type === "numeric" ? "ks" : "chi-square" }, chosenBy: "legacy" }
  }
  const forType = settings.drift[spec.type]
  return forType?.method === undefined ? undefined : { choice: forType, chosenBy: "monitor" }
}

/** The feature's or the monitor's test for it, with its threshold, when one is named and exists. */
const chosenTest = (spec: FeatureSpec, settings: MonitorSettings) => {
  const chosen = chosenMethod(spec, settings)
  const test = chosen?.choice.method === undefined ? undefined : testNamed(chosen.choice.method, spec.type)
  return chosen === undefined || test === undefined ? undefined : {
    test,
    chosenBy: chosen.chosenBy,
    threshold: chosen.choice.threshold ?? defaultThreshold(test.role, settings)
  }
}

/** The automatic table's test for the window, with its default threshold. */
const automaticTest = (
  type: FeatureType,
  baseline: Baseline,
  present: ReadonlyArray<number | string>,
  counts: () => Readonly<Record<string, number>>,
  settings: MonitorSettings
) => {
  const auto = automaticMethod(baseline, present, counts)
  const test = auto.valuesAsCategories ? categorical(auto.method) : testNamed(auto.method, type)!
  return { test, valuesAsCategories: auto.valuesAsCategories, threshold: defaultThreshold(test.role, settings) }
}

/** The window's category counts, counted once when a test asks for them. */
const lazyCounts = (present: ReadonlyArray<number | string>) => {
  let counted: Readonly<Record<string, number>> | undefined
  return () => (counted ??= countCategories(present as ReadonlyArray<string>))
}

/**
 * Runs the feature's drift method on its window (`ran`: the results the check already has by
 * test name, reused rather than run twice).
 */
export const decideMethod = (
  spec: FeatureSpec,
  baseline: Baseline,
  present: ReadonlyArray<number | string>,
  settings: MonitorSettings,
  ran: ReadonlyMap<string, TestResult>
): PendingDrift => {
  const counts = lazyCounts(present)
  const chosen = chosenTest(spec, settings)
  if (chosen !== undefined) {
    const result = ran.get(chosen.test.name) ?? runOn(chosen.test, baseline, present, counts, settings)
    if (result !== null) {
      return {
        method: chosen.test.name,
        role: chosen.test.role,
        chosenBy: chosen.chosenBy,
        valuesAsCategories: false,
        threshold: chosen.threshold,
        result
      }
    }
  }
  const auto = automaticTest(spec.type, baseline, present, counts, settings)
  const result = (auto.valuesAsCategories
    ? runOnValues(auto.test as CategoricalDriftTest, baseline, present, settings)
    : ran.get(auto.test.name) ?? runOn(auto.test, baseline, present, counts, settings))!
  return {
    method: auto.test.name,
    role: auto.test.role,
    chosenBy: "auto",
    valuesAsCategories: auto.valuesAsCategories,
    threshold: auto.threshold,
    result
  }
}

/**
 * The method that decides the feature, without running it: its role and threshold, for the
 * false-alarm figures between checks (a chosen test that will not apply, a z-test on a feature
 * that is not binary, is reported by the role of the one that will: both are significance tests).
 */
export const decisionMethodFor = (
  spec: FeatureSpec,
  baseline: Baseline,
  present: ReadonlyArray<number | string>,
  settings: MonitorSettings
): { readonly method: string; readonly role: TestRole; readonly threshold: number } => {
  const { test, threshold } = chosenTest(spec, settings) ??
    automaticTest(spec.type, baseline, present, lazyCounts(present), settings)
  return { method: test.name, role: test.role, threshold }
}

/** The verdict once the correction has set the adjusted p-value (significance methods). */
export const featureDrift = (pending: PendingDrift, adjustedPValue: number | undefined): FeatureDrift => {
  const { result } = pending
  const drifted = pending.role === "significance"
    ? adjustedPValue !== undefined && adjustedPValue < pending.threshold
    : result.statistic >= pending.threshold
  return {
    method: pending.method,
    role: pending.role,
    chosenBy: pending.chosenBy,
    ...(pending.valuesAsCategories ? { valuesAsCategories: true } : {}),
    threshold: pending.threshold,
    statistic: Number.isFinite(result.statistic) ? result.statistic : null,
    ...(result.pValue === undefined ? {} : { pValue: result.pValue }),
    ...(adjustedPValue === undefined ? {} : { adjustedPValue }),
    drifted
  }
}

/** Whether the method may find drift before the correction (adjusted p-values are never smaller). */
export const mayDrift = (pending: PendingDrift): boolean =>
  pending.role === "significance"
    ? pending.result.pValue !== undefined && pending.result.pValue < pending.threshold
    : pending.result.statistic >= pending.threshold

/**
 * A method must be registered for the feature's type, and a threshold must fit its role (a
 * p-value threshold below 1) and comes with the method it is for.
 */
const choiceIssues = (
  choice: DriftMethodChoice | undefined,
  type: FeatureType,
  path: ReadonlyArray<string | number>
): Array<FieldIssue> => {
  if (choice === undefined) return []
  const issues: Array<FieldIssue> = []
  if (choice.method === undefined) {
    if (choice.threshold !== undefined) {
      issues.push({ path: [...path, "threshold"], message: "needs a method: a threshold is for one method" })
    }
    return issues
  }
  const test = testNamed(choice.method, type)
  if (test === undefined) {
    issues.push({
      path: [...path, "method"],
      message: `must be a ${type} drift method: one of ${methodNames(type).join(", ")}`
    })
  } else if (test.role === "significance" && choice.threshold !== undefined && choice.threshold >= 1) {
    issues.push({ path: [...path, "threshold"], message: `must be below 1 (a p-value threshold for ${test.name})` })
  }
  return issues
}

/** The issues of a new monitor's method choices (features[i].drift, settings.drift). */
export const driftMethodIssues = (
  features: ReadonlyArray<FeatureSpec>,
  settings: MonitorSettings
): Array<FieldIssue> => [
  ...features.flatMap((f, i) => choiceIssues(f.drift, f.type, ["features", i, "drift"])),
  ...choiceIssues(settings.drift?.numeric, "numeric", ["settings", "drift", "numeric"]),
  ...choiceIssues(settings.drift?.categorical, "categorical", ["settings", "drift", "categorical"])
]
