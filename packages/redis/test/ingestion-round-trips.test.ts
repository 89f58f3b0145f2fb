/**
 * What one ingestion request costs Redis, read from the server's own MONITOR stream: a batch of
 * observations over many features, and a batch of samples, are one script call each (by
 * EVALSHA) once the monitor or pipeline is known; a pipeline changed by another instance is
 * re-read once, and its new revision is what the batch is stored under. A prediction checks the
 * cached pipeline's revision in one script and reads nothing else while it stands; concurrent
 * predictions share that check. Concurrent assignments, metric observations and row batches of
 * one experiment or monitor share one script call, and answer as the same requests made one at a
 * time on the reference (memory) store.
 */
import {
  AbTests,
  DriftDetector,
  DriftStore,
  ExperimentStore,
  Leases,
  makeLearner,
  MetricsSink,
  ModelRegistry,
  OnlineLearner,
  PipelineStore
} from "@org/ml-core"
import { sampleExperiment, samplePipeline } from "@org/ml-core/testing"
import { Effect, Layer } from "effect"
import type { Redis } from "ioredis"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { RedisDriftStore, RedisExperimentStore, RedisPipelineStore } from "../src/index.js"
import { luaScript } from "../src/LuaScript.js"
import { connectOrFail, deleteKeysWithPrefix, uniquePrefix } from "../src/Testing.js"

const admin = await connectOrFail()
const prefix = uniquePrefix("round-trips")
let watcher: Redis
/** Commands clients sent naming a key of this test (not those scripts ran inside Redis). */
let seen: Array<ReadonlyArray<string>> = []

beforeAll(async () => {
  watcher = await admin.duplicate().monitor()
  watcher.on("monitor", (_time: string, args: ReadonlyArray<string>, source: string) => {
    if (source !== "lua" && args.some((arg) => String(arg).startsWith(prefix))) seen.push(args)
  })
}, 30_000)

afterAll(async () => {
  watcher.disconnect()
  await deleteKeysWithPrefix(admin, prefix)
  await admin.quit()
})

/** Waits until MONITOR has shown a command sent now: every earlier command has been seen too. */
const settle = async () => {
  const marker = `${prefix}marker-${Math.random()}`
  await admin.exists(marker)
  for (let i = 0; i < 500 && !seen.some((args) => args.includes(marker)); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** The commands (names) sent while `effect` runs. */
const commandsOf = async <A>(effect: Effect.Effect<A, unknown>) => {
  await settle()
  seen = []
  const result = await Effect.runPromise(effect)
  await settle()
  const commands = seen.filter((args) => String(args[0]).toUpperCase() !== "EXISTS")
  return { result, commands: commands.map((args) => String(args[0]).toUpperCase()) }
}

const sharedPorts = Layer.mergeAll(MetricsSink.layerMemory, Leases.layerMemory, ModelRegistry.layerMemory())

describe("one round trip per ingestion batch on Redis", () => {
  it("records a batch of rows over five features with one EVALSHA", async () => {
    const layer = DriftDetector.layer().pipe(
      Layer.provideMerge(Layer.succeed(DriftStore.DriftStore, RedisDriftStore.make(admin, prefix))),
      Layer.provide(sharedPorts)
    )
    const names = ["a", "b", "c", "d", "e"]
    const row = (i: number) => Object.fromEntries(names.map((name, j) => [name, i * 10 + j]))
    const record = (rows: ReadonlyArray<Record<string, number>>) =>
      Effect.provide(DriftDetector.DriftDetector.use((d) => d.recordRows("m5", rows)), layer)
    await Effect.runPromise(Effect.provide(
      DriftDetector.DriftDetector.use((d) =>
        d.createMonitor({
          id: "m5",
          features: names.map((name) => ({ name, kind: "feature" as const, type: "numeric" as const }))
        })
      ),
      layer
    ))
    await Effect.runPromise(record([row(0)])) // reads the monitor once
    const { commands } = await commandsOf(record(Array.from({ length: 10 }, (_, i) => row(i + 1))))
    expect(commands).toEqual(["EVALSHA"])
    const window = await Effect.runPromise(
      Effect.provide(DriftStore.DriftStore.use((s) => s.window("m5", "c")), layer)
    )
    expect(window).toEqual(Array.from({ length: 11 }, (_, i) => i * 10 + 2))

    // Eight batches at once: one script call, each batch's rows in the order the batches came.
    const concurrent = await commandsOf(
      Effect.forEach(
        Array.from({ length: 8 }, (_, b) => [row(100 + 2 * b), row(101 + 2 * b)]),
        (rows) => record(rows),
        { concurrency: "unbounded" }
      )
    )
    expect(concurrent.commands).toEqual(["EVALSHA"])
    const after = await Effect.runPromise(Effect.provide(DriftStore.DriftStore.use((s) => s.window("m5", "c")), layer))
    expect(after).toEqual([...window, ...Array.from({ length: 16 }, (_, i) => (100 + i) * 10 + 2)])
  })

  it("stores a batch of samples with one EVALSHA, and re-reads a pipeline another instance changed once", async () => {
    const store = RedisPipelineStore.make(admin, prefix)
    const ports = Layer.mergeAll(Layer.succeed(PipelineStore.PipelineStore, store), sharedPorts)
    const { a, pipeline } = await Effect.runPromise(Effect.provide(
      Effect.gen(function*() {
        const registry = yield* ModelRegistry.ModelRegistry
        const learner = makeLearner({
          kind: "logistic",
          optimizer: { type: "sgd", learningRate: 0.1 },
          features: { type: "schema", names: ["x"] }
        })
        const model = yield* registry.registerModel(
          { name: "round-trips", version: "1.0.0", algorithm: "logistic_regression", framework: "ml" },
          new Blob([JSON.stringify(learner.state())]).stream()
        )
        const a = yield* OnlineLearner.make()
        const pipeline = yield* a.createPipeline({
          name: "p",
          modelId: model.id,
          strategy: "periodic",
          updateFrequencySeconds: 86_400
        })
        return { a, pipeline }
      }),
      ports
    ))
    const samples = (from: number) =>
      Array.from({ length: 10 }, (_, i) => ({ sampleId: `s${from + i}`, features: { x: i / 10 }, label: i % 2 }))
    await Effect.runPromise(a.addSamples(pipeline.id, samples(0)))
    const warm = await commandsOf(a.addSamples(pipeline.id, samples(10)))
    expect(warm.commands).toEqual(["EVALSHA"])
    expect(warm.result).toMatchObject({ added: 10, duplicates: 0, update: null })

    // Another instance commits a new revision of the pipeline (through the same port it uses).
    const current = (await Effect.runPromise(store.get(pipeline.id)))!
    await Effect.runPromise(store.commit({ ...current, revision: current.revision + 1 }, current.revision))
    const stale = await commandsOf(a.addSamples(pipeline.id, samples(20)))
    // Refused under the cached revision; the record and (new revision) the live state read; stored.
    expect(stale.commands).toEqual(["EVALSHA", "GET", "GET", "EVALSHA"])
    expect(stale.result).toMatchObject({ added: 10 })
    const again = await commandsOf(a.addSamples(pipeline.id, samples(30)))
    expect(again.commands).toEqual(["EVALSHA"])
    const counters = await Effect.runPromise(store.counters(pipeline.id))
    expect(counters).toMatchObject({ received: 40, duplicates: 0 })
  })

  it("predicts with one EVALSHA and no record read, and sees a pipeline another instance changed", async () => {
    const store = RedisPipelineStore.make(admin, prefix)
    const ports = Layer.mergeAll(Layer.succeed(PipelineStore.PipelineStore, store), sharedPorts)
    const config = {
      kind: "logistic",
      optimizer: { type: "sgd", learningRate: 0.5 },
      features: { type: "schema", names: ["x"] }
    } as const
    // The model another instance makes live: trained, so it predicts other than the untrained 0.5.
    const trained = makeLearner(config)
    for (let i = 0; i < 20; i++) trained.learn({ features: { x: 1 }, label: 1 })
    const { a, pipeline, replacement } = await Effect.runPromise(Effect.provide(
      Effect.gen(function*() {
        const registry = yield* ModelRegistry.ModelRegistry
        const register = (version: string, state: unknown) =>
          registry.registerModel(
            { name: "predict-cache", version, algorithm: "logistic_regression", framework: "ml" },
            new Blob([JSON.stringify(state)]).stream()
          )
        const model = yield* register("1.0.0", makeLearner(config).state())
        const replacement = yield* register("1.1.0", trained.state())
        const a = yield* OnlineLearner.make()
        const pipeline = yield* a.createPipeline({
          name: "p",
          modelId: model.id,
          strategy: "periodic",
          updateFrequencySeconds: 86_400
        })
        return { a, pipeline, replacement }
      }),
      ports
    ))
    const predict = () => a.predict(pipeline.id, [{ x: 1 }])
    // The first reads the record and live state; the second may load the script into Redis.
    expect(await Effect.runPromise(predict())).toEqual([0.5])
    expect(await Effect.runPromise(predict())).toEqual([0.5])
    const warm = await commandsOf(predict())
    expect(warm.result).toEqual([0.5])

    // Another instance makes the trained model live: its state first, then the new revision.
    const current = (await Effect.runPromise(store.get(pipeline.id)))!
    await Effect.runPromise(store.setLiveState(pipeline.id, trained.state()))
    await Effect.runPromise(
      store.commit({ ...current, liveModelId: replacement.id, revision: current.revision + 1 }, current.revision)
    )
    const changed = await commandsOf(predict())
    expect(changed.result).toEqual([trained.predict({ x: 1 })])
    expect(changed.result[0]).toBeGreaterThan(0.9)
    const again = await commandsOf(predict())
    expect(again.result).toEqual(changed.result)
    // Unchanged: the script alone. Changed: it answers the new record, and the new revision's
    // live state is read once.
    expect([warm.commands, changed.commands, again.commands]).toEqual([["EVALSHA"], ["EVALSHA", "GET"], ["EVALSHA"]])
    // Twelve at once share one revision check, and each answers with the live model.
    const concurrent = await commandsOf(Effect.all(Array.from({ length: 12 }, predict), { concurrency: "unbounded" }))
    expect(concurrent.commands).toEqual(["EVALSHA"])
    expect(concurrent.result).toEqual(Array.from({ length: 12 }, () => changed.result))
    expect(await Effect.runPromise(Effect.flip(a.predict("no-such-pipeline", [{ x: 1 }])))).toMatchObject({
      _tag: "PipelineNotFoundError"
    })
  })

  it("answers a pipeline record only when its revision is not the one the caller holds", async () => {
    const store = RedisPipelineStore.make(admin, prefix)
    const getIfChanged = store.getIfChanged!
    const p = samplePipeline({ id: "revisions", revision: 1 })
    expect(await Effect.runPromise(getIfChanged(p.id, 1))).toBeUndefined()
    await Effect.runPromise(store.insert(p))
    expect(await Effect.runPromise(getIfChanged(p.id, 1))).toBe("unchanged")
    const renamed = { ...p, name: "renamed", revision: 2 }
    await Effect.runPromise(store.commit(renamed, 1))
    expect(await Effect.runPromise(getIfChanged(p.id, 1))).toEqual(await Effect.runPromise(store.get(p.id)))
    expect(await Effect.runPromise(getIfChanged(p.id, 1))).toMatchObject({ name: "renamed", revision: 2 })
    expect(await Effect.runPromise(getIfChanged(p.id, 2))).toBe("unchanged")
  })

  describe("concurrent requests of one experiment", () => {
    /** A/B tests over `store`, as one server instance has them. */
    const abTestsOver = (store: ExperimentStore.ExperimentStoreShape) =>
      AbTests.layer().pipe(
        Layer.provideMerge(Layer.succeed(ExperimentStore.ExperimentStore, store)),
        Layer.provide(sharedPorts)
      )
    const run = <A, E>(layer: ReturnType<typeof abTestsOver>, f: (ab: AbTests.AbTestsShape) => Effect.Effect<A, E>) =>
      Effect.provide(AbTests.AbTests.use(f), layer)
    const users = Array.from({ length: 40 }, (_, i) => `concurrent-${i}`)
    const assignAll = (id: string) => (ab: AbTests.AbTestsShape) =>
      Effect.forEach(users, (u) => ab.getModelAssignment(id, u), { concurrency: "unbounded" })

    it("assign 40 users and record 30 observations in one EVALSHA each, answering as one at a time", async () => {
      const experiment = sampleExperiment({ id: `concurrent-${Date.now()}` })
      const [a, b] = experiment.variants.map((v) => v.modelId) as [string, string]
      const observations = Array.from({ length: 30 }, (_, i) => ({
        modelId: i % 3 === 0 ? a : b,
        metric: "revenue",
        value: (i * 7.3) % 11
      }))
      const redisStore = RedisExperimentStore.make(admin, prefix)
      const redis = abTestsOver(redisStore)
      const memoryStore = await Effect.runPromise(ExperimentStore.makeMemory)
      const memory = abTestsOver(memoryStore)
      for (const store of [redisStore, memoryStore]) await Effect.runPromise(store.insert(experiment))
      // The first request reads the definition; from then on each request is planned from it.
      await Effect.runPromise(run(redis, (ab) => ab.getModelAssignment(experiment.id, "warm-up")))
      await Effect.runPromise(run(memory, (ab) => ab.getModelAssignment(experiment.id, "warm-up")))

      const assigned = await commandsOf(run(redis, assignAll(experiment.id)))
      expect(assigned.commands).toEqual(["EVALSHA"])
      const oneAtATime = await Effect.runPromise(
        run(memory, (ab) => Effect.forEach(users, (u) => ab.getModelAssignment(experiment.id, u)))
      )
      expect(assigned.result).toEqual(oneAtATime)
      // Asked again, concurrently: every user keeps the stored assignment (the script read it back).
      expect(await Effect.runPromise(run(redis, assignAll(experiment.id)))).toEqual(oneAtATime)

      const recorded = await commandsOf(
        run(
          redis,
          (ab) =>
            Effect.forEach(observations, (o) => ab.recordMetrics(experiment.id, [o]), { concurrency: "unbounded" })
        )
      )
      expect(recorded.commands).toEqual(["EVALSHA"])
      await Effect.runPromise(
        run(memory, (ab) => Effect.forEach(observations, (o) => ab.recordMetrics(experiment.id, [o])))
      )
      const counters = (store: ExperimentStore.ExperimentStoreShape) =>
        Effect.runPromise(store.counters(experiment.id, experiment.variants.length))
      expect(await counters(redisStore)).toEqual(await counters(memoryStore))
    })

    it("re-plan together when another instance changed the experiment (one stale answer, one retry)", async () => {
      const experiment = sampleExperiment({ id: `restale-${Date.now()}`, stickyAssignment: false })
      const thisInstance = abTestsOver(RedisExperimentStore.make(admin, prefix))
      const otherInstance = abTestsOver(RedisExperimentStore.make(admin, prefix))
      const memoryStore = await Effect.runPromise(ExperimentStore.makeMemory)
      const memory = abTestsOver(memoryStore)
      await Effect.runPromise(RedisExperimentStore.make(admin, prefix).insert(experiment))
      await Effect.runPromise(memoryStore.insert(experiment))
      await Effect.runPromise(run(thisInstance, (ab) => ab.getModelAssignment(experiment.id, "warm-up")))
      await Effect.runPromise(run(memory, (ab) => ab.getModelAssignment(experiment.id, "warm-up")))
      // Another instance moves 80% of the traffic to the treatment; this one still holds the old split.
      for (const layer of [otherInstance, memory]) {
        await Effect.runPromise(run(layer, (ab) => ab.updateExperiment(experiment.id, { trafficPct: [20, 80] })))
      }
      const assigned = await commandsOf(run(thisInstance, assignAll(experiment.id)))
      expect(assigned.commands).toEqual(["EVALSHA", "EVALSHA"])
      const expected = await Effect.runPromise(
        run(memory, (ab) => Effect.forEach(users, (u) => ab.getModelAssignment(experiment.id, u)))
      )
      expect(assigned.result).toEqual(expected)
      expect(expected.filter((a) => a.variant === 1).length).toBeGreaterThan(users.length / 2)
    })
  })

  it("sends a script Redis does not hold by its source once, then only its digest", async () => {
    // A script no Redis has seen: its own random text.
    const script = luaScript(`return redis.call('INCR', KEYS[1]) .. '${Math.random()}'`)
    const key = `${prefix}script-counter`
    const first = await commandsOf(Effect.promise(() => script(admin, [key], [])))
    expect(first.commands).toEqual(["EVALSHA", "EVAL"])
    expect(String(first.result)).toMatch(/^1/)
    const second = await commandsOf(Effect.promise(() => script(admin, [key], [])))
    expect(second.commands).toEqual(["EVALSHA"])
    expect(String(second.result)).toMatch(/^2/)
  })
})
