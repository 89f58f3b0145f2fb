/**
 * Online-learning pipelines on disk: pipeline records, live learner states and update records go
 * through a journal (`<dir>/pipelines.jsonl`, see Journal.ts). The sample side (buffers, ids seen,
 * counters, progressive and holdout windows) lives in memory and is saved to
 * `<dir>/pipelines-samples.json` on clean shutdown and read back at start, like the drift
 * windows: a crash loses the samples received since the last clean stop, where an fsync per
 * sample would cap ingestion far below what one process can take. Both files decode through the
 * core's schemas when read, so a damaged record stops start-up naming the file (and line).
 */
import { LearnerState, Pipeline, PipelineStore, type StorageError, storedRecord, UpdateRecord } from "@org/ml-core"
import { Effect, Layer, Schema } from "effect"
import * as path from "node:path"
import { makeJournal, replaySync } from "./Journal.js"
import { readSaved, saveAtomically } from "./SavedFile.js"

const JournalEntry = Schema.Union([
  Schema.Struct({ op: Schema.Literal("put"), pipeline: Pipeline }),
  Schema.Struct({ op: Schema.Literal("state"), id: Schema.String, state: LearnerState }),
  Schema.Struct({ op: Schema.Literal("update"), record: UpdateRecord })
])
type JournalEntry = typeof JournalEntry.Type
const journalEntries = storedRecord(JournalEntry)
const savedSamples = storedRecord(PipelineStore.SampleDataByPipeline)

export const make = (options: { readonly directory: string }) =>
  Effect.gen(function*() {
    const directory = path.resolve(options.directory)
    const samplesFile = path.join(directory, "pipelines-samples.json")
    const file = "pipelines.jsonl"
    const journal = yield* makeJournal<PipelineStore.PipelineStoreShape, JournalEntry>({
      directory,
      name: "pipelines",
      fresh: () => Effect.runSync(PipelineStore.makeMemory),
      entry: journalEntries,
      replay: (state, entry) => {
        switch (entry.op) {
          case "put": {
            const current = Effect.runSync(state.get(entry.pipeline.id))
            return replaySync(
              current ? state.commit(entry.pipeline, current.revision) : state.insert(entry.pipeline),
              file
            )
          }
          case "state":
            return replaySync(state.setLiveState(entry.id, entry.state), file)
          case "update":
            return replaySync(state.appendUpdate(entry.record), file)
        }
      }
    })
    // Kept apart from the journal's state, which is rebuilt from the journal after a failed write.
    const samples = yield* PipelineStore.makeMemoryWithSampleData
    samples.restoreSampleData((yield* readSaved(samplesFile, savedSamples)) ?? {})
    yield* Effect.addFinalizer(() => saveAtomically(samplesFile, samples.sampleData()))
    const sampleSide = samples.store
    const read = <A, E>(f: (s: PipelineStore.PipelineStoreShape) => Effect.Effect<A, E>) =>
      Effect.suspend(() => f(journal.state()))
    return PipelineStore.PipelineStore.of({
      insert: (pipeline) => journal.mutate((s) => s.insert(pipeline), () => ({ op: "put", pipeline })),
      commit: (pipeline, expected) =>
        journal.mutate((s) => s.commit(pipeline, expected), () => ({ op: "put", pipeline })),
      get: (id) => read((s) => s.get(id)),
      list: () => read((s) => s.list()),
      setLiveState: (id, state) => journal.mutate((s) => s.setLiveState(id, state), () => ({ op: "state", id, state })),
      liveState: (id) => read((s) => s.liveState(id)),
      appendUpdate: (record) => journal.mutate((s) => s.appendUpdate(record), () => ({ op: "update", record })),
      updates: (id) => read((s) => s.updates(id)),
      addSamples: sampleSide.addSamples,
      buffer: sampleSide.buffer,
      bufferSize: sampleSide.bufferSize,
      removeSamples: sampleSide.removeSamples,
      counters: sampleSide.counters,
      addProcessed: sampleSide.addProcessed,
      progressive: sampleSide.progressive,
      addValidation: sampleSide.addValidation,
      validation: sampleSide.validation
    })
  })

export const layer = (
  options: { readonly directory: string }
): Layer.Layer<PipelineStore.PipelineStore, StorageError> => Layer.effect(PipelineStore.PipelineStore, make(options))
