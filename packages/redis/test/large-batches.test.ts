/**
 * The largest batches a request may carry (100,000 samples; tens of thousands of metric updates)
 * reach Redis as one command each: arguments are passed as one array, never spread into a call,
 * whose argument slots a batch that size would overflow (RangeError: too many arguments).
 */
import { ExperimentStore, MAX_SAMPLES_PER_REQUEST, PipelineStore, type StoredSample } from "@org/ml-core"
import { Effect, Layer } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { RedisClient, RedisExperimentStore, RedisPipelineStore } from "../src/index.js"
import { connectOrFail, deleteKeysWithPrefix, redisUrl, uniquePrefix } from "../src/Testing.js"

const admin = await connectOrFail()
const prefix = uniquePrefix("large-batches")
afterAll(async () => {
  await deleteKeysWithPrefix(admin, prefix)
  await admin.quit()
})

// A generous command timeout: these scripts take seconds on a loaded machine, and the point here is
// how arguments are passed, not how fast.
const client = RedisClient.layer({ url: redisUrl, prefix, commandTimeoutMillis: 60_000 })
const stores = Layer.merge(RedisPipelineStore.layer, RedisExperimentStore.layer).pipe(Layer.provide(client))
const run = <A, E>(effect: Effect.Effect<A, E, PipelineStore.PipelineStore | ExperimentStore.ExperimentStore>) =>
  Effect.runPromise(Effect.provide(effect, stores) as Effect.Effect<A, E>)

const samples = (count: number): ReadonlyArray<StoredSample> =>
  Array.from({ length: count }, (_, i) => ({
    sampleId: `s${i}`,
    features: { x: i % 7 },
    label: i % 2,
    weight: 1,
    receivedAt: "2026-12-02T00:00:00.000Z"
  }))

describe("Redis stores take the largest allowed batch in one command", () => {
  it("adds 100,000 samples with predictions, and 100,000 held-out samples", async () => {
    const batch = samples(MAX_SAMPLES_PER_REQUEST)
    const { added, buffered, held } = await run(Effect.gen(function*() {
      const store = yield* PipelineStore.PipelineStore
      const limits = { maxBufferSize: 200_000, dedupWindow: 200_000, progressiveWindow: 1000 }
      const { added } = yield* store.addSamples("big", batch, limits, batch.map(() => 0.5))
      yield* store.addValidation("big", batch, 200_000)
      return { added, buffered: yield* store.bufferSize("big"), held: (yield* store.validation("big")).length }
    }))
    expect({ added, buffered, held }).toEqual({ added: batch.length, buffered: batch.length, held: batch.length })
  }, 120_000)

  it("merges 70,000 distinct metric summaries (140,000 arguments) atomically", async () => {
    const updates = Array.from({ length: 70_000 }, (_, i) => ({
      variant: i % 2,
      metric: `m${i}`,
      summary: { count: 1, mean: i, m2: 0, min: i, max: i, shift: i, shiftedMean: 0 }
    }))
    const counters = await run(Effect.gen(function*() {
      const store = yield* ExperimentStore.ExperimentStore
      yield* store.mergeMetrics("big", updates)
      return yield* store.counters("big", 2)
    }))
    expect(Object.keys(counters.variants[0]!.metrics).length + Object.keys(counters.variants[1]!.metrics).length)
      .toBe(updates.length)
  }, 120_000)
})
