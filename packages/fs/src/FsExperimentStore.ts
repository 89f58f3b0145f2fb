/**
 * Experiments (with their definition history: each "put" appends one entry on replay, as the
 * commit it records did), sticky assignments, exposures, metric summaries and the running minima of
 * always-valid p-values on disk as a journal (`<dir>/experiments.jsonl`, see Journal.ts) in front
 * of the reference in-memory store. Every acknowledged change (including each new sticky
 * assignment, each metric merge and each lowered minimum) is fsynced; the journal's lock makes the
 * read-lower-append of a minimum one step.
 */
import {
  Assignment,
  DefinitionRevision,
  DimensionExposureUpdate,
  DimensionMetricUpdate,
  Experiment,
  ExperimentId,
  ExperimentStore,
  StorageError,
  storedRecord
} from "@org/ml-core"
import { Effect, Layer, Schema } from "effect"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { makeJournal, replaySync } from "./Journal.js"

/** One journal line: a whole experiment record, a new sticky assignment, or an atomic counter update. */
const JournalEntry = Schema.Union([
  Schema.Struct({ op: Schema.Literal("put"), experiment: Experiment }),
  Schema.Struct({ op: Schema.Literal("assign"), assignment: Assignment }),
  Schema.Struct({
    op: Schema.Literal("exposures"),
    id: ExperimentId,
    counts: Schema.Array(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))),
    /** The UTC day they were counted on (absent in entries written before days were kept). */
    day: Schema.optionalKey(ExperimentStore.ExposureDayKey)
  }),
  Schema.Struct({
    op: Schema.Literal("metrics"),
    id: ExperimentId,
    updates: Schema.Array(ExperimentStore.MetricUpdate)
  }),
  Schema.Struct({
    op: Schema.Literal("dimension-metrics"),
    id: ExperimentId,
    updates: Schema.Array(DimensionMetricUpdate)
  }),
  Schema.Struct({
    op: Schema.Literal("dimension-exposures"),
    id: ExperimentId,
    updates: Schema.Array(DimensionExposureUpdate)
  }),
  Schema.Struct({
    op: Schema.Literal("definition-history"),
    id: ExperimentId,
    /** The whole kept definition history (compaction, migration): replaces what the puts appended. */
    entries: Schema.Array(DefinitionRevision)
  }),
  Schema.Struct({
    op: Schema.Literal("sequential"),
    id: ExperimentId,
    /** Looks that lowered a running minimum: replayed as the same lowering (min is idempotent). */
    looks: Schema.Array(ExperimentStore.SequentialPValue)
  })
])
type JournalEntry = typeof JournalEntry.Type

const journalEntry = storedRecord(JournalEntry)

/** The reference store, and the sticky assignments it holds (it has no way to list them), for compaction. */
interface State {
  readonly store: ExperimentStore.ExperimentStoreShape
  readonly assignments: Array<Assignment>
}

/**
 * The experiments, assignments, exposures and metric summaries as entries, for compaction. The
 * kept days are dated entries; one undated entry holds the rest of the totals (days dropped for
 * age), so replay rebuilds both the totals and the days.
 */
const snapshotEntries = ({ assignments, store }: State): ReadonlyArray<JournalEntry> =>
  Effect.runSync(Effect.gen(function*() {
    const entries: Array<JournalEntry> = []
    for (const experiment of yield* store.list()) {
      entries.push({ op: "put", experiment })
      entries.push({
        op: "definition-history",
        id: experiment.id,
        entries: yield* store.definitionHistory(experiment.id)
      })
      const { days, metrics, sequential, undated } = yield* ExperimentStore.exportCounters(store, experiment)
      entries.push({ op: "exposures", id: experiment.id, counts: undated })
      for (const { counts, day } of days) entries.push({ op: "exposures", id: experiment.id, counts, day })
      if (metrics.length > 0) entries.push({ op: "metrics", id: experiment.id, updates: metrics })
      if (sequential.length > 0) entries.push({ op: "sequential", id: experiment.id, looks: sequential })
      // Breakdowns as stored: replay keeps the same values (DIMENSION_OTHER takes no place of its own).
      for (const dimension of yield* store.dimensionNames(experiment.id)) {
        const slices = yield* store.dimensionCounters(experiment.id, dimension, experiment.variants.length)
        const metrics = slices.flatMap(({ value, variants }) =>
          variants.flatMap((v, variant) =>
            Object.entries(v.metrics).map(([metric, summary]) => ({ dimension, value, variant, metric, summary }))
          )
        )
        const exposures = slices.flatMap(({ value, variants }) =>
          variants.map((v, variant) => ({ dimension, value, variant, count: v.exposures }))
        )
        entries.push({ op: "dimension-exposures", id: experiment.id, updates: exposures })
        if (metrics.length > 0) entries.push({ op: "dimension-metrics", id: experiment.id, updates: metrics })
      }
    }
    for (const assignment of assignments) entries.push({ op: "assign", assignment })
    return entries
  }))

export const make = (options: { readonly directory: string }) =>
  Effect.gen(function*() {
    const directory = path.resolve(options.directory)
    const journal = yield* makeJournal<State, JournalEntry>({
      directory,
      name: "experiments",
      entry: journalEntry,
      fresh: () => ({ store: Effect.runSync(ExperimentStore.makeMemory), assignments: [] }),
      snapshot: snapshotEntries,
      replay: ({ assignments, store: state }, entry) => {
        const file = "experiments.jsonl"
        switch (entry.op) {
          case "put": {
            const current = Effect.runSync(state.get(entry.experiment.id))
            replaySync(
              current ? state.commit(entry.experiment, current.revision) : state.insert(entry.experiment),
              file
            )
            break
          }
          case "assign":
            replaySync(state.assignIfAbsent(entry.assignment), file)
            assignments.push(entry.assignment)
            break
          case "exposures":
            replaySync(state.addExposures(entry.id, entry.counts, entry.day), file)
            break
          case "metrics":
            replaySync(state.mergeMetrics(entry.id, entry.updates), file)
            break
          case "dimension-metrics":
            replaySync(state.mergeDimensionMetrics(entry.id, entry.updates), file)
            break
          case "dimension-exposures":
            replaySync(state.addDimensionExposures(entry.id, entry.updates), file)
            break
          case "definition-history":
            replaySync(state.importDefinitionHistory(entry.id, entry.entries), file)
            break
          case "sequential":
            replaySync(state.lowerSequentialPValues(entry.id, entry.looks), file)
        }
      }
    })
    const read = <A, E>(f: (s: ExperimentStore.ExperimentStoreShape) => Effect.Effect<A, E>) =>
      Effect.suspend(() => f(journal.state().store))
    const assignIfAbsent = (assignment: Assignment) =>
      journal.mutate(
        (s) =>
          Effect.map(s.store.assignIfAbsent(assignment), (r) => {
            if (r.created) s.assignments.push(r.assignment)
            return r
          }),
        (r) => (r.created ? { op: "assign" as const, assignment: r.assignment } : undefined)
      )
    return ExperimentStore.ExperimentStore.of({
      insert: (experiment) => journal.mutate((s) => s.store.insert(experiment), () => ({ op: "put", experiment })),
      commit: (experiment, expected) =>
        journal.mutate((s) => s.store.commit(experiment, expected), () => ({ op: "put", experiment })),
      assignIfAbsent,
      // All at once: group commit writes the batch with one fsync.
      importAssignments: (assignments) =>
        Effect.map(
          Effect.forEach(assignments, assignIfAbsent, { concurrency: "unbounded" }),
          (results) => results.filter((r) => r.created).length
        ),
      exportAssignments: (id, cursor, limit) => read((s) => s.exportAssignments(id, cursor, limit)),
      addExposures: (id, counts, day) =>
        journal.mutate(
          (s) => s.store.addExposures(id, counts, day),
          () => ({ op: "exposures", id, counts, ...(day === undefined ? {} : { day }) })
        ),
      mergeMetrics: (id, updates) =>
        journal.mutate((s) => s.store.mergeMetrics(id, updates), () => ({ op: "metrics", id, updates })),
      // Journaled only when the look lowered a minimum: most looks change nothing and write nothing.
      lowerSequentialPValues: (id, looks) =>
        journal.mutate(
          (s) => s.store.lowerSequentialPValues(id, looks),
          (minima) => {
            const lowered = looks.filter((look, i) => minima[i]!.pValue === look.pValue)
            return lowered.length === 0 ? undefined : { op: "sequential" as const, id, looks: lowered }
          }
        ),
      sequentialPValues: (id) => read((s) => s.sequentialPValues(id)),
      definitionHistory: (id) => read((s) => s.definitionHistory(id)),
      importDefinitionHistory: (id, entries) =>
        journal.mutate(
          (s) => s.store.importDefinitionHistory(id, entries),
          () => ({ op: "definition-history" as const, id, entries })
        ),
      // Journaled as sent: replay applies the same cap in the same order, so it keeps the same values.
      mergeDimensionMetrics: (id, updates) =>
        journal.mutate(
          (s) => s.store.mergeDimensionMetrics(id, updates),
          () => ({ op: "dimension-metrics", id, updates })
        ),
      addDimensionExposures: (id, updates) =>
        journal.mutate(
          (s) => s.store.addDimensionExposures(id, updates),
          () => ({ op: "dimension-exposures", id, updates })
        ),
      dimensionCounters: (id, dimension, n) => read((s) => s.dimensionCounters(id, dimension, n)),
      dimensionNames: (id) => read((s) => s.dimensionNames(id)),
      get: (id) => read((s) => s.get(id)),
      list: () => read((s) => s.list()),
      getAssignment: (id, userId) => read((s) => s.getAssignment(id, userId)),
      counters: (id, n) => read((s) => s.counters(id, n)),
      exposuresByDay: (id, n) => read((s) => s.exposuresByDay(id, n)),
      ping: () =>
        Effect.tryPromise({
          try: () => fs.access(directory, fs.constants.W_OK),
          catch: (cause) => new StorageError({ message: `Data directory ${directory} is not writable`, cause })
        })
    })
  })

export const layer = (
  options: { readonly directory: string }
): Layer.Layer<ExperimentStore.ExperimentStore, StorageError> =>
  Layer.effect(ExperimentStore.ExperimentStore, make(options))
