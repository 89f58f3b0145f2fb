/**
 * Port: experiments, sticky assignments and the aggregates their statistics need. Assignment
 * is "set if absent, return the winner", so concurrent first requests for one user on many
 * instances agree; exposures and metric summaries merge atomically, so instances can record
 * at once with no lost updates. Exposures are also counted per UTC day (the newest
 * MAX_EXPOSURE_DAYS days), so traffic over time can be shown. For sequential experiments it keeps
 * the running minimum of the always-valid p-value per treatment and metric, lowered atomically at
 * each look (see SequentialPValue). The records it keeps besides
 * experiments and assignments (summaries, metric updates, counters, daily exposures) are schemas
 * here, so adapters decode what they read.
 */
import { Context, Effect, Layer, type Result, Schema } from "effect"
import { StaleRevisionError, type StorageError } from "../shared/Errors.js"
import { emptyPairedSummary, mergePairedSummaries, type PairedSummary } from "../stats/PairedSummary.js"
import { emptySummary, mergeSummaries, type Summary } from "../stats/Summary.js"
import {
  appendDefinitionRevision,
  type DefinitionRevision,
  definitionRevisionOf,
  MAX_DEFINITION_HISTORY
} from "./DefinitionHistory.js"
import type { DimensionExposureUpdate, DimensionMetricUpdate, DimensionSlice } from "./Dimensions.js"
import { ExperimentConflictError } from "./Errors.js"
import { type Assignment, type Experiment, MetricName } from "./Experiment.js"

/**
 * A stats Summary as stored (JSON in the fs journal, "|"-joined numbers in Redis). Stored
 * summaries are never empty (a batch only stores the groups it has values for), so every field
 * is finite.
 */
export const SummaryRecord = Schema.Struct({
  count: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
  mean: Schema.Finite,
  m2: Schema.Finite,
  min: Schema.Finite,
  max: Schema.Finite,
  shift: Schema.Finite,
  shiftedMean: Schema.Finite
})
export type SummaryRecord = typeof SummaryRecord.Type

/**
 * A stats PairedSummary as stored (Redis: "|"-joined numbers). Kept per (variant, metric) next to
 * the plain summary, for the observations that carried a covariate (x the covariate, y the value:
 * CUPED) or a denominator (x the denominator, y the value: ratio metrics).
 */
export const PairedSummaryRecord = Schema.Struct({
  count: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
  shiftX: Schema.Finite,
  shiftedMeanX: Schema.Finite,
  m2X: Schema.Finite,
  shiftY: Schema.Finite,
  shiftedMeanY: Schema.Finite,
  m2Y: Schema.Finite,
  coMoment: Schema.Finite
})
export type PairedSummaryRecord = typeof PairedSummaryRecord.Type

/** What the x of a stored paired summary is: a covariate (CUPED) or a denominator (ratio metric). */
export const pairKinds = ["covariatePairs", "denominatorPairs"] as const
export type PairKind = (typeof pairKinds)[number]

const VariantIndex = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

export const MetricUpdate = Schema.Struct({
  variant: VariantIndex,
  metric: MetricName,
  summary: SummaryRecord,
  /** The observations of the batch that carried a covariate, as (covariate, value) pairs. */
  covariatePairs: Schema.optionalKey(PairedSummaryRecord),
  /** The observations of the batch that carried a denominator, as (denominator, value) pairs. */
  denominatorPairs: Schema.optionalKey(PairedSummaryRecord)
})
export type MetricUpdate = typeof MetricUpdate.Type

export const VariantCounters = Schema.Struct({
  exposures: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
  /** One summary per metric name. */
  metrics: Schema.Record(Schema.String, SummaryRecord),
  /** Per metric name, when any of its observations carried a covariate: (covariate, value) pairs. */
  covariatePairs: Schema.optionalKey(Schema.Record(Schema.String, PairedSummaryRecord)),
  /** Per metric name, when any of its observations carried a denominator: (denominator, value) pairs. */
  denominatorPairs: Schema.optionalKey(Schema.Record(Schema.String, PairedSummaryRecord))
})
export type VariantCounters = typeof VariantCounters.Type

export const ExperimentCounters = Schema.Struct({
  /** Per variant index: exposures and one summary per metric name. */
  variants: Schema.Array(VariantCounters)
})
export type ExperimentCounters = typeof ExperimentCounters.Type

/**
 * The always-valid (mSPRT) p-value of one treatment (variant index) on one metric: stored as the
 * running minimum over the looks at the experiment's results. Johari et al. (2017) define the
 * always-valid p-value as that minimum; 1 / Λ alone rises again when later data weaken the
 * evidence, so a declared winner could revert. The minimum over any subset of times (our looks)
 * is never below the minimum over every observation, so it keeps the type-I guarantee.
 */
export const SequentialPValue = Schema.Struct({
  variant: VariantIndex,
  metric: MetricName,
  pValue: Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 }))
})
export type SequentialPValue = typeof SequentialPValue.Type

/** Stored minima in one order (variant, then metric name), so copies compare equal. */
export const sortSequentialPValues = (list: ReadonlyArray<SequentialPValue>): Array<SequentialPValue> =>
  [...list].sort((a, b) => a.variant - b.variant || (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : 0))

/**
 * Distinct values kept per dimension and experiment (Dimensions.ts); later new values count as
 * DIMENSION_OTHER, which takes no place of its own.
 */
export const MAX_DIMENSION_VALUES = 100
/** The value later values of a capped dimension share, like the Prometheus label cap's. */
export const DIMENSION_OTHER = "_other"

/** Days of per-day exposure counters kept per experiment; older days are dropped (the totals stay). */
export const MAX_EXPOSURE_DAYS = 400

/** A UTC calendar day, `YYYY-MM-DD`: sorts as text in time order. */
export const ExposureDayKey = Schema.String.check(
  Schema.isPattern(/^\d{4}-\d{2}-\d{2}$/u, { message: "must be a UTC day, YYYY-MM-DD" })
)

const dayMillis = 86_400_000
/** The last day asked for, [start, start + 1 day): every exposure of a day asks for the same one. */
let lastDay = { start: Number.NaN, key: "" }

/** The UTC day of an instant in milliseconds, as ExposureDayKey. */
export const exposureDayOf = (epochMillis: number): string => {
  if (epochMillis >= lastDay.start && epochMillis < lastDay.start + dayMillis) return lastDay.key
  const start = epochMillis - (((epochMillis % dayMillis) + dayMillis) % dayMillis)
  const key = new Date(epochMillis).toISOString().slice(0, 10)
  lastDay = { start, key }
  return key
}

export const ExposureDay = Schema.Struct({
  day: ExposureDayKey,
  /** Per variant index: exposures counted that day. */
  counts: Schema.Array(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)))
})
export type ExposureDay = typeof ExposureDay.Type

/**
 * What one user's assignment writes, decided from the experiment as stored at the moment of the
 * write: nothing (not running, outside the experiment), one exposure of `variant` (not sticky),
 * the sticky `assignment` stored if absent (its exposure counted only when it is created), or,
 * for a user the targeting or coverage now leaves out of a sticky experiment, nothing written
 * but the user's stored assignment read (Keep: it is served if there is one).
 */
export type AssignmentPlan =
  | { readonly _tag: "Nothing" }
  | { readonly _tag: "Count"; readonly variant: number }
  | { readonly _tag: "Stick"; readonly assignment: Assignment }
  | { readonly _tag: "Keep"; readonly userId: string }

/**
 * A plan as carried out: for Stick, the stored assignment (ours or an earlier writer's) and
 * whether ours won; for Keep, the stored assignment if any (never created).
 */
export interface PlannedAssignment {
  readonly plan: AssignmentPlan
  readonly stored: Assignment | undefined
  readonly created: boolean
}

/**
 * Planned writes of the hot paths (assignments, metrics, exposures) done in one atomic storage
 * step checked against the stored experiment: the plan is computed from the experiment the
 * adapter holds, and the step refuses (and the adapter plans again on the fresh definition)
 * when the stored one differs, so a cached definition never writes for a stopped or changed
 * experiment. Adapters that can do this in one round trip (Redis: one script) provide it; the
 * use case composes the plain methods otherwise. `undefined`: the experiment does not exist.
 */
export interface PlannedWrites {
  readonly assignPlanned: (
    experimentId: string,
    userIds: ReadonlyArray<string>,
    plan: (experiment: Experiment) => (userId: string) => AssignmentPlan,
    day: string
  ) => Effect.Effect<
    { readonly experiment: Experiment; readonly outcomes: ReadonlyArray<PlannedAssignment> } | undefined,
    StorageError
  >
  readonly mergeMetricsPlanned: <E>(
    experimentId: string,
    plan: (experiment: Experiment) => Result.Result<ReadonlyArray<MetricUpdate>, E>
  ) => Effect.Effect<Experiment | undefined, E | StorageError>
  readonly addExposuresPlanned: <E>(
    experimentId: string,
    plan: (experiment: Experiment) => Result.Result<ReadonlyArray<number>, E>,
    day: string
  ) => Effect.Effect<Experiment | undefined, E | StorageError>
}

/**
 * One page of an experiment's sticky assignments, for copying a store (ml-server migrate): `next`
 * is the opaque cursor of the following page, undefined after the last. A page may hold fewer
 * than the limit (even none) and still have a next one.
 */
export interface AssignmentPage {
  readonly assignments: ReadonlyArray<Assignment>
  readonly next: string | undefined
}

export interface ExperimentStoreShape {
  /** Stores a new experiment and the first entry of its definition history, in one step. */
  readonly insert: (experiment: Experiment) => Effect.Effect<void, ExperimentConflictError | StorageError>
  readonly get: (id: string) => Effect.Effect<Experiment | undefined, StorageError>
  readonly list: () => Effect.Effect<ReadonlyArray<Experiment>, StorageError>
  /**
   * Writes `experiment` if the stored one is still at `expectedRevision`, and appends its entry to
   * the definition history in the same step (DefinitionHistory.ts: the newest MAX_DEFINITION_HISTORY kept).
   */
  readonly commit: (
    experiment: Experiment,
    expectedRevision: number
  ) => Effect.Effect<void, StaleRevisionError | StorageError>
  /** Stores the assignment unless one exists; either way returns the stored one. */
  readonly assignIfAbsent: (
    assignment: Assignment
  ) => Effect.Effect<{ readonly assignment: Assignment; readonly created: boolean }, StorageError>
  readonly getAssignment: (experimentId: string, userId: string) => Effect.Effect<Assignment | undefined, StorageError>
  /**
   * Adds exposures per variant index (counts[i] to variant i); with `day`, to that day's counters
   * too, in the same atomic step (then only the newest MAX_EXPOSURE_DAYS days are kept).
   */
  readonly addExposures: (
    experimentId: string,
    counts: ReadonlyArray<number>,
    day?: string
  ) => Effect.Effect<void, StorageError>
  /** The kept per-day exposure counters, oldest day first, each with variantCount counts. */
  readonly exposuresByDay: (
    experimentId: string,
    variantCount: number
  ) => Effect.Effect<ReadonlyArray<ExposureDay>, StorageError>
  /** Merges each summary into the stored (variant, metric) summary, atomically. */
  readonly mergeMetrics: (
    experimentId: string,
    updates: ReadonlyArray<MetricUpdate>
  ) => Effect.Effect<void, StorageError>
  readonly counters: (experimentId: string, variantCount: number) => Effect.Effect<ExperimentCounters, StorageError>
  /**
   * One look at a sequential experiment: each (variant, metric) minimum becomes the smaller of the
   * stored one and the look's p-value, atomically (concurrent looks on many instances keep the
   * exact minimum). Answers the stored minima of the given pairs after the update, in their order.
   */
  readonly lowerSequentialPValues: (
    experimentId: string,
    looks: ReadonlyArray<SequentialPValue>
  ) => Effect.Effect<ReadonlyArray<SequentialPValue>, StorageError>
  /** Every stored minimum of the experiment, by variant then metric name (sortSequentialPValues). */
  readonly sequentialPValues: (experimentId: string) => Effect.Effect<ReadonlyArray<SequentialPValue>, StorageError>
  /**
   * The experiment's sticky assignments, a page at a time (at most `limit`, from `cursor`, the
   * previous page's `next`), so millions are never held at once. Not served over HTTP.
   */
  readonly exportAssignments: (
    experimentId: string,
    cursor: string | undefined,
    limit: number
  ) => Effect.Effect<AssignmentPage, StorageError>
  /** Stores each assignment unless its user already has one (set if absent); answers how many were new. */
  readonly importAssignments: (assignments: ReadonlyArray<Assignment>) => Effect.Effect<number, StorageError>
  /**
   * Dimension breakdowns (Dimensions.ts): merges each summary into its (dimension, value, variant,
   * metric) summary, atomically; a value new to a dimension that already holds MAX_DIMENSION_VALUES
   * values is stored as DIMENSION_OTHER (decided atomically with the merge, so instances agree).
   */
  readonly mergeDimensionMetrics: (
    experimentId: string,
    updates: ReadonlyArray<DimensionMetricUpdate>
  ) => Effect.Effect<void, StorageError>
  /** Adds exposures per (dimension, value, variant), capped like mergeDimensionMetrics. */
  readonly addDimensionExposures: (
    experimentId: string,
    updates: ReadonlyArray<DimensionExposureUpdate>
  ) => Effect.Effect<void, StorageError>
  /** The stored values of a dimension (value order), each with variantCount variants. */
  readonly dimensionCounters: (
    experimentId: string,
    dimension: string,
    variantCount: number
  ) => Effect.Effect<ReadonlyArray<DimensionSlice>, StorageError>
  /** The dimensions an experiment has values for, in name order. */
  readonly dimensionNames: (experimentId: string) => Effect.Effect<ReadonlyArray<string>, StorageError>
  /** The kept definition history of an experiment, oldest first (empty for an unknown one). */
  readonly definitionHistory: (experimentId: string) => Effect.Effect<ReadonlyArray<DefinitionRevision>, StorageError>
  /**
   * Replaces the definition history of a stored experiment (ml-server migrate, a journal's
   * compaction): the entries as read from another store, oldest first, trimmed like appends.
   */
  readonly importDefinitionHistory: (
    experimentId: string,
    entries: ReadonlyArray<DefinitionRevision>
  ) => Effect.Effect<void, StorageError>
  readonly ping: () => Effect.Effect<void, StorageError>
  /** The hot paths in one checked step each, where the adapter can (see PlannedWrites). */
  readonly planned?: PlannedWrites | undefined
  /**
   * A token that moves with every insert and commit made through any instance, read without
   * reading the definitions, where the adapter has one (shared stores: a change counter on Redis,
   * count and revision sum on PostgreSQL). Change feeds read it every tick and list only when it
   * moved. Absent: callers list (in-process stores, where a list is cheap).
   */
  readonly definitionsToken?: (() => Effect.Effect<string, StorageError>) | undefined
}

/**
 * An experiment's counters as the writes that rebuild them in an empty store (a journal's
 * compaction, a migration): the kept days oldest first (dated writes, trimmed as they were), one
 * undated remainder for the totals of days dropped for age, every stored summary (merging a
 * summary into none stores it unchanged, so results stay equal to the last digit) and the running
 * minima of the always-valid p-values (lowering none stores the value).
 */
export interface CounterWrites {
  readonly undated: ReadonlyArray<number>
  readonly days: ReadonlyArray<ExposureDay>
  readonly metrics: ReadonlyArray<MetricUpdate>
  readonly sequential: ReadonlyArray<SequentialPValue>
}

export const counterWrites = (
  counters: ExperimentCounters,
  days: ReadonlyArray<ExposureDay>,
  sequential: ReadonlyArray<SequentialPValue> = []
): CounterWrites => ({
  sequential,
  undated: counters.variants.map((v, i) => v.exposures - days.reduce((sum, d) => sum + (d.counts[i] ?? 0), 0)),
  days,
  metrics: counters.variants.flatMap((v, variant) =>
    Object.entries(v.metrics).map(([metric, summary]) => ({
      variant,
      metric,
      summary,
      ...pairedOf(v, metric)
    }))
  )
})

/** The paired summaries a variant's counters hold for a metric, as MetricUpdate fields. */
export const pairedOf = (
  counters: Pick<VariantCounters, PairKind>,
  metric: string
): Partial<Record<PairKind, PairedSummaryRecord>> => {
  const found: Partial<Record<PairKind, PairedSummaryRecord>> = {}
  for (const kind of pairKinds) {
    const byMetric = counters[kind]
    if (byMetric !== undefined && Object.hasOwn(byMetric, metric)) found[kind] = byMetric[metric]!
  }
  return found
}

/**
 * Paired summaries grouped per variant as VariantCounters fields, from (variant, kind, metric,
 * summary) entries: a kind with no entries is left out, so stores without pairs read as before.
 */
export const pairedCounters = (
  entries: Iterable<{
    readonly variant: number
    readonly kind: PairKind
    readonly metric: string
    readonly summary: PairedSummary
  }>,
  variantCount: number
): Array<Partial<Record<PairKind, Record<string, PairedSummary>>>> => {
  const grouped = Array.from(
    { length: variantCount },
    () => ({}) as Partial<Record<PairKind, Record<string, PairedSummary>>>
  )
  for (const { kind, metric, summary, variant } of entries) {
    const ofVariant = grouped[variant]
    if (ofVariant === undefined) continue
    ;(ofVariant[kind] ??= {})[metric] = summary
  }
  return grouped
}

/** Reads an experiment's counters from `store` as CounterWrites. */
export const exportCounters = (store: ExperimentStoreShape, experiment: Experiment) =>
  Effect.map(
    Effect.all([
      store.counters(experiment.id, experiment.variants.length),
      store.exposuresByDay(experiment.id, experiment.variants.length),
      store.sequentialPValues(experiment.id)
    ]),
    ([counters, days, sequential]) => counterWrites(counters, days, sequential)
  )

/** Applies CounterWrites to `store` (where the experiment has no counters yet). */
export const importCounters = (store: ExperimentStoreShape, experimentId: string, writes: CounterWrites) =>
  Effect.gen(function*() {
    if (writes.undated.some((n) => n !== 0)) yield* store.addExposures(experimentId, writes.undated)
    for (const { counts, day } of writes.days) yield* store.addExposures(experimentId, counts, day)
    if (writes.metrics.length > 0) yield* store.mergeMetrics(experimentId, writes.metrics)
    if (writes.sequential.length > 0) yield* store.lowerSequentialPValues(experimentId, writes.sequential)
  })

/**
 * One dimension's breakdown as the writes that rebuild it in an empty store (a migration): every
 * value's exposures per variant, zeros included (so the value is registered even without
 * metrics), then every stored summary. Values are replayed as stored: DIMENSION_OTHER takes no
 * place of its own, so the same values are kept whatever the order.
 */
export interface DimensionWrites {
  readonly dimension: string
  readonly exposures: ReadonlyArray<DimensionExposureUpdate>
  readonly metrics: ReadonlyArray<DimensionMetricUpdate>
}

export const dimensionWrites = (dimension: string, slices: ReadonlyArray<DimensionSlice>): DimensionWrites => ({
  dimension,
  exposures: slices.flatMap(({ value, variants }) =>
    variants.map((v, variant) => ({ dimension, value, variant, count: v.exposures }))
  ),
  metrics: slices.flatMap(({ value, variants }) =>
    variants.flatMap((v, variant) =>
      Object.entries(v.metrics).map(([metric, summary]) => ({ dimension, value, variant, metric, summary }))
    )
  )
})

/** Reads every dimension breakdown of an experiment from `store`, in dimension name order. */
export const exportDimensions = (store: ExperimentStoreShape, experiment: Experiment) =>
  Effect.gen(function*() {
    const writes: Array<DimensionWrites> = []
    for (const dimension of yield* store.dimensionNames(experiment.id)) {
      const slices = yield* store.dimensionCounters(experiment.id, dimension, experiment.variants.length)
      writes.push(dimensionWrites(dimension, slices))
    }
    return writes
  })

/** Applies DimensionWrites to `store` (where the experiment has no breakdowns yet). */
export const importDimensions = (
  store: ExperimentStoreShape,
  experimentId: string,
  writes: ReadonlyArray<DimensionWrites>
) =>
  Effect.gen(function*() {
    for (const { exposures, metrics } of writes) {
      if (exposures.length > 0) yield* store.addDimensionExposures(experimentId, exposures)
      if (metrics.length > 0) yield* store.mergeDimensionMetrics(experimentId, metrics)
    }
  })

export class ExperimentStore
  extends Context.Service<ExperimentStore, ExperimentStoreShape>()("@org/ml-core/ExperimentStore")
{}

/** In-process storage: tests, edge runtimes, and the reference behaviour of the contract. */
export const makeMemory = Effect.sync((): ExperimentStoreShape => {
  const experiments = new Map<string, Experiment>()
  const histories = new Map<string, Array<DefinitionRevision>>()
  const appendHistory = (experiment: Experiment) =>
    histories.set(
      experiment.id,
      appendDefinitionRevision(histories.get(experiment.id) ?? [], definitionRevisionOf(experiment))
    )
  const assignments = new Map<string, Assignment>()
  // Per experiment in creation order: a page cursor is an offset that stays valid as users are added.
  const assignmentsByExperiment = new Map<string, Array<Assignment>>()
  const exposures = new Map<string, Array<number>>()
  const metrics = new Map<string, Summary>()
  // "id\u0000variant\u0000metric" -> per kind, the paired summary.
  const paired = new Map<string, Partial<Record<PairKind, PairedSummary>>>()
  const daily = new Map<string, Map<string, Array<number>>>()
  // Per experiment and dimension: the distinct values kept (capped at MAX_DIMENSION_VALUES).
  const dimensionValues = new Map<string, Map<string, Set<string>>>()
  // "experiment\u0000dimension\u0000value\u0000variant\u0000metric" -> summary; without the metric -> exposures.
  const dimensionMetrics = new Map<string, Summary>()
  const dimensionExposures = new Map<string, number>()
  /** The value kept for `value` of `dimension` (registering it while there is room). */
  const keptValue = (experimentId: string, dimension: string, value: string) => {
    const byDimension = dimensionValues.get(experimentId) ?? new Map<string, Set<string>>()
    dimensionValues.set(experimentId, byDimension)
    const known = byDimension.get(dimension) ?? new Set<string>()
    byDimension.set(dimension, known)
    if (known.has(value)) return value
    // DIMENSION_OTHER itself never takes a place, so replaying values in any order keeps the same ones.
    const counted = known.size - (known.has(DIMENSION_OTHER) ? 1 : 0)
    if (value === DIMENSION_OTHER || counted >= MAX_DIMENSION_VALUES) {
      known.add(DIMENSION_OTHER)
      return DIMENSION_OTHER
    }
    known.add(value)
    return value
  }
  // Per experiment: "variant\u0000metric" -> the running minimum.
  const sequentialMinima = new Map<string, Map<string, SequentialPValue>>()
  const metricKey = (id: string, variant: number, metric: string) => `${id}\u0000${variant}\u0000${metric}`
  const assign = (assignment: Assignment) => {
    const key = `${assignment.experimentId}\u0000${assignment.userId}`
    const existing = assignments.get(key)
    if (existing) return { assignment: existing, created: false }
    assignments.set(key, assignment)
    const ofExperiment = assignmentsByExperiment.get(assignment.experimentId)
    if (ofExperiment === undefined) assignmentsByExperiment.set(assignment.experimentId, [assignment])
    else ofExperiment.push(assignment)
    return { assignment, created: true }
  }
  return {
    insert: (experiment) =>
      Effect.suspend(() => {
        if (experiments.has(experiment.id)) {
          return Effect.fail(
            new ExperimentConflictError({
              experimentId: experiment.id,
              message: `Experiment ${experiment.id} already exists`
            })
          )
        }
        experiments.set(experiment.id, experiment)
        appendHistory(experiment)
        return Effect.void
      }),
    get: (id) => Effect.sync(() => experiments.get(id)),
    list: () =>
      Effect.sync(() =>
        [...experiments.values()].sort((
          a,
          b
        ) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1))
      ),
    commit: (experiment, expectedRevision) =>
      Effect.suspend(() => {
        if (experiments.get(experiment.id)?.revision !== expectedRevision) {
          return Effect.fail(
            new StaleRevisionError({ message: `Experiment ${experiment.id} changed since it was read` })
          )
        }
        experiments.set(experiment.id, experiment)
        appendHistory(experiment)
        return Effect.void
      }),
    definitionHistory: (experimentId) => Effect.sync(() => [...(histories.get(experimentId) ?? [])]),
    importDefinitionHistory: (experimentId, entries) =>
      Effect.sync(() => {
        if (experiments.has(experimentId)) histories.set(experimentId, entries.slice(-MAX_DEFINITION_HISTORY))
      }),
    assignIfAbsent: (assignment) => Effect.sync(() => assign(assignment)),
    getAssignment: (experimentId, userId) => Effect.sync(() => assignments.get(`${experimentId}\u0000${userId}`)),
    addExposures: (experimentId, counts, day) =>
      Effect.sync(() => {
        const current = exposures.get(experimentId) ?? []
        counts.forEach((c, i) => (current[i] = (current[i] ?? 0) + c))
        exposures.set(experimentId, current)
        if (day === undefined) return
        const days = daily.get(experimentId) ?? new Map<string, Array<number>>()
        const ofDay = days.get(day) ?? []
        counts.forEach((c, i) => (ofDay[i] = (ofDay[i] ?? 0) + c))
        days.set(day, ofDay)
        daily.set(experimentId, days)
        if (days.size > MAX_EXPOSURE_DAYS) {
          for (const old of [...days.keys()].sort().slice(0, days.size - MAX_EXPOSURE_DAYS)) days.delete(old)
        }
      }),
    exposuresByDay: (experimentId, variantCount) =>
      Effect.sync(() =>
        [...(daily.get(experimentId) ?? new Map<string, Array<number>>())]
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([day, counts]) => ({ day, counts: Array.from({ length: variantCount }, (_, i) => counts[i] ?? 0) }))
      ),
    mergeMetrics: (experimentId, updates) =>
      Effect.sync(() => {
        for (const { variant, metric, summary } of updates) {
          const key = metricKey(experimentId, variant, metric)
          metrics.set(key, mergeSummaries(metrics.get(key) ?? emptySummary, summary))
        }
        for (const update of updates) {
          const key = metricKey(experimentId, update.variant, update.metric)
          for (const kind of pairKinds) {
            const incoming = update[kind]
            if (incoming === undefined) continue
            const stored = paired.get(key) ?? {}
            paired.set(key, { ...stored, [kind]: mergePairedSummaries(stored[kind] ?? emptyPairedSummary, incoming) })
          }
        }
      }),
    counters: (experimentId, variantCount) =>
      Effect.sync(() => {
        const exposed = exposures.get(experimentId) ?? []
        const prefix = `${experimentId}\u0000`
        const pairs = pairedCounters(
          [...paired].filter(([key]) => key.startsWith(prefix)).flatMap(([key, kinds]) => {
            const [, v, metric] = key.split("\u0000")
            return pairKinds.flatMap((kind) =>
              kinds[kind] === undefined ? [] : [{ variant: Number(v), kind, metric: metric!, summary: kinds[kind] }]
            )
          }),
          variantCount
        )
        return {
          variants: Array.from({ length: variantCount }, (_, variant) => {
            const byMetric: Record<string, Summary> = {}
            for (const [key, summary] of metrics) {
              if (!key.startsWith(prefix)) continue
              const [, v, metric] = key.split("\u0000")
              if (Number(v) === variant) byMetric[metric!] = summary
            }
            return { exposures: exposed[variant] ?? 0, metrics: byMetric, ...pairs[variant] }
          })
        }
      }),
    lowerSequentialPValues: (experimentId, looks) =>
      Effect.sync(() => {
        const minima = sequentialMinima.get(experimentId) ?? new Map<string, SequentialPValue>()
        sequentialMinima.set(experimentId, minima)
        return looks.map((look) => {
          const key = `${look.variant}\u0000${look.metric}`
          const stored = minima.get(key)
          if (stored !== undefined && stored.pValue <= look.pValue) return stored
          const lowered = { variant: look.variant, metric: look.metric, pValue: look.pValue }
          minima.set(key, lowered)
          return lowered
        })
      }),
    sequentialPValues: (experimentId) =>
      Effect.sync(() => sortSequentialPValues([...(sequentialMinima.get(experimentId)?.values() ?? [])])),
    exportAssignments: (experimentId, cursor, limit) =>
      Effect.sync(() => {
        const all = assignmentsByExperiment.get(experimentId) ?? []
        const from = cursor === undefined ? 0 : Number(cursor)
        const to = from + limit
        return { assignments: all.slice(from, to), next: to < all.length ? String(to) : undefined }
      }),
    importAssignments: (batch) => Effect.sync(() => batch.filter((a) => assign(a).created).length),
    mergeDimensionMetrics: (experimentId, updates) =>
      Effect.sync(() => {
        for (const { dimension, metric, summary, value, variant } of updates) {
          const kept = keptValue(experimentId, dimension, value)
          const key = [experimentId, dimension, kept, variant, metric].join("\u0000")
          dimensionMetrics.set(key, mergeSummaries(dimensionMetrics.get(key) ?? emptySummary, summary))
        }
      }),
    addDimensionExposures: (experimentId, updates) =>
      Effect.sync(() => {
        for (const { count, dimension, value, variant } of updates) {
          const key = [experimentId, dimension, keptValue(experimentId, dimension, value), variant].join("\u0000")
          dimensionExposures.set(key, (dimensionExposures.get(key) ?? 0) + count)
        }
      }),
    dimensionCounters: (experimentId, dimension, variantCount) =>
      Effect.sync(() => {
        const values = [...(dimensionValues.get(experimentId)?.get(dimension) ?? [])].sort()
        return values.map((value) => ({
          value,
          variants: Array.from({ length: variantCount }, (_, variant) => {
            const prefix = [experimentId, dimension, value, variant].join("\u0000")
            const metrics: Record<string, Summary> = {}
            for (const [key, summary] of dimensionMetrics) {
              if (key.startsWith(`${prefix}\u0000`)) metrics[key.slice(prefix.length + 1)] = summary
            }
            return { exposures: dimensionExposures.get(prefix) ?? 0, metrics }
          })
        }))
      }),
    dimensionNames: (experimentId) => Effect.sync(() => [...(dimensionValues.get(experimentId)?.keys() ?? [])].sort()),
    ping: () => Effect.void
  }
})

export const layerMemory: Layer.Layer<ExperimentStore> = Layer.effect(ExperimentStore, makeMemory)
