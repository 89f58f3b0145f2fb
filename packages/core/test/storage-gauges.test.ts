/**
 * Storage-derived gauges: a rebuild is reused for GaugeMaxAge (time from Effect's TestClock),
 * invalidated by local changes, shared by concurrent scrapes; and an experiment's start or
 * completion no longer reads every experiment in storage.
 */
import { Context, Deferred, Effect, Fiber, Layer } from "effect"
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

describe("KeyedStorageGauges", () => {
  it("ages a rebuild from its end: one slower than the max age is not redone by the next refresh", async () => {
    let rebuilds = 0
    const program = Effect.gen(function*() {
      const gauges = yield* StorageGauges.makeKeyedStorageGauges({
        // A rebuild that takes 1.5 s of (test) time, with a max age of 1 s.
        rebuild: Effect.sync(() => void rebuilds++).pipe(Effect.andThen(TestClock.adjust("1500 millis"))),
        refreshKeys: () => Effect.void
      })
      yield* gauges.refresh
      yield* gauges.changed("a")
      yield* gauges.refresh
      yield* TestClock.adjust("999 millis")
      yield* gauges.refresh
      const beforeExpiry = rebuilds
      yield* TestClock.adjust("1 millis")
      yield* gauges.refresh
      return [beforeExpiry, rebuilds]
    })
    const counts = await Effect.runPromise(
      program.pipe(Effect.provide(Layer.merge(TestClock.layer(), withMaxAge(1000))))
    )
    expect(counts).toEqual([1, 2])
  })

  it("re-reads only the keys marked since the last refresh until the max age, then rebuilds", async () => {
    const log: Array<string> = []
    let failNext = false
    const program = Effect.gen(function*() {
      const gauges = yield* StorageGauges.makeKeyedStorageGauges({
        rebuild: Effect.sync(() => void log.push("rebuild")),
        refreshKeys: (keys) =>
          Effect.suspend(() => {
            log.push(`keys ${[...keys].sort().join(",")}`)
            if (!failNext) return Effect.void
            failNext = false
            return Effect.fail(new StorageError({ message: "down" }))
          })
      })
      yield* gauges.refresh
      yield* gauges.refresh
      yield* gauges.changed("a")
      yield* gauges.changed("b")
      yield* gauges.changed("a")
      yield* gauges.refresh
      yield* gauges.refresh
      // A failed read keeps its keys marked for the next refresh.
      yield* gauges.changed("c")
      failNext = true
      const failed = yield* Effect.result(gauges.refresh)
      yield* gauges.refresh
      yield* TestClock.adjust("1000 millis")
      yield* gauges.changed("d")
      yield* gauges.refresh
      yield* gauges.refresh
      return failed._tag
    })
    const failed = await Effect.runPromise(
      program.pipe(Effect.provide(Layer.merge(TestClock.layer(), withMaxAge(1000))))
    )
    expect(failed).toBe("Failure")
    // The rebuild after the max age covers "d": it is not read again on its own.
    expect(log).toEqual(["rebuild", "keys a,b", "keys c", "keys c", "rebuild"])
  })
})

/** The memory experiment store, counting the calls that read every experiment or its counters. */
const countingStore = Effect.gen(function*() {
  const inner = yield* ExperimentStore.makeMemory
  const calls = { list: 0, get: new Map<string, number>(), counters: new Map<string, number>() }
  const store: ExperimentStore.ExperimentStoreShape = {
    ...inner,
    list: () => Effect.suspend(() => (calls.list++, inner.list())),
    get: (id) =>
      Effect.suspend(() => {
        calls.get.set(id, (calls.get.get(id) ?? 0) + 1)
        return inner.get(id)
      }),
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

/** Two models and `count` running experiments between them, inserted straight into the store. */
const seedRunning = (store: ExperimentStore.ExperimentStoreShape, count: number) =>
  Effect.gen(function*() {
    const registry = yield* ModelRegistry.ModelRegistry
    const models = yield* Effect.forEach([0, 1], (i) =>
      registry.registerModel(
        { name: "gauged", version: String(i), algorithm: "a", framework: "f" },
        streamOf([new Uint8Array([i])])
      ))
    const variants = models.map((m, i) => ({ modelId: m.id, isControl: i === 0, trafficPct: 50 }))
    const at = new Date(0).toISOString()
    for (let i = 0; i < count; i++) {
      const seeded: Experiment = newExperiment({ name: `seeded ${i}`, targetMetric: "ctr", variants }, {
        id: `exp-seeded-${i}`,
        at,
        actor: "test",
        defaults: AbTests.defaultAbTestSettings
      })
      yield* store.insert({ ...seeded, status: "running", startedAt: at })
    }
    return variants
  })

/** The series of one experiment in a memory sink's snapshot. */
const seriesOf = (values: ReadonlyMap<string, number>, experimentId: string) =>
  Object.fromEntries([...values].filter(([key]) => key.includes(`experiment_id="${experimentId}"`)))

describe("experiment gauges between full rebuilds", () => {
  it("a scrape after a change reads only the changed experiments and shows them exactly", async () => {
    const { calls, store } = Effect.runSync(countingStore)
    const program = Effect.gen(function*() {
      const ab = yield* AbTests.AbTests
      const variants = yield* seedRunning(store, 200)
      yield* ab.recordMetrics("exp-seeded-3", [{ modelId: variants[0]!.modelId, metric: "ctr", value: 1 }])
      yield* ab.refreshGauges()
      const full = { list: calls.list, counters: calls.counters.size }
      const created = yield* ab.createExperiment({ name: "measured", targetMetric: "ctr", variants })
      yield* ab.startExperiment(created.id)
      yield* ab.completeExperiment("exp-seeded-3")
      yield* ab.updateExperiment("exp-seeded-4", { trafficPct: [20, 80] })
      calls.list = 0
      calls.get.clear()
      calls.counters.clear()
      yield* ab.refreshGauges()
      const reads = { list: calls.list, get: [...calls.get.keys()].sort(), counters: [...calls.counters.keys()].sort() }
      const values = yield* gaugeValues
      calls.get.clear()
      yield* ab.refreshGauges()
      return {
        full,
        reads,
        readsOfAnUnchangedScrape: calls.get.size,
        active: values.get("ml_experiment_active_total{}"),
        started: Object.values(seriesOf(values, created.id)),
        completed: seriesOf(values, "exp-seeded-3"),
        resplit: Object.values(seriesOf(values, "exp-seeded-4")).sort(),
        untouched: Object.values(seriesOf(values, "exp-seeded-5"))
      }
    })
    const outcome = await Effect.runPromise(Effect.provide(program, world(store)))
    expect(outcome.full).toEqual({ list: 1, counters: 200 })
    // Before: the scrape after a change listed all 201 experiments and read the counters of 200.
    expect(outcome.reads.list).toBe(0)
    expect(outcome.reads.get).toHaveLength(3)
    expect(outcome.reads.get).toEqual(expect.arrayContaining(["exp-seeded-3", "exp-seeded-4"]))
    expect(outcome.reads.counters).toHaveLength(2)
    expect(outcome.reads.counters).toContain("exp-seeded-4")
    expect(outcome.readsOfAnUnchangedScrape).toBe(0)
    expect(outcome).toMatchObject({
      active: 200,
      started: [0.5, 0.5],
      completed: {},
      resplit: [0.2, 0.8],
      untouched: [0.5, 0.5]
    })
  })

  it("two instances on one store: each shows its own changes at once and the other's within the max age", async () => {
    const { store } = Effect.runSync(countingStore)
    const instance = Effect.gen(function*() {
      const context = yield* Layer.build(world(store))
      return { ab: Context.get(context, AbTests.AbTests), sink: Context.get(context, MetricsSink.MetricsSink) }
    })
    const snapshotOf = (sink: MetricsSink.MetricsSinkShape) =>
      (sink as unknown as { snapshot: () => ReadonlyMap<string, number> }).snapshot()
    const program = Effect.gen(function*() {
      const a = yield* instance
      const b = yield* instance
      const variants = yield* Effect.provide(seedRunning(store, 20), world(store))
      yield* a.ab.refreshGauges()
      yield* b.ab.refreshGauges()
      // A completes one experiment and re-splits another; B records metrics and completes a third.
      yield* a.ab.completeExperiment("exp-seeded-1")
      yield* a.ab.updateExperiment("exp-seeded-2", { trafficPct: [10, 90] })
      yield* b.ab.recordMetrics("exp-seeded-2", [{ modelId: variants[0]!.modelId, metric: "ctr", value: 3 }])
      yield* b.ab.completeExperiment("exp-seeded-3")
      yield* a.ab.refreshGauges()
      yield* b.ab.refreshGauges()
      const aSoon = snapshotOf(a.sink)
      const bSoon = snapshotOf(b.sink)
      yield* TestClock.adjust("10001 millis")
      yield* a.ab.refreshGauges()
      yield* b.ab.refreshGauges()
      return { aSoon, bSoon, aLater: snapshotOf(a.sink), bLater: snapshotOf(b.sink) }
    })
    const { aLater, aSoon, bLater, bSoon } = await Effect.runPromise(
      program.pipe(Effect.scoped, Effect.provide(Layer.merge(TestClock.layer(), withMaxAge(10_000))))
    )
    // Its own changes at once: A's completion and re-split; B's completion.
    expect(seriesOf(aSoon, "exp-seeded-1")).toEqual({})
    // A re-read exp-seeded-2 whole, so B's metric recorded before that read shows there too.
    expect(Object.values(seriesOf(aSoon, "exp-seeded-2")).sort()).toEqual([0.1, 0.9, 3])
    expect(seriesOf(bSoon, "exp-seeded-3")).toEqual({})
    // After the max age both show the same gauges: every change, B's metric mean included.
    for (const later of [aLater, bLater]) {
      expect(later.get("ml_experiment_active_total{}")).toBe(18)
      expect(seriesOf(later, "exp-seeded-1")).toEqual({})
      expect(seriesOf(later, "exp-seeded-3")).toEqual({})
      expect(Object.values(seriesOf(later, "exp-seeded-2")).sort()).toEqual([0.1, 0.9, 3])
    }
    expect(aLater).toEqual(bLater)
  })
})

describe("registry gauges", () => {
  it("scans every model once per max age; counts and this instance's uploads show at once", async () => {
    const inner = Effect.runSync(ModelStore.makeMemory)
    let pagesListed = 0
    const store: ModelStore.ModelStoreShape = {
      ...inner,
      // The gauge scan lists every model; a first registration's lookup of its name does not count.
      list: (query) => Effect.suspend(() => (query.name === undefined && pagesListed++, inner.list(query)))
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
