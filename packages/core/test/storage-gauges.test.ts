/**
 * Storage-derived gauges: a rebuild is reused for GaugeMaxAge (time from Effect's TestClock),
 * invalidated by local changes, shared by concurrent scrapes; and an experiment's start or
 * completion no longer reads every experiment in storage.
 */
import { Deferred, Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import { describe, expect, it } from "vitest"
import {
  AbTests,
  ArtifactStore,
  type Experiment,
  ExperimentStore,
  MetricsSink,
  ModelRegistry,
  ModelStore,
  newExperiment,
  StorageError,
  StorageGauges
} from "../src/index.js"
import { streamOf } from "../src/testing/index.js"

const withMaxAge = (millis: number) => Layer.succeed(StorageGauges.GaugeMaxAge, millis)

describe("StorageGauges", () => {
  it("reuses a rebuild for the max age, rebuilds after it, and at once after invalidate", async () => {
    let rebuilds = 0
    const program = Effect.gen(function*() {
      const gauges = yield* StorageGauges.makeStorageGauges(Effect.sync(() => void rebuilds++))
      yield* gauges.refresh
      yield* gauges.refresh
      const afterTwo = rebuilds
      yield* TestClock.adjust("999 millis")
      yield* gauges.refresh
      const beforeExpiry = rebuilds
      yield* TestClock.adjust("2 millis")
      yield* gauges.refresh
      const afterExpiry = rebuilds
      yield* gauges.invalidate
      yield* gauges.refresh
      return [afterTwo, beforeExpiry, afterExpiry, rebuilds]
    })
    const counts = await Effect.runPromise(
      program.pipe(Effect.provide(Layer.merge(TestClock.layer(), withMaxAge(1000))))
    )
    expect(counts).toEqual([1, 1, 2, 3])
  })

  it("rebuilds on every refresh with max age 0 and retries a failed rebuild on the next one", async () => {
    let attempts = 0
    const flaky = Effect.suspend(() =>
      ++attempts === 1 ? Effect.fail(new StorageError({ message: "down" })) : Effect.void
    )
    const program = Effect.gen(function*() {
      const failing = yield* StorageGauges.makeStorageGauges(flaky)
      const first = yield* Effect.result(failing.refresh)
      yield* failing.refresh
      yield* failing.refresh
      return { first: first._tag, attempts }
    })
    // The default max age (10 s) keeps the success; only the failure is retried.
    expect(await Effect.runPromise(program.pipe(Effect.provide(TestClock.layer())))).toEqual({
      first: "Failure",
      attempts: 2
    })

    let rebuilds = 0
    const everyTime = Effect.gen(function*() {
      const gauges = yield* StorageGauges.makeStorageGauges(Effect.sync(() => void rebuilds++))
      for (let i = 0; i < 3; i++) yield* gauges.refresh
    })
    await Effect.runPromise(everyTime.pipe(Effect.provide(Layer.merge(TestClock.layer(), withMaxAge(0)))))
    expect(rebuilds).toBe(3)
  })

  it("lets concurrent scrapes share one rebuild", async () => {
    let rebuilds = 0
    const program = Effect.gen(function*() {
      const release = yield* Deferred.make<void>()
      const gauges = yield* StorageGauges.makeStorageGauges(
        Effect.sync(() => void rebuilds++).pipe(Effect.andThen(Deferred.await(release)))
      )
      const scrapes = yield* Effect.forkChild(Effect.all([gauges.refresh, gauges.refresh, gauges.refresh], {
        concurrency: "unbounded"
      }))
      yield* Effect.yieldNow
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(scrapes)
    })
    await Effect.runPromise(program)
    expect(rebuilds).toBe(1)
  })
})

/** The memory experiment store, counting the calls that read every experiment or its counters. */
const countingStore = Effect.gen(function*() {
  const inner = yield* ExperimentStore.makeMemory
  const calls = { list: 0, counters: new Map<string, number>() }
  const store: ExperimentStore.ExperimentStoreShape = {
    ...inner,
    list: () => Effect.suspend(() => (calls.list++, inner.list())),
    counters: (id, variantCount) =>
      Effect.suspend(() => {
        calls.counters.set(id, (calls.counters.get(id) ?? 0) + 1)
        return inner.counters(id, variantCount)
      })
  }
  return { store, calls }
})

/** A/B tests over memory stores, with `store` as the experiment store. */
const world = (store: ExperimentStore.ExperimentStoreShape) =>
  AbTests.layer().pipe(
    Layer.provideMerge(Layer.succeed(ExperimentStore.ExperimentStore, store)),
    Layer.provideMerge(ModelRegistry.layerMemory())
  )

const gaugeValues = Effect.gen(function*() {
  const sink = (yield* MetricsSink.MetricsSink) as unknown as { snapshot: () => ReadonlyMap<string, number> }
  return sink.snapshot()
})

describe("experiment gauges", () => {
  it("start and complete read only their own experiment; the next refresh shows both changes", async () => {
    const { calls, store } = Effect.runSync(countingStore)
    const program = Effect.gen(function*() {
      const ab = yield* AbTests.AbTests
      const registry = yield* ModelRegistry.ModelRegistry
      const models = yield* Effect.forEach([0, 1], (i) =>
        registry.registerModel(
          { name: "gauged", version: String(i), algorithm: "a", framework: "f" },
          streamOf([new Uint8Array([i])])
        ))
      const variants = models.map((m, i) => ({ modelId: m.id, isControl: i === 0, trafficPct: 50 }))
      const at = new Date(0).toISOString()
      for (let i = 0; i < 50; i++) {
        const seeded: Experiment = newExperiment({ name: `seeded ${i}`, targetMetric: "ctr", variants }, {
          id: `exp-seeded-${i}`,
          at,
          actor: "test",
          defaults: AbTests.defaultAbTestSettings
        })
        yield* store.insert({ ...seeded, status: "running", startedAt: at })
      }
      const experiment = yield* ab.createExperiment({ name: "measured", targetMetric: "ctr", variants })
      const readsOf = function*<A, E, R>(change: Effect.Effect<A, E, R>) {
        calls.list = 0
        calls.counters.clear()
        yield* change
        return { list: calls.list, counters: [...calls.counters.keys()] }
      }
      const trafficOf = (values: ReadonlyMap<string, number>) =>
        [...values.keys()].filter((k) => k.startsWith("ml_experiment_traffic{") && k.includes(experiment.id)).length

      const startReads = yield* readsOf(ab.startExperiment(experiment.id))
      yield* ab.refreshGauges()
      const afterStart = yield* gaugeValues
      const completeReads = yield* readsOf(ab.completeExperiment(experiment.id))
      yield* ab.refreshGauges()
      const afterComplete = yield* gaugeValues
      return {
        startReads,
        completeReads,
        activeAfterStart: afterStart.get("ml_experiment_active_total{}"),
        trafficAfterStart: trafficOf(afterStart),
        activeAfterComplete: afterComplete.get("ml_experiment_active_total{}"),
        trafficAfterComplete: trafficOf(afterComplete)
      }
    })
    const outcome = await Effect.runPromise(Effect.provide(program, world(store)))
    // Before: each start and completion listed every experiment and read the counters of all 50.
    expect(outcome.startReads).toEqual({ list: 0, counters: [] })
    expect(outcome.completeReads.list).toBe(0)
    expect(outcome.completeReads.counters.every((id) => !id.startsWith("exp-seeded-"))).toBe(true)
    expect(outcome).toMatchObject({
      activeAfterStart: 51,
      trafficAfterStart: 2,
      activeAfterComplete: 50,
      trafficAfterComplete: 0
    })
  })
})

describe("registry gauges", () => {
  it("scans every model once per max age; counts and this instance's uploads show at once", async () => {
    const inner = Effect.runSync(ModelStore.makeMemory)
    let pagesListed = 0
    const store: ModelStore.ModelStoreShape = {
      ...inner,
      list: (query) => Effect.suspend(() => (pagesListed++, inner.list(query)))
    }
    const layer = ModelRegistry.layer().pipe(
      Layer.provideMerge(Layer.mergeAll(
        Layer.succeed(ModelStore.ModelStore, store),
        ArtifactStore.layerMemory,
        MetricsSink.layerMemory,
        withMaxAge(60_000)
      ))
    )
    const program = Effect.gen(function*() {
      const registry = yield* ModelRegistry.ModelRegistry
      const register = (i: number, bytes?: number) =>
        registry.registerModel(
          { name: "scanned", version: String(i), algorithm: "a", framework: "f" },
          bytes === undefined ? undefined : streamOf([new Uint8Array(bytes)])
        )
      const first = yield* register(0, 3)
      for (let i = 1; i < 600; i++) yield* register(i)
      yield* registry.refreshGauges()
      const firstScan = pagesListed
      yield* registry.promoteModel(first.id, "testing")
      const late = yield* register(600, 7)
      yield* registry.refreshGauges()
      const values = yield* gaugeValues
      return {
        firstScan,
        laterScans: pagesListed - firstScan,
        draft: values.get(`ml_models_total{status="draft"}`),
        testing: values.get(`ml_models_total{status="testing"}`),
        firstSize: values.get(`ml_model_file_size_bytes{model_id="${first.id}"}`),
        lateSize: values.get(`ml_model_file_size_bytes{model_id="${late.id}"}`)
      }
    })
    const outcome = await Effect.runPromise(
      Effect.provide(program, Layer.merge(layer, TestClock.layer()))
    )
    // 600 models in pages of 500: two pages the first time; none again within the max age.
    expect(outcome).toEqual({ firstScan: 2, laterScans: 0, draft: 600, testing: 1, firstSize: 3, lateSize: 7 })
  })
})
