/**
 * Contract of the PipelineStore port, run against every adapter: one buffer for every writer
 * (deduplicated by sampleId, bounded with drops counted, nothing lost under concurrency),
 * compare-and-set pipeline records, live state, bounded windows and update records.
 */
import { Effect, Exit, type Layer } from "effect"
import { describe, expect, it } from "vitest"
import { loadLearner, makeLearner } from "../learning/learners/Learner.js"
import type { Pipeline, UpdateRecord } from "../learning/Pipeline.js"
import { PipelineStore, type StoredSample } from "../learning/PipelineStore.js"
import { exampleSignature } from "./SignatureContract.js"

export const samplePipeline = (overrides: Partial<Pipeline> = {}): Pipeline => {
  const at = new Date().toISOString()
  return {
    id: `pipe-${Math.random().toString(36).slice(2, 10)}`,
    name: "p",
    baseModelId: "01ARZ3NDEKTSV4RRFFQ69G5FAV",
    liveModelId: "01ARZ3NDEKTSV4RRFFQ69G5FAV",
    kind: "logistic",
    strategy: "mini-batch",
    updateFrequencySeconds: 60,
    batchSize: 10,
    minSamples: 5,
    maxBufferSize: 100,
    learningRate: null,
    holdoutShare: 0.2,
    validationMetric: "log_loss",
    degradationTolerance: 0.01,
    monitorId: null,
    adaptive: { batchSize: 10, learningRateScale: 1, referenceMetric: null },
    driftSignal: false,
    acceptedUpdates: 0,
    rejectedUpdates: 0,
    lastUpdateAt: null,
    lastError: null,
    retryCount: 0,
    nextRetryAt: null,
    createdAt: at,
    updatedAt: at,
    revision: 1,
    ...overrides
  }
}

const limits = (maxBufferSize: number) => ({ maxBufferSize, dedupWindow: 100_000, progressiveWindow: 1000 })
const stored = (id: string, x = 1): StoredSample => ({
  sampleId: id,
  features: { a: x, b: 0.5 },
  label: 1,
  weight: 1,
  receivedAt: "2030-01-01T00:00:00.000Z"
})

const legacyUpdate = (pipelineId: string, at: string): UpdateRecord => ({
  id: "u1",
  pipelineId,
  at,
  kind: "update",
  accepted: true,
  reason: "ok",
  trigger: "manual",
  samples: 2,
  metricBefore: 0.5,
  metricAfter: 0.4,
  modelId: null,
  previousModelId: null
})

/**
 * A hashed logistic learner (AdaGrad, standardized) trained on 3,000 rows touching ~3,000 of its
 * 2^bits slots, the probes to compare predictions on, and the row generator. Values no short
 * decimal spells (thirds, square roots), so a lossy encoding of a stored state would show.
 */
export const trainedHashedLearner = (bits: number) => {
  const learner = makeLearner({
    kind: "logistic",
    optimizer: { type: "adagrad", learningRate: 0.05 },
    features: { type: "hashing", bits },
    standardize: true
  })
  const row = (i: number) => ({ [`f${i % 3001}`]: Math.sqrt(i + 2) / 3, [`g${i % 17}`]: -i / 7, u: 1 / 3 })
  for (let i = 0; i < 3000; i++) learner.learn({ features: row(i), label: i % 3 === 0 ? 1 : 0 })
  const probes = Array.from({ length: 500 }, (_, i) => row(i * 7 + 1))
  return { learner, probes, row }
}

export const pipelineStoreContract = (adapter: string, makeLayer: () => Layer.Layer<PipelineStore, unknown>) => {
  const run = <A, E>(program: Effect.Effect<A, E, PipelineStore>): Promise<A> =>
    Effect.runPromise(Effect.provide(program, makeLayer()) as Effect.Effect<A, E>)

  describe(`PipelineStore contract: ${adapter}`, () => {
    it("inserts once and commits only at the expected revision", async () => {
      const p = samplePipeline()
      const r = await run(Effect.gen(function*() {
        const store = yield* PipelineStore
        yield* store.insert(p)
        const again = yield* Effect.exit(store.insert(p))
        yield* store.commit({ ...p, name: "renamed", revision: 2 }, 1)
        const stale = yield* Effect.exit(store.commit({ ...p, name: "lost", revision: 2 }, 1))
        return { again, stale, stored: yield* store.get(p.id), listed: yield* store.list() }
      }))
      expect(Exit.isFailure(r.again)).toBe(true)
      expect(Exit.isFailure(r.stale)).toBe(true)
      expect(r.stored).toMatchObject({ name: "renamed", revision: 2 })
      expect(r.listed.map((x) => x.id)).toContain(p.id)
    })

    it("keeps the signature of a pipeline created from a model", async () => {
      const pipeline = samplePipeline({ signature: exampleSignature })
      const stored = await run(Effect.gen(function*() {
        const store = yield* PipelineStore
        yield* store.insert(pipeline)
        return yield* store.get(pipeline.id)
      }))
      expect(stored).toEqual(pipeline)
    })

    it("keeps a pipeline record whole: publish settings, and records without them (earlier releases)", async () => {
      const [withSettings, without] = [samplePipeline({ publish: { precision: "float32" } }), samplePipeline()]
      const r = await run(Effect.gen(function*() {
        const store = yield* PipelineStore
        yield* store.insert(withSettings)
        yield* store.insert(without)
        const inserted = yield* store.get(withSettings.id)
        const changed = { ...withSettings, publish: { precision: "float64" as const }, revision: 2 }
        yield* store.commit(changed, 1)
        return { inserted, changed, committed: yield* store.get(withSettings.id), old: yield* store.get(without.id) }
      }))
      expect(r.inserted).toEqual(withSettings)
      expect(r.committed).toEqual(r.changed)
      expect(r.old).toEqual(without)
      expect(r.old).not.toHaveProperty("publish")
    })

    it("answers a pipeline record only when its revision is not the caller's (stores that check it)", async () => {
      const p = samplePipeline({ revision: 1 })
      const r = await run(Effect.gen(function*() {
        const store = yield* PipelineStore
        // Optional: a store without it is read with `get` (nothing to check).
        if (store.getIfChanged === undefined) return undefined
        const getIfChanged = store.getIfChanged
        const before = yield* getIfChanged(p.id, 1)
        yield* store.insert(p)
        const unchanged = yield* getIfChanged(p.id, 1)
        yield* store.commit({ ...p, name: "renamed", revision: 2 }, 1)
        return {
          before,
          unchanged,
          changed: yield* getIfChanged(p.id, 1),
          stored: yield* store.get(p.id),
          known: yield* getIfChanged(p.id, 2),
          ahead: yield* getIfChanged(p.id, 3)
        }
      }))
      if (r === undefined) return
      expect(r.before).toBeUndefined()
      expect(r.unchanged).toBe("unchanged")
      expect(r.changed).toEqual(r.stored)
      expect(r.changed).toMatchObject({ name: "renamed", revision: 2 })
      expect(r.known).toBe("unchanged")
      // Any other revision than the stored one gets the record, also one the store never had.
      expect(r.ahead).toEqual(r.stored)
    })

    it("takes a batch only at the expected revision, answering the buffer's size", async () => {
      const p = samplePipeline({ revision: 3 })
      const r = await run(Effect.gen(function*() {
        const store = yield* PipelineStore
        yield* store.insert(p)
        const first = yield* store.addSamples(p.id, [stored("a"), stored("b")], limits(1000), [0.1, 0.2], 3)
        const stale = yield* Effect.flip(store.addSamples(p.id, [stored("c")], limits(1000), [0.3], 2))
        const missing = yield* Effect.flip(store.addSamples("no-such-pipeline", [stored("d")], limits(1000), [0.4], 1))
        const unchecked = yield* store.addSamples(p.id, [stored("b"), stored("e")], limits(1000))
        const [buffer, counters, progressive] = yield* Effect.all([
          store.buffer(p.id),
          store.counters(p.id),
          store.progressive(p.id)
        ])
        return { first, stale, missing, unchecked, buffer, counters, progressive }
      }))
      expect(r.first).toEqual({ added: 2, duplicates: 0, dropped: 0, buffered: 2 })
      expect(r.stale._tag).toBe("StaleRevisionError")
      expect(r.missing._tag).toBe("StaleRevisionError")
      expect(r.unchecked).toEqual({ added: 1, duplicates: 1, dropped: 0, buffered: 3 })
      expect(r.buffer.map((s) => s.sampleId)).toEqual(["a", "b", "e"])
      expect(r.counters).toMatchObject({ received: 4, duplicates: 1 })
      expect(r.progressive).toEqual([{ prediction: 0.1, label: 1 }, { prediction: 0.2, label: 1 }])
    })

    it("collects samples from concurrent writers in one buffer, deduplicated and bounded", async () => {
      const p = samplePipeline()
      const r = await run(Effect.gen(function*() {
        const store = yield* PipelineStore
        yield* store.insert(p)
        const results = yield* Effect.all(
          Array.from({ length: 10 }, (_, w) =>
            store.addSamples(
              p.id,
              Array.from({ length: 8 }, (_, i) => stored(`w${w}-${i}`, w * 8 + i)),
              limits(1000)
            )),
          { concurrency: "unbounded" }
        )
        const dup = yield* store.addSamples(p.id, [stored("w0-0"), stored("new-1")], limits(1000))
        const full = yield* store.buffer(p.id)
        const fullSize = yield* store.bufferSize(p.id)
        const bounded = yield* store.addSamples(
          p.id,
          Array.from({ length: 30 }, (_, i) => stored(`extra-${i}`)),
          limits(50)
        )
        return {
          results,
          dup,
          full,
          fullSize,
          bounded,
          after: yield* store.buffer(p.id),
          afterSize: yield* store.bufferSize(p.id),
          counters: yield* store.counters(p.id)
        }
      }))
      expect(r.results.reduce((a, x) => a + x.added, 0)).toBe(80)
      expect(r.dup).toMatchObject({ added: 1, duplicates: 1 })
      expect(new Set(r.full.map((s) => s.sampleId)).size).toBe(81)
      expect(r.full.find((s) => s.sampleId === "w3-2")).toEqual(stored("w3-2", 26))
      expect(r.bounded.dropped).toBe(61)
      expect(r.after).toHaveLength(50)
      expect([r.fullSize, r.afterSize]).toEqual([81, 50])
      expect(r.after.at(-1)!.sampleId).toBe("extra-29")
      expect(r.counters).toMatchObject({ received: 112, duplicates: 1, dropped: 61 })
    })

    it("remembers the ids of the last dedupWindow samples only: older forgotten, recent deduplicated", async () => {
      const p = samplePipeline()
      const r = await run(Effect.gen(function*() {
        const store = yield* PipelineStore
        yield* store.insert(p)
        const limits = { maxBufferSize: 3, dedupWindow: 5, progressiveWindow: 100 }
        yield* store.addSamples(p.id, ["a", "b", "c", "d"].map((id) => stored(id)), limits, [0.1, 0.2, 0.3, 0.4])
        yield* store.addSamples(p.id, ["e", "f", "g"].map((id) => stored(id)), limits, [0.5, 0.6, 0.7])
        // a and b are beyond the last 5 (c..g); replays of c and g are still duplicates, and not scored again.
        const replays = yield* store.addSamples(p.id, ["a", "c", "g", "b"].map((id) => stored(id)), limits, [
          0.8,
          0.9,
          0.95,
          0.99
        ])
        return {
          replays,
          buffer: yield* store.buffer(p.id),
          counters: yield* store.counters(p.id),
          progressive: yield* store.progressive(p.id)
        }
      }))
      expect(r.replays).toMatchObject({ added: 2, duplicates: 2, dropped: 2 })
      expect(r.progressive.map((e) => e.prediction)).toEqual([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.99])
      expect(r.buffer.map((s) => s.sampleId)).toEqual(["g", "a", "b"])
      expect(r.counters).toMatchObject({ received: 11, duplicates: 2, dropped: 6 })
    })

    it(
      "keeps a hashed 2^20-slot live state exactly: the learner read back predicts and learns as the written one",
      async () => {
        const p = samplePipeline()
        const { learner, probes, row } = trainedHashedLearner(20)
        const written = learner.state()
        await run(Effect.gen(function*() {
          const store = yield* PipelineStore
          yield* store.insert(p)
          yield* store.setLiveState(p.id, written)
        }))
        // A second run: the adapters with a cache or a journal read it back from storage.
        const readBack = await run(Effect.gen(function*() {
          return yield* (yield* PipelineStore).liveState(p.id)
        }))
        expect(readBack).toBeDefined()
        const restored = loadLearner(readBack)
        for (const features of probes) expect(restored.predict(features)).toBe(learner.predict(features))
        expect(readBack!.steps).toBe(written.steps)
        expect(readBack!.bias).toBe(written.bias)
        // The optimizer and standardization state came back too: both go on learning identically.
        for (let i = 0; i < 50; i++) {
          const sample = { features: row(5000 + i), label: i % 2 }
          learner.learn(sample)
          restored.learn(sample)
        }
        for (const features of probes) expect(restored.predict(features)).toBe(learner.predict(features))
      },
      60_000
    )

    it("removes consumed samples, counts processed, keeps live state and bounded windows", async () => {
      const p = samplePipeline()
      const state = {
        formatVersion: 1 as const,
        config: {
          kind: "linear" as const,
          optimizer: { type: "sgd" as const, learningRate: 0.1 },
          features: { type: "hashing" as const, bits: 2 }
        },
        weights: [1, 2, 3, 4],
        bias: 0.5,
        steps: 3,
        accumulators: {},
        standardization: null
      }
      const r = await run(Effect.gen(function*() {
        const store = yield* PipelineStore
        yield* store.insert(p)
        yield* store.addSamples(p.id, [stored("a"), stored("b"), stored("c")], limits(100))
        yield* store.addSamples(
          p.id,
          ["p0", "p1", "p2", "p3", "p4"].map((id, i) => ({ ...stored(id), label: i % 2 })),
          { ...limits(100), progressiveWindow: 3 },
          [0, 0.1, 0.2, 0.3, 0.4]
        )
        yield* store.removeSamples(p.id, ["a", "c", "p0", "p1", "p2", "p3", "p4"])
        yield* store.addProcessed(p.id, 2)
        yield* store.setLiveState(p.id, state)
        yield* store.addValidation(p.id, [stored("v1"), stored("v2"), stored("v3")], 2)
        // u1 as earlier releases stored it (no progressive snapshot), u2 with one: both read back as written.
        yield* store.appendUpdate(legacyUpdate(p.id, p.createdAt))
        yield* store.appendUpdate({
          ...legacyUpdate(p.id, p.createdAt),
          id: "u2",
          progressive: { window: 3, accuracy: 0.5, logLoss: 0.69, rmse: null }
        })
        return {
          buffer: yield* store.buffer(p.id),
          counters: yield* store.counters(p.id),
          state: yield* store.liveState(p.id),
          progressive: yield* store.progressive(p.id),
          validation: yield* store.validation(p.id),
          updates: yield* store.updates(p.id)
        }
      }))
      expect(r.buffer.map((s) => s.sampleId)).toEqual(["b"])
      expect(r.counters.processed).toBe(2)
      expect(r.state).toEqual(state)
      expect(r.progressive).toEqual([{ prediction: 0.2, label: 0 }, { prediction: 0.3, label: 1 }, {
        prediction: 0.4,
        label: 0
      }])
      expect(r.validation.map((s) => s.sampleId)).toEqual(["v2", "v3"])
      expect(r.updates).toEqual([legacyUpdate(p.id, p.createdAt), {
        ...legacyUpdate(p.id, p.createdAt),
        id: "u2",
        progressive: { window: 3, accuracy: 0.5, logLoss: 0.69, rmse: null }
      }])
    })

    it("exports the sample side as written and imports it into an empty pipeline unchanged", async () => {
      const [source, copy] = [samplePipeline(), samplePipeline()]
      const r = await run(Effect.gen(function*() {
        const store = yield* PipelineStore
        yield* store.insert(source)
        yield* store.addSamples(source.id, [stored("a", 1), stored("b", 2), stored("a", 1)], limits(100), [
          0.1,
          0.2,
          0.3
        ])
        yield* store.addSamples(source.id, [stored("c", 3), stored("d", 4), stored("e", 5)], limits(2), [0.4, 0.5, 0.6])
        yield* store.removeSamples(source.id, ["d"])
        yield* store.addProcessed(source.id, 1)
        yield* store.addValidation(source.id, [stored("v1"), stored("v2")], 10)
        const exported = yield* store.exportSampleData(source.id)
        yield* store.insert(copy)
        yield* store.importSampleData(copy.id, exported)
        const reimported = yield* store.exportSampleData(copy.id)
        const reads = (id: string) =>
          Effect.all({
            buffer: store.buffer(id),
            bufferSize: store.bufferSize(id),
            counters: store.counters(id),
            progressive: store.progressive(id),
            validation: store.validation(id)
          })
        const [sourceReads, copyReads] = [yield* reads(source.id), yield* reads(copy.id)]
        // "a" and "d" left the buffer but are remembered: the copy still refuses them as duplicates.
        const replay = yield* store.addSamples(copy.id, [stored("a"), stored("d"), stored("f")], limits(100))
        return { exported, reimported, sourceReads, copyReads, replay }
      }))
      expect(r.exported).toEqual({
        buffer: [stored("e", 5)],
        seen: ["a", "b", "c", "d", "e"],
        counters: { received: 6, duplicates: 1, dropped: 3, processed: 1 },
        progressive: [0.1, 0.2, 0.4, 0.5, 0.6].map((prediction) => ({ prediction, label: 1 })),
        validation: [stored("v1"), stored("v2")]
      })
      expect(r.reimported).toEqual(r.exported)
      expect(r.copyReads).toEqual(r.sourceReads)
      expect(r.replay).toMatchObject({ added: 1, duplicates: 2, dropped: 0 })
    })
  })
}
