/**
 * Dimension breakdowns, pure: exposures and metric observations may carry `dimensions`
 * ({ country: "de" }); the store keeps one summary per (dimension, value, variant, metric) and an
 * exposure count per (dimension, value, variant). Everything is bounded: dimensions per record,
 * name and value length, and distinct values per dimension and experiment (later values share
 * DIMENSION_OTHER, as the Prometheus label cap does). Results per value compare each treatment
 * with the control; slicing multiplies the tests, so the p-values are adjusted with
 * Benjamini-Hochberg across every value × metric × treatment of the breakdown (false discovery
 * rate at alpha), and only the adjusted p-value decides significance.
 */
import { Result, Schema } from "effect"
import type { FieldIssue, ValidationError } from "../shared/Errors.js"
import { benjaminiHochberg } from "../stats/HypothesisTests.js"
import { addValue, emptySummary, type Summary } from "../stats/Summary.js"
import type { Experiment } from "./Experiment.js"
import { ExperimentId, MetricName } from "./Experiment.js"
import { DIMENSION_OTHER, SummaryRecord } from "./ExperimentStore.js"
import { invalidInput } from "./Issues.js"
import { compareToControl, Comparison, MetricSummaryView, summaryView } from "./Results.js"

/** The most dimensions one exposure or observation may carry. */
export const MAX_DIMENSIONS_PER_RECORD = 5
/** The longest dimension value, in characters. */
export const MAX_DIMENSION_VALUE_LENGTH = 128
// The cap is the store's to enforce (atomically), so its constants live there.
export { DIMENSION_OTHER, MAX_DIMENSION_VALUES } from "./ExperimentStore.js"

const dimensionNamePattern = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/u
const dimensionNameRule = "must be 1-64 characters: a letter or '_' then letters, digits, '_', '.' or '-'"

export const DimensionName = Schema.String.check(
  Schema.isPattern(dimensionNamePattern, { message: dimensionNameRule })
)

/** A value: printable text (no control characters), 1 to MAX_DIMENSION_VALUE_LENGTH characters. */
const valueIssue = (value: unknown): string | undefined =>
  typeof value !== "string" || value.length === 0 || value.length > MAX_DIMENSION_VALUE_LENGTH ||
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u001f\u007f]/u.test(value)
    ? `must be a string of 1 to ${MAX_DIMENSION_VALUE_LENGTH} characters without control characters`
    : undefined

export const DimensionValue = Schema.String.check(
  Schema.makeFilter((value) => valueIssue(value))
)

/** The dimensions of one record, as sent: checked by dimensionsIssues (the envelope only by the schema). */
export const Dimensions = Schema.Record(Schema.String, Schema.String)
export type Dimensions = typeof Dimensions.Type

/** Every issue with a record's dimensions, with paths below `at`. */
export const dimensionsIssues = (
  dimensions: unknown,
  at: ReadonlyArray<string | number>
): Array<FieldIssue> => {
  if (dimensions === undefined) return []
  if (typeof dimensions !== "object" || dimensions === null || Array.isArray(dimensions)) {
    return [{ path: [...at, "dimensions"], message: "must be an object of dimension names to values" }]
  }
  const entries = Object.entries(dimensions)
  if (entries.length > MAX_DIMENSIONS_PER_RECORD) {
    return [{
      path: [...at, "dimensions"],
      message: `must hold at most ${MAX_DIMENSIONS_PER_RECORD} dimensions, got ${entries.length}`
    }]
  }
  return entries.flatMap(([name, value]): Array<FieldIssue> => {
    const issues: Array<FieldIssue> = []
    if (!dimensionNamePattern.test(name)) issues.push({ path: [...at, "dimensions", name], message: dimensionNameRule })
    const problem = valueIssue(value)
    if (problem !== undefined) issues.push({ path: [...at, "dimensions", name], message: problem })
    return issues
  })
}

const VariantIndex = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

/** One summary merged into the (dimension, value, variant, metric) summary. */
export const DimensionMetricUpdate = Schema.Struct({
  dimension: DimensionName,
  value: Schema.String,
  variant: VariantIndex,
  metric: MetricName,
  summary: SummaryRecord
})
export type DimensionMetricUpdate = typeof DimensionMetricUpdate.Type

/** Exposures added to the (dimension, value, variant) count. */
export const DimensionExposureUpdate = Schema.Struct({
  dimension: DimensionName,
  value: Schema.String,
  variant: VariantIndex,
  count: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
})
export type DimensionExposureUpdate = typeof DimensionExposureUpdate.Type

/** One value of a dimension as stored: per variant index, exposures and one summary per metric. */
export const DimensionSlice = Schema.Struct({
  value: Schema.String,
  variants: Schema.Array(Schema.Struct({
    exposures: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
    metrics: Schema.Record(Schema.String, SummaryRecord)
  }))
})
export type DimensionSlice = typeof DimensionSlice.Type

/**
 * The value a store keeps for `value` of a dimension that already holds `known` (its distinct
 * values so far): the value itself when known or while there is room, DIMENSION_OTHER after.
 */
export const cappedDimensionValue = (
  known: { readonly has: (value: string) => boolean; readonly size: number },
  value: string,
  maxValues: number
): string => (known.has(value) || known.size < maxValues ? value : DIMENSION_OTHER)

interface WithDimensions {
  readonly modelId: string
  readonly dimensions?: Readonly<Record<string, string>> | undefined
}

const variantOf = (experiment: Pick<Experiment, "variants">, modelId: string) =>
  experiment.variants.findIndex((v) => v.modelId === modelId)

/** Every issue with the dimensions of a batch (observations or exposures), named by index. */
export const batchDimensionIssues = (
  what: "metrics" | "exposures",
  records: ReadonlyArray<{ readonly dimensions?: unknown }>
): Result.Result<void, ValidationError> => {
  const issues = records.flatMap((r, i) => dimensionsIssues(r.dimensions, [i]))
  return issues.length > 0 ? Result.fail(invalidInput(what, issues)) : Result.void
}

const hasDimensions = (entry: WithDimensions): boolean => entry.dimensions !== undefined

/** One summary per (dimension, value, variant, metric) of a checked batch of observations. */
export const dimensionMetricUpdates = (
  experiment: Pick<Experiment, "variants">,
  observations: ReadonlyArray<WithDimensions & { readonly metric: string; readonly value: number }>
): Array<DimensionMetricUpdate> => {
  // Most batches carry no dimensions: nothing to group, nothing allocated.
  if (!observations.some(hasDimensions)) return []
  const grouped = new Map<string, { dimension: string; value: string; variant: number; metric: string; s: Summary }>()
  for (const o of observations) {
    const variant = variantOf(experiment, o.modelId)
    if (variant === -1 || o.dimensions === undefined) continue
    for (const [dimension, value] of Object.entries(o.dimensions)) {
      const key = `${dimension}\u0000${value}\u0000${variant}\u0000${o.metric}`
      const entry = grouped.get(key) ?? { dimension, value, variant, metric: o.metric, s: emptySummary }
      grouped.set(key, { ...entry, s: addValue(entry.s, o.value) })
    }
  }
  return [...grouped.values()].map(({ s, ...rest }) => ({ ...rest, summary: s }))
}

/** One count per (dimension, value, variant) of a checked batch of exposures. */
export const dimensionExposureUpdates = (
  experiment: Pick<Experiment, "variants">,
  exposures: ReadonlyArray<WithDimensions & { readonly count: number }>
): Array<DimensionExposureUpdate> => {
  if (!exposures.some(hasDimensions)) return []
  const grouped = new Map<string, DimensionExposureUpdate>()
  for (const e of exposures) {
    const variant = variantOf(experiment, e.modelId)
    if (variant === -1 || e.dimensions === undefined || e.count === 0) continue
    for (const [dimension, value] of Object.entries(e.dimensions)) {
      const key = `${dimension}\u0000${value}\u0000${variant}`
      const count = (grouped.get(key)?.count ?? 0) + e.count
      grouped.set(key, { dimension, value, variant, count })
    }
  }
  return [...grouped.values()]
}

/** A comparison within one value, with its p-value adjusted across the whole breakdown. */
export const DimensionComparison = Schema.Struct({
  ...Comparison.fields,
  /** Benjamini-Hochberg across every value × metric × treatment of the breakdown; decides significance. */
  breakdownAdjustedPValue: Schema.NullOr(Schema.Finite)
})
export type DimensionComparison = typeof DimensionComparison.Type

export const DimensionValueResults = Schema.Struct({
  value: Schema.String,
  variants: Schema.Array(Schema.Struct({
    modelId: Schema.String,
    exposures: Schema.Int,
    metrics: Schema.Record(Schema.String, MetricSummaryView)
  })),
  comparisons: Schema.Array(DimensionComparison)
})

export const DimensionResults = Schema.Struct({
  experimentId: ExperimentId,
  dimension: DimensionName,
  /** How the p-values were adjusted for the many slices. */
  correction: Schema.Literal("benjamini-hochberg"),
  /** Tests the correction spans (values × metrics × treatments that could be computed). */
  tests: Schema.Int,
  values: Schema.Array(DimensionValueResults)
})
export type DimensionResults = typeof DimensionResults.Type

/**
 * Results per value of a dimension, on the target metric and the declared metric goals: Welch
 * comparisons per value (fixed horizon; the sequential test and the decision stay with the
 * overall results), their raw p-values adjusted with Benjamini-Hochberg across the breakdown, and
 * significance from the adjusted p-value at the experiment's alpha.
 */
export const dimensionResults = (
  experiment: Experiment,
  dimension: string,
  slices: ReadonlyArray<DimensionSlice>
): DimensionResults => {
  const metrics = [experiment.targetMetric, ...Object.keys(experiment.metricGoals)]
    .filter((m, i, all) => all.indexOf(m) === i)
  const fixedHorizon = { ...experiment, sequential: false }
  const perValue = slices.map((slice) => ({
    slice,
    comparisons: metrics.flatMap((metric) => compareToControl(fixedHorizon, slice.variants, metric))
  }))
  const tested = perValue.flatMap((v) => v.comparisons.filter((c) => Number.isFinite(c.pValue)))
  const adjusted = tested.length > 0 ? benjaminiHochberg(tested.map((c) => c.pValue)) : []
  const adjustedOf = new Map(tested.map((c, i) => [c, adjusted[i]!]))
  const values = perValue.map(({ comparisons, slice }) => ({
    value: slice.value,
    variants: experiment.variants.map((v, i) => ({
      modelId: v.modelId,
      exposures: slice.variants[i]?.exposures ?? 0,
      metrics: Object.fromEntries(
        Object.entries(slice.variants[i]?.metrics ?? {}).map(([m, s]) => [m, summaryView(s, experiment.alpha)])
      )
    })),
    comparisons: comparisons.map((c): DimensionComparison => {
      const p = adjustedOf.get(c)
      if (p === undefined) return { ...c, breakdownAdjustedPValue: null }
      const significant = p < experiment.alpha && c.difference !== 0
      const better = experiment.metricGoals[c.metric]?.direction === "minimize" ? c.difference < 0 : c.difference > 0
      return {
        ...c,
        breakdownAdjustedPValue: p,
        significantlyBetter: significant && better,
        significantlyWorse: significant && !better
      }
    })
  }))
  return { experimentId: experiment.id, dimension, correction: "benjamini-hochberg", tests: tested.length, values }
}
