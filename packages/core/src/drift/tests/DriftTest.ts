/**
 * The one interface every drift test implements, so that adding a test is one file here plus
 * one line in registry.ts. A test compares a feature's frozen baseline with the non-missing
 * values of its current window and returns a statistic; a significance test also returns a
 * p-value (its corrected p-value decides whether the feature drifted), and a distance test may
 * return how it binned the two distributions (its statistic sets the severity band, see
 * Severity.ts). A test that does not apply to a feature (a binary test on a feature with more than
 * two values) returns null and is absent from that feature's report. Tests are pure functions.
 */
import type { CategoricalBaseline, NumericBaseline } from "../Baseline.js"
import type { MonitorSettings } from "../Monitor.js"

/** How a distance test binned both distributions; shown per feature in reports. */
export interface Bins {
  /** Interior bin edges (numeric) or the categories (categorical); the other is null. */
  readonly edges: ReadonlyArray<number> | null
  readonly categories: ReadonlyArray<string> | null
  readonly baselineShares: ReadonlyArray<number>
  readonly currentShares: ReadonlyArray<number>
  /** Categories present now but never seen in the baseline. */
  readonly unseenCategories: ReadonlyArray<string>
}

export interface TestResult {
  readonly statistic: number
  readonly pValue?: number | undefined
  readonly bins?: Bins | undefined
  /** Further numbers a test reports beside its statistic (e.g. the raw Wasserstein distance). */
  readonly details?: Readonly<Record<string, number | ReadonlyArray<number>>> | undefined
}

/** significance: its p-value decides whether a feature drifted; distance: its statistic sets how much. */
export type TestRole = "significance" | "distance"

interface TestInfo {
  /** Short, stable: the key in reports and metrics (e.g. "ks", "psi"). */
  readonly name: string
  readonly role: TestRole
}

export interface NumericDriftTest extends TestInfo {
  readonly appliesTo: "numeric"
  readonly run: (
    baseline: NumericBaseline,
    values: ReadonlyArray<number>,
    settings: MonitorSettings
  ) => TestResult | null
}

export interface CategoricalDriftTest extends TestInfo {
  readonly appliesTo: "categorical"
  /** `counts`: how often each category occurs in the window. */
  readonly run: (
    baseline: CategoricalBaseline,
    counts: Readonly<Record<string, number>>,
    settings: MonitorSettings
  ) => TestResult | null
}

export type DriftTest = NumericDriftTest | CategoricalDriftTest
