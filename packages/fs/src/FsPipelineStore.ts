/**
 * Online-learning pipelines on disk, all in one journal (`<dir>/pipelines.jsonl`, see Journal.ts):
 * pipeline records, live learner states (format 2, base64), update records and the sample side (buffers, ids seen,
 * counters, progressive and holdout windows). Samples are acknowledged after their batch's fsync
 * (group commit: one fsync for all the ingestions in flight), so a crash loses none of them.
 * Consumed samples leave the buffer in the same fsynced batch that counts them processed (the
 * removal is staged until then), so after a crash a sample is either still buffered or counted
 * processed, never both: it is never trained twice. A `pipelines-samples.json` saved by earlier
 * releases on clean shutdown is folded into the journal once at start and then removed. Every
 * line decodes through the core's schemas when read, so a damaged record stops start-up naming
 * the file and line.
 */
import {
  decodeLiveState,
  encodeLiveState,
  LearnerState,
  Pipeline,
  PipelineStore,
  type StorageError,
  storedRecord,
  UpdateRecord
} from "@org/ml-core"
import { Effect, Layer, Schema } from "effect"
import * as path from "node:path"
import { makeJournal, replaySync } from "./Journal.js"
import { readSaved, removeSaved } from "./SavedFile.js"

const { StoredSample } = PipelineStore
const Count = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

const JournalEntry = Schema.Union([
  Schema.Struct({ op: Schema.Literal("put"), pipeline: Pipeline }),
  /** A live state as earlier releases wrote it: format-1 JSON, every slot spelled. */
  Schema.Struct({ op: Schema.Literal("state"), id: Schema.String, state: LearnerState }),
  /** A live state in format 2, base64: the touched slots only. */
  Schema.Struct({ op: Schema.Literal("state"), id: Schema.String, encoded: Schema.String }),
  Schema.Struct({ op: Schema.Literal("update"), record: UpdateRecord }),
  Schema.Struct({
    op: Schema.Literal("samples"),
    id: Schema.String,
    samples: Schema.Array(StoredSample),
    limits: Schema.Struct({ maxBufferSize: Count, dedupWindow: Count, progressiveWindow: Count }),
    predictions: Schema.optionalKey(Schema.Array(Schema.Number))
  }),
  /** Samples counted processed, and the consumed ones that left the buffer with them (`removed`). */
  Schema.Struct({
    op: Schema.Literal("processed"),
    id: Schema.String,
    count: Count,
    removed: Schema.Array(Schema.String)
  }),
  Schema.Struct({
    op: Schema.Literal("validation"),
    id: Schema.String,
    samples: Schema.Array(StoredSample),
    max: Count
  }),
  Schema.Struct({ op: Schema.Literal("sampleData"), data: PipelineStore.SampleDataByPipeline })
])
type JournalEntry = typeof JournalEntry.Type

const stateEntry = (id: string, state: LearnerState): JournalEntry => {
  const bytes = encodeLiveState(state)
  return { op: "state", id, encoded: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64") }
}
const journalEntries = storedRecord(JournalEntry)
const savedSamples = storedRecord(PipelineStore.SampleDataByPipeline)

/** The pipelines, live states, update records and sample data as entries, for compaction. */
const snapshotEntries = (memory: PipelineStore.MemoryPipelineStore): ReadonlyArray<JournalEntry> =>
  Effect.runSync(Effect.gen(function*() {
    const entries: Array<JournalEntry> = []
    for (const pipeline of yield* memory.store.list()) {
      entries.push({ op: "put", pipeline })
      const state = yield* memory.store.liveState(pipeline.id)
      if (state !== undefined) entries.push(stateEntry(pipeline.id, state))
      for (const record of yield* memory.store.updates(pipeline.id)) entries.push({ op: "update", record })
    }
    for (const [id, data] of Object.entries(memory.sampleData())) {
      entries.push({ op: "sampleData", data: { [id]: data } })
    }
    return entries
  }))

export const make = (options: { readonly directory: string }) =>
  Effect.gen(function*() {
    const directory = path.resolve(options.directory)
    const samplesFile = path.join(directory, "pipelines-samples.json")
    const file = "pipelines.jsonl"
    const journal = yield* makeJournal<PipelineStore.MemoryPipelineStore, JournalEntry>({
      directory,
      name: "pipelines",
      fresh: () => Effect.runSync(PipelineStore.makeMemoryWithSampleData),
      entry: journalEntries,
      snapshot: snapshotEntries,
      replay: ({ restoreSampleData, store: state }, entry) => {
        switch (entry.op) {
          case "put": {
            const current = Effect.runSync(state.get(entry.pipeline.id))
            return replaySync(
              current ? state.commit(entry.pipeline, current.revision) : state.insert(entry.pipeline),
              file
            )
          }
          case "state": {
            const live = "state" in entry
              ? entry.state
              : decodeLiveState(Buffer.from(entry.encoded, "base64"), `${file} (live state of pipeline ${entry.id})`)
            return replaySync(state.setLiveState(entry.id, live), file)
          }
          case "update":
            return replaySync(state.appendUpdate(entry.record), file)
          case "samples":
            return replaySync(state.addSamples(entry.id, entry.samples, entry.limits, entry.predictions), file)
          case "processed":
            replaySync(state.removeSamples(entry.id, entry.removed), file)
            return replaySync(state.addProcessed(entry.id, entry.count), file)
          case "validation":
            return replaySync(state.addValidation(entry.id, entry.samples, entry.max), file)
          case "sampleData":
            return restoreSampleData(entry.data)
        }
      }
    })
    // Upgrade: sample data an earlier release saved on clean shutdown joins the journal, then the file goes.
    const saved = yield* readSaved(samplesFile, savedSamples)
    if (saved !== undefined) {
      yield* journal.mutate((m) => Effect.sync(() => m.restoreSampleData(saved)), () => ({
        op: "sampleData" as const,
        data: saved
      }))
      yield* removeSaved(samplesFile)
    }
    // Consumed samples leave the buffer in memory at once, but on disk only with the record that
    // counts them processed (OnlineLearner calls removeSamples, then addProcessed), so the two are
    // durable together: a crash in between keeps both undone, never a sample buffered and processed.
    const consumed = new Map<string, Array<string>>()
    const read = <A, E>(f: (s: PipelineStore.PipelineStoreShape) => Effect.Effect<A, E>) =>
      Effect.suspend(() => f(journal.state().store))
    return PipelineStore.PipelineStore.of({
      insert: (pipeline) => journal.mutate((s) => s.store.insert(pipeline), () => ({ op: "put", pipeline })),
      commit: (pipeline, expected) =>
        journal.mutate((s) => s.store.commit(pipeline, expected), () => ({ op: "put", pipeline })),
      get: (id) => read((s) => s.get(id)),
      list: () => read((s) => s.list()),
      setLiveState: (id, state) => journal.mutate((s) => s.store.setLiveState(id, state), () => stateEntry(id, state)),
      liveState: (id) => read((s) => s.liveState(id)),
      appendUpdate: (record) => journal.mutate((s) => s.store.appendUpdate(record), () => ({ op: "update", record })),
      updates: (id) => read((s) => s.updates(id)),
      addSamples: (id, samples, limits, predictions, expectedRevision) =>
        journal.mutate(
          (s) => s.store.addSamples(id, samples, limits, predictions, expectedRevision),
          (): JournalEntry => ({
            op: "samples",
            id,
            samples,
            limits: {
              maxBufferSize: limits.maxBufferSize,
              dedupWindow: limits.dedupWindow,
              progressiveWindow: limits.progressiveWindow
            },
            ...(predictions === undefined ? {} : { predictions })
          })
        ),
      buffer: (id) => read((s) => s.buffer(id)),
      bufferSize: (id) => read((s) => s.bufferSize(id)),
      removeSamples: (id, sampleIds) =>
        journal.mutate((s) =>
          Effect.andThen(
            Effect.sync(() => consumed.set(id, [...(consumed.get(id) ?? []), ...sampleIds])),
            s.store.removeSamples(id, sampleIds)
          ), () => undefined),
      counters: (id) => read((s) => s.counters(id)),
      addProcessed: (id, count) => {
        let removed: ReadonlyArray<string> = []
        return journal.mutate(
          (s) =>
            Effect.suspend(() => {
              removed = consumed.get(id) ?? []
              consumed.delete(id)
              // Again, idempotently: the state may have been rebuilt from disk since removeSamples.
              return Effect.andThen(s.store.removeSamples(id, removed), s.store.addProcessed(id, count))
            }),
          () => ({ op: "processed", id, count, removed })
        )
      },
      progressive: (id) => read((s) => s.progressive(id)),
      addValidation: (id, samples, max) =>
        journal.mutate((s) => s.store.addValidation(id, samples, max), () => ({ op: "validation", id, samples, max })),
      validation: (id) => read((s) => s.validation(id)),
      exportSampleData: (id) => read((s) => s.exportSampleData(id)),
      importSampleData: (id, data) =>
        journal.mutate((m) => m.store.importSampleData(id, data), () => ({ op: "sampleData", data: { [id]: data } }))
    })
  })

export const layer = (
  options: { readonly directory: string }
): Layer.Layer<PipelineStore.PipelineStore, StorageError> => Layer.effect(PipelineStore.PipelineStore, make(options))
