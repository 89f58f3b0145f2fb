/**
 * Port: online-learning pipelines, their sample buffer, live learner state, progressive
 * validation window and update records. `addSamples` deduplicates by sampleId against the ids of
 * the last `dedupWindow` samples added, and bounds the buffer (oldest dropped and counted), in one
 * atomic step, so samples from many instances reach one buffer safely and the memory of ids seen
 * stays bounded.
 */
import { Context, Effect, Layer, Schema } from "effect"
import { StaleRevisionError, type StorageError } from "../shared/Errors.js"
import { PipelineConflictError } from "./Errors.js"
import type { LearnerState } from "./learners/LearnerState.js"
import { type Pipeline, PipelineCounters, type UpdateRecord } from "./Pipeline.js"
import { ProgressiveEntry, StoredSample } from "./Samples.js"

// The records of this port, re-exported where its adapters and clients have always found them.
export { PipelineCounters, UpdateRecord } from "./Pipeline.js"
export { ProgressiveEntry, StoredSample } from "./Samples.js"

export interface SampleLimits {
  /** Buffered samples kept; the oldest beyond it are dropped and counted. */
  readonly maxBufferSize: number
  /**
   * sampleIds remembered for deduplication: those of the last `dedupWindow` samples added. At
   * least maxBufferSize, so that every buffered sample's id is remembered.
   */
  readonly dedupWindow: number
  /** Progressive-validation entries kept (the last ones). */
  readonly progressiveWindow: number
}

/** What one addSamples did, and how many samples are buffered after it (for the update rule). */
export interface SamplesAdded {
  readonly added: number
  readonly duplicates: number
  readonly dropped: number
  readonly buffered: number
}

export interface PipelineStoreShape {
  readonly insert: (pipeline: Pipeline) => Effect.Effect<void, PipelineConflictError | StorageError>
  readonly get: (id: string) => Effect.Effect<Pipeline | undefined, StorageError>
  /**
   * The stored pipeline, or `"unchanged"` while its revision is still `knownRevision`, for a
   * caller that keeps a copy (predictions): an unchanged record is neither sent nor decoded.
   * Adapters that can check it in one cheap step provide it (Redis: one script); callers use
   * `get` where it is absent.
   */
  readonly getIfChanged?:
    | ((id: string, knownRevision: number) => Effect.Effect<Pipeline | "unchanged" | undefined, StorageError>)
    | undefined
  readonly list: () => Effect.Effect<ReadonlyArray<Pipeline>, StorageError>
  readonly commit: (
    pipeline: Pipeline,
    expectedRevision: number
  ) => Effect.Effect<void, StaleRevisionError | StorageError>
  /**
   * `predictions[i]`, the live model's prediction for `samples[i]` before it saw the label, joins
   * the progressive window when that sample is new (a replay is not scored twice). With
   * `expectedRevision`, the batch is taken only while the pipeline record has that revision
   * (else StaleRevisionError and nothing changes): a caller may ingest with a cached pipeline and
   * learner and still never score against a superseded one.
   */
  readonly addSamples: (
    id: string,
    samples: ReadonlyArray<StoredSample>,
    limits: SampleLimits,
    predictions?: ReadonlyArray<number>,
    expectedRevision?: number
  ) => Effect.Effect<SamplesAdded, StaleRevisionError | StorageError>
  readonly buffer: (id: string) => Effect.Effect<ReadonlyArray<StoredSample>, StorageError>
  /** How many samples are buffered, without reading them (checked on every ingestion). */
  readonly bufferSize: (id: string) => Effect.Effect<number, StorageError>
  readonly removeSamples: (id: string, sampleIds: ReadonlyArray<string>) => Effect.Effect<void, StorageError>
  readonly counters: (id: string) => Effect.Effect<PipelineCounters, StorageError>
  readonly addProcessed: (id: string, count: number) => Effect.Effect<void, StorageError>
  readonly liveState: (id: string) => Effect.Effect<LearnerState | undefined, StorageError>
  readonly setLiveState: (id: string, state: LearnerState) => Effect.Effect<void, StorageError>
  readonly progressive: (id: string) => Effect.Effect<ReadonlyArray<ProgressiveEntry>, StorageError>
  /** Held-out samples kept for validating candidates (the last `max`). */
  readonly addValidation: (
    id: string,
    samples: ReadonlyArray<StoredSample>,
    max: number
  ) => Effect.Effect<void, StorageError>
  readonly validation: (id: string) => Effect.Effect<ReadonlyArray<StoredSample>, StorageError>
  readonly appendUpdate: (record: UpdateRecord) => Effect.Effect<void, StorageError>
  readonly updates: (id: string) => Effect.Effect<ReadonlyArray<UpdateRecord>, StorageError>
  /**
   * The whole sample side of a pipeline (buffer, the ids remembered for deduplication oldest
   * first, counters, progressive and holdout windows), for copying a store (ml-server migrate).
   * Not served over HTTP.
   */
  readonly exportSampleData: (id: string) => Effect.Effect<SampleData, StorageError>
  /** Replaces the pipeline's sample side with `data`, atomically. */
  readonly importSampleData: (id: string, data: SampleData) => Effect.Effect<void, StorageError>
}

export class PipelineStore extends Context.Service<PipelineStore, PipelineStoreShape>()("@org/ml-core/PipelineStore") {}

/**
 * The sample side of one pipeline (buffer, ids seen, counters, windows) as plain data, for
 * adapters that keep it in memory and snapshot it (the filesystem adapter's journal compaction).
 */
export const SampleData = Schema.Struct({
  buffer: Schema.Array(StoredSample),
  seen: Schema.Array(Schema.String),
  counters: PipelineCounters,
  progressive: Schema.Array(ProgressiveEntry),
  validation: Schema.Array(StoredSample)
})
export type SampleData = typeof SampleData.Type

/** The sample data of every pipeline that has any, by pipeline id (snapshots; the file earlier releases saved). */
export const SampleDataByPipeline = Schema.Record(Schema.String, SampleData)

export interface MemoryPipelineStore {
  readonly store: PipelineStoreShape
  /** The sample data of every pipeline that has any. */
  readonly sampleData: () => Record<string, SampleData>
  /** Replaces the sample data of the given pipelines. */
  readonly restoreSampleData: (data: Readonly<Record<string, SampleData>>) => void
}

export const makeMemoryWithSampleData = Effect.sync((): MemoryPipelineStore => {
  const pipelines = new Map<string, Pipeline>()
  const buffers = new Map<string, Array<StoredSample>>()
  const seen = new Map<string, Set<string>>()
  const counters = new Map<string, { received: number; duplicates: number; dropped: number; processed: number }>()
  const states = new Map<string, LearnerState>()
  const progressive = new Map<string, Array<ProgressiveEntry>>()
  const updates = new Map<string, Array<UpdateRecord>>()
  const validation = new Map<string, Array<StoredSample>>()
  const countersOf = (id: string) => {
    let c = counters.get(id)
    if (!c) counters.set(id, c = { received: 0, duplicates: 0, dropped: 0, processed: 0 })
    return c
  }
  const store: Omit<PipelineStoreShape, "exportSampleData" | "importSampleData"> = {
    insert: (pipeline) =>
      Effect.suspend(() => {
        if (pipelines.has(pipeline.id)) {
          return Effect.fail(
            new PipelineConflictError({ pipelineId: pipeline.id, message: `Pipeline ${pipeline.id} already exists` })
          )
        }
        pipelines.set(pipeline.id, pipeline)
        return Effect.void
      }),
    get: (id) => Effect.sync(() => pipelines.get(id)),
    list: () => Effect.sync(() => [...pipelines.values()]),
    commit: (pipeline, expected) =>
      Effect.suspend(() => {
        if (pipelines.get(pipeline.id)?.revision !== expected) {
          return Effect.fail(new StaleRevisionError({ message: `Pipeline ${pipeline.id} changed since it was read` }))
        }
        pipelines.set(pipeline.id, pipeline)
        return Effect.void
      }),
    addSamples: (id, samples, { maxBufferSize, dedupWindow, progressiveWindow }, predictions, expectedRevision) =>
      Effect.suspend(() => {
        if (expectedRevision !== undefined && pipelines.get(id)?.revision !== expectedRevision) {
          return Effect.fail(new StaleRevisionError({ message: `Pipeline ${id} changed since it was read` }))
        }
        const scored = progressive.get(id) ?? []
        const buffer = buffers.get(id) ?? []
        const ids = seen.get(id) ?? new Set<string>()
        const c = countersOf(id)
        let added = 0
        let duplicates = 0
        samples.forEach((s, i) => {
          c.received++
          if (ids.has(s.sampleId)) {
            duplicates++
            return
          }
          ids.add(s.sampleId)
          buffer.push(s)
          if (predictions) scored.push({ prediction: predictions[i]!, label: s.label })
          added++
        })
        if (scored.length > progressiveWindow) scored.splice(0, scored.length - progressiveWindow)
        progressive.set(id, scored)
        const dropped = Math.max(0, buffer.length - maxBufferSize)
        if (dropped > 0) buffer.splice(0, dropped)
        // A Set iterates in insertion order: the first ids are the oldest.
        for (const old of ids) {
          if (ids.size <= dedupWindow) break
          ids.delete(old)
        }
        c.duplicates += duplicates
        c.dropped += dropped
        buffers.set(id, buffer)
        seen.set(id, ids)
        return Effect.succeed({ added, duplicates, dropped, buffered: buffer.length })
      }),
    buffer: (id) => Effect.sync(() => [...(buffers.get(id) ?? [])]),
    bufferSize: (id) => Effect.sync(() => buffers.get(id)?.length ?? 0),
    removeSamples: (id, sampleIds) =>
      Effect.sync(() => {
        const drop = new Set(sampleIds)
        buffers.set(id, (buffers.get(id) ?? []).filter((s) => !drop.has(s.sampleId)))
      }),
    counters: (id) => Effect.sync(() => ({ ...countersOf(id) })),
    addProcessed: (id, count) => Effect.sync(() => void (countersOf(id).processed += count)),
    liveState: (id) => Effect.sync(() => states.get(id)),
    setLiveState: (id, state) => Effect.sync(() => void states.set(id, state)),
    progressive: (id) => Effect.sync(() => [...(progressive.get(id) ?? [])]),
    addValidation: (id, samples, max) =>
      Effect.sync(() => {
        const list = validation.get(id) ?? []
        for (const sample of samples) list.push(sample) // not a spread: no argument-count limit
        if (list.length > max) list.splice(0, list.length - max)
        validation.set(id, list)
      }),
    validation: (id) => Effect.sync(() => [...(validation.get(id) ?? [])]),
    appendUpdate: (record) =>
      Effect.sync(() => void updates.set(record.pipelineId, [...(updates.get(record.pipelineId) ?? []), record])),
    updates: (id) => Effect.sync(() => [...(updates.get(id) ?? [])])
  }
  const sampleDataOf = (id: string): SampleData => ({
    buffer: buffers.get(id) ?? [],
    seen: [...(seen.get(id) ?? [])],
    counters: { ...countersOf(id) },
    progressive: progressive.get(id) ?? [],
    validation: validation.get(id) ?? []
  })
  const sampleData = () => {
    const ids = new Set([
      ...buffers.keys(),
      ...seen.keys(),
      ...counters.keys(),
      ...progressive.keys(),
      ...validation.keys()
    ])
    return Object.fromEntries([...ids].map((id): [string, SampleData] => [id, sampleDataOf(id)]))
  }
  const restoreSampleData = (data: Readonly<Record<string, SampleData>>) => {
    for (const [id, d] of Object.entries(data)) {
      buffers.set(id, [...d.buffer])
      seen.set(id, new Set(d.seen))
      counters.set(id, { ...d.counters })
      progressive.set(id, [...d.progressive])
      validation.set(id, [...d.validation])
    }
  }
  const withSampleData: PipelineStoreShape = {
    ...store,
    exportSampleData: (id) =>
      Effect.sync(() => {
        const data = sampleDataOf(id)
        return {
          ...data,
          buffer: [...data.buffer],
          progressive: [...data.progressive],
          validation: [...data.validation]
        }
      }),
    importSampleData: (id, data) => Effect.sync(() => restoreSampleData({ [id]: data }))
  }
  return { store: withSampleData, sampleData, restoreSampleData }
})

export const makeMemory: Effect.Effect<PipelineStoreShape> = Effect.map(makeMemoryWithSampleData, (m) => m.store)

export const layerMemory: Layer.Layer<PipelineStore> = Layer.effect(PipelineStore, makeMemory)
