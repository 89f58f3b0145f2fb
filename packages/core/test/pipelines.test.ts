/** Online-learning pipelines over the memory layers: strategies, validation, publishing, rollback. */
import { Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import { describe, expect, it } from "vitest"
import {
  type CreatePipelineInput,
  encodeLearnerState,
  isBinaryLearnerState,
  type LearnerConfig,
  Leases,
  loadLearner,
  makeLearner,
  MetricsSink,
  ModelRegistry,
  OnlineLearner,
  PipelineStore,
  StorageError
} from "../src/index.js"
import { pipelineStoreContract } from "../src/testing/index.js"
import datasets from "./golden/datasets.json" with { type: "json" }

const { x: X, y: Y } = datasets.breastCancer
const features = (x: ReadonlyArray<number>) => Object.fromEntries(x.map((v, i) => [`x${i}`, v]))
const sample = (i: number, flip = false) => ({
  sampleId: `s${i}`,
  features: features(X[i % X.length]!),
  label: flip ? 1 - Y[i % X.length]! : Y[i % X.length]!
})
const config: LearnerConfig = {
  kind: "logistic",
  optimizer: { type: "sgd", learningRate: 0.05 },
  features: { type: "schema", names: X[0]!.map((_, i) => `x${i}`) }
}

const world = (
  registryLayer: Layer.Layer<ModelRegistry.ModelRegistry | any, never, never> = ModelRegistry.layerMemory()
) =>
  OnlineLearner.layer().pipe(
    Layer.provideMerge(Layer.mergeAll(PipelineStore.layerMemory, Leases.layerMemory, registryLayer))
  )

type R =
  | OnlineLearner.OnlineLearner
  | ModelRegistry.ModelRegistry
  | PipelineStore.PipelineStore
  | MetricsSink.MetricsSink
const run = <A, E>(program: Effect.Effect<A, E, R>, layer: Layer.Layer<any, never, never> = world()) =>
  Effect.runPromise(Effect.provide(program, layer) as Effect.Effect<A, E>)

/** Registers a base model whose artifact is a learner trained on the first `n` samples. */
const baseModel = (n = 0) =>
  Effect.gen(function*() {
    const learner = makeLearner(config)
    for (let i = 0; i < n; i++) learner.learn(sample(i))
    const registry = yield* ModelRegistry.ModelRegistry
    const model = yield* registry.registerModel(
      {
        name: `cancer-${Math.random().toString(36).slice(2, 7)}`,
        version: "1.0.0",
        algorithm: "logistic_regression",
        framework: "ml-pipeline"
      },
      new Blob([JSON.stringify(learner.state())]).stream()
    )
    return model.id
  })

const create = (input: Partial<CreatePipelineInput>, trained = 0) =>
  Effect.gen(function*() {
    const modelId = yield* baseModel(trained)
    return yield* (yield* OnlineLearner.OnlineLearner).createPipeline({ name: "p", modelId, ...input })
  })

describe("strategies", () => {
  it("mini-batch updates exactly when batchSize samples are buffered, publishing a registry version", async () => {
    const result = await run(Effect.gen(function*() {
      const ol = yield* OnlineLearner.OnlineLearner
      const p = yield* create({ strategy: "mini-batch", batchSize: 50 })
      const first = yield* ol.addSamples(p.id, Array.from({ length: 49 }, (_, i) => sample(i)))
      const second = yield* ol.addSamples(p.id, [sample(49)])
      const status = yield* ol.getPipelineStatus(p.id)
      const model = yield* (yield* ModelRegistry.ModelRegistry).getModel(status.pipeline.liveModelId)
      return { first, second, status, model, base: p.liveModelId }
    }))
    expect(result.first.update).toBeNull()
    expect(result.second.update).toMatchObject({ accepted: true, trigger: "samples" })
    expect(result.status.counters).toMatchObject({ received: 50, processed: 50, buffered: 0 })
    expect(result.model).toMatchObject({
      status: "testing",
      parentModelId: result.base,
      tags: ["online", expect.any(String)]
    })
    expect(result.model.training.sampleCount).toBe(result.second.update!.samples)
  })

  it("publishes under the next version number when an update that died after registering took one", async () => {
    const result = await run(Effect.gen(function*() {
      const ol = yield* OnlineLearner.OnlineLearner
      const registry = yield* ModelRegistry.ModelRegistry
      const p = yield* create({ strategy: "mini-batch", batchSize: 10 })
      const base = yield* registry.getModel(p.liveModelId)
      // What a crashed update leaves behind: its version registered, the pipeline not told.
      yield* registry.registerModel({
        name: base.name,
        version: `${base.version}-online-${p.id.slice(0, 24)}-1`,
        algorithm: base.algorithm,
        framework: base.framework
      })
      const added = yield* ol.addSamples(p.id, Array.from({ length: 10 }, (_, i) => sample(i)))
      const live = yield* registry.getModel((yield* ol.getPipeline(p.id)).liveModelId)
      return { added, live, base }
    }))
    expect(result.added.update).toMatchObject({ accepted: true })
    expect(result.live.version).toBe(`${result.base.version}-online-${result.added.update!.pipelineId.slice(0, 24)}-2`)
  })

  it("incremental updates on every recorded batch", async () => {
    const updates = await run(Effect.gen(function*() {
      const ol = yield* OnlineLearner.OnlineLearner
      const p = yield* create({ strategy: "incremental" })
      for (let i = 0; i < 3; i++) yield* ol.addSamples(p.id, [sample(i)])
      return (yield* ol.getPipelineStatus(p.id)).updates.length
    }))
    expect(updates).toBe(3)
  })

  it("periodic waits for its interval and minSamples (controlled clock)", async () => {
    const seen = await Effect.runPromise(Effect.provide(
      Effect.gen(function*() {
        yield* TestClock.setTime(Date.UTC(2030, 0, 1))
        const ol = yield* OnlineLearner.OnlineLearner
        const p = yield* create({ strategy: "periodic", updateFrequencySeconds: 600, minSamples: 20 })
        const out: Array<boolean> = []
        const batch = (from: number, length: number) => Array.from({ length }, (_, i) => sample(from + i))
        // first run, too few
        out.push((yield* ol.addSamples(p.id, batch(0, 10))).update !== null)
        // enough, but within 600 s of creation
        out.push((yield* ol.addSamples(p.id, batch(10, 20))).update !== null)
        yield* TestClock.adjust("601 seconds")
        out.push((yield* ol.addSamples(p.id, [sample(30)])).update !== null) // interval passed
        // within 600 s of that update
        out.push((yield* ol.addSamples(p.id, batch(40, 30))).update !== null)
        yield* TestClock.adjust("601 seconds")
        out.push((yield* ol.addSamples(p.id, [sample(80)])).update !== null)
        return out
      }),
      Layer.merge(world(), TestClock.layer())
    ))
    expect(seen).toEqual([false, false, true, false, true])
  })

  it("adaptive updates at once on a drift alert and halves its batch size", async () => {
    const result = await run(Effect.gen(function*() {
      const ol = yield* OnlineLearner.OnlineLearner
      const p = yield* create({ strategy: "adaptive", batchSize: 200, minSamples: 10, monitorId: "mon-1" })
      const quiet = yield* ol.addSamples(p.id, Array.from({ length: 20 }, (_, i) => sample(i)))
      yield* ol.notifyDrift("mon-1")
      const drifted = yield* ol.addSamples(p.id, [sample(20)])
      return { quiet, drifted, after: yield* ol.getPipeline(p.id) }
    }))
    expect(result.quiet.update).toBeNull()
    expect(result.drifted.update?.accepted).toBe(true)
    expect(result.after.adaptive.batchSize).toBe(100)
    expect(result.after.adaptive.learningRateScale).toBe(1.5)
    expect(result.after.driftSignal).toBe(false)
  })
})

describe("safety", () => {
  it("rejects a poisoned batch (labels flipped): the live version does not change", async () => {
    const result = await run(Effect.gen(function*() {
      const ol = yield* OnlineLearner.OnlineLearner
      const p = yield* create({ strategy: "mini-batch", batchSize: 100, holdoutShare: 0.3 })
      for (let b = 0; b < 4; b++) yield* ol.addSamples(p.id, Array.from({ length: 100 }, (_, i) => sample(b * 100 + i)))
      const before = yield* ol.getPipeline(p.id)
      const poisoned = yield* ol.addSamples(
        p.id,
        Array.from({ length: 100 }, (_, i) => ({ ...sample(400 + i, true), sampleId: `poison-${i}` }))
      )
      return { before, poisoned, after: yield* ol.getPipeline(p.id) }
    }))
    expect(result.poisoned.update).toMatchObject({ accepted: false })
    expect(result.poisoned.update!.reason).toContain("rejected")
    expect(result.after.liveModelId).toBe(result.before.liveModelId)
    expect(result.after.rejectedUpdates).toBe(1)
  })

  it("deduplicates by sampleId and bounds the buffer, counting what it drops", async () => {
    const result = await run(
      Effect.gen(function*() {
        const ol = yield* OnlineLearner.OnlineLearner
        const p = yield* create({ strategy: "mini-batch", batchSize: 10, maxBufferSize: 10 })
        const a = yield* ol.addSamples(p.id, [sample(1), sample(1), sample(2)])
        yield* ol.getPipeline(p.id)
        return { a, status: yield* ol.getPipelineStatus(p.id) }
      }).pipe(Effect.flatMap(({ a }) =>
        Effect.gen(function*() {
          const ol = yield* OnlineLearner.OnlineLearner
          const p = yield* create({
            strategy: "periodic",
            updateFrequencySeconds: 1_000_000,
            minSamples: 5,
            batchSize: 5,
            maxBufferSize: 10
          })
          const b = yield* ol.addSamples(p.id, Array.from({ length: 25 }, (_, i) => sample(i)))
          return { a, b, status: yield* ol.getPipelineStatus(p.id) }
        })
      ))
    )
    expect(result.a).toMatchObject({ added: 2, duplicates: 1 })
    expect(result.b).toMatchObject({ added: 25, dropped: 15 })
    expect(result.status.counters).toMatchObject({ received: 25, dropped: 15, buffered: 10 })
  })

  it("rejects invalid samples naming the field, buffering nothing", async () => {
    const result = await run(Effect.gen(function*() {
      const ol = yield* OnlineLearner.OnlineLearner
      const p = yield* create({ strategy: "mini-batch", batchSize: 100 })
      const error = yield* Effect.flip(ol.addSamples(p.id, [
        { sampleId: "a", features: { x0: 1 }, label: 0.5 },
        { sampleId: "b", features: { x0: Number.NaN }, label: 1 },
        { sampleId: "c", features: { x0: 1 }, label: 1, weight: -1 },
        { sampleId: "", features: { x0: 1 }, label: 1 }
      ]))
      return { error, status: yield* ol.getPipelineStatus(p.id) }
    }))
    expect((result.error as unknown as { issues: Array<{ path: Array<unknown> }> }).issues.map((i) => i.path.join(".")))
      .toEqual(["0.label", "1.features.x0", "2.weight", "3.sampleId"])
    expect(result.status.counters.received).toBe(0)
  })

  it("rolls back to the previous version with its state", async () => {
    const result = await run(Effect.gen(function*() {
      const ol = yield* OnlineLearner.OnlineLearner
      const p = yield* create({ strategy: "mini-batch", batchSize: 100, holdoutShare: 0 }, 50)
      const x = [features(X[500]!)]
      const basePrediction = yield* ol.predict(p.id, x)
      yield* ol.addSamples(p.id, Array.from({ length: 100 }, (_, i) => sample(100 + i)))
      const updatedPrediction = yield* ol.predict(p.id, x)
      const rollback = yield* ol.rollback(p.id)
      return {
        p,
        basePrediction,
        updatedPrediction,
        afterRollback: yield* ol.predict(p.id, x),
        rollback,
        pipeline: yield* ol.getPipeline(p.id)
      }
    }))
    expect(result.updatedPrediction[0]).not.toBe(result.basePrediction[0])
    expect(result.afterRollback).toEqual(result.basePrediction)
    expect(result.pipeline.liveModelId).toBe(result.p.baseModelId)
    expect(result.rollback.kind).toBe("rollback")
  })

  it("records the progressive metrics on each update and rollback, as their history over time", async () => {
    const result = await run(Effect.gen(function*() {
      const ol = yield* OnlineLearner.OnlineLearner
      const p = yield* create({ strategy: "mini-batch", batchSize: 40, holdoutShare: 0 })
      const first = yield* ol.addSamples(p.id, Array.from({ length: 40 }, (_, i) => sample(i)))
      const second = yield* ol.addSamples(p.id, Array.from({ length: 40 }, (_, i) => sample(40 + i)))
      const window = (yield* ol.getPipelineStatus(p.id)).progressive
      const rollback = yield* ol.rollback(p.id)
      return { first, second, window, rollback, updates: yield* ol.listUpdates(p.id) }
    }))
    // Each snapshot is the window as the update saw it: every label scored by the model served until then.
    expect(result.first.update!.progressive).toMatchObject({ window: 40, rmse: null })
    expect(result.second.update!.progressive).toEqual(result.window)
    expect(result.window.window).toBe(80)
    expect(result.rollback.progressive).toEqual(result.window)
    expect(result.updates.map((u) => u.progressive?.window)).toEqual([40, 80, 80])
    expect(result.first.update!.progressive!.accuracy).not.toBe(result.second.update!.progressive!.accuracy)
  })

  it("estimates a classifier's performance from its progressive predictions (CBPE), with realized values", async () => {
    const result = await run(Effect.gen(function*() {
      const ol = yield* OnlineLearner.OnlineLearner
      const p = yield* create({ strategy: "mini-batch", batchSize: 1000 })
      const empty = yield* ol.getPipelineStatus(p.id)
      yield* ol.addSamples(p.id, Array.from({ length: 300 }, (_, i) => sample(i)))
      return { empty, status: yield* ol.getPipelineStatus(p.id) }
    }))
    expect(result.empty.performanceEstimate).toBeUndefined()
    const estimates = result.status.performanceEstimate!
    expect(estimates.map((e) => e.metric)).toEqual(["accuracy", "precision", "recall", "rocAuc"])
    const accuracy = estimates[0]!
    expect(accuracy.realized).toBe(result.status.progressive.accuracy)
    expect(accuracy.lower!).toBeLessThan(accuracy.estimate!)
    expect(accuracy.upper!).toBeGreaterThan(accuracy.estimate!)
    expect(accuracy.standardError!).toBeGreaterThan(0)
  })

  it("exposes the status's CBPE estimates as ml_pipeline_performance_estimate gauges", async () => {
    const result = await run(Effect.gen(function*() {
      const ol = yield* OnlineLearner.OnlineLearner
      const p = yield* create({ strategy: "mini-batch", batchSize: 1000 })
      yield* ol.addSamples(p.id, Array.from({ length: 300 }, (_, i) => sample(i)))
      yield* ol.refreshGauges()
      const sink = (yield* MetricsSink.MetricsSink) as unknown as { snapshot: () => ReadonlyMap<string, number> }
      return { id: p.id, status: yield* ol.getPipelineStatus(p.id), gauges: sink.snapshot() }
    }))
    for (const e of result.status.performanceEstimate!) {
      const key = MetricsSink.seriesKey("ml_pipeline_performance_estimate", {
        pipeline_id: result.id,
        metric: e.metric
      })
      expect(result.gauges.get(key)).toBe(e.estimate)
    }
  })

  it("keeps buffered samples and records the error when an update fails, then retries", async () => {
    let failures = 0
    const flakyRegistry = Layer.effect(
      ModelRegistry.ModelRegistry,
      Effect.gen(function*() {
        const real = yield* ModelRegistry.ModelRegistry
        return {
          ...real,
          registerModel: ((...args: Parameters<typeof real.registerModel>) =>
            failures-- > 0
              ? Effect.fail(new StorageError({ message: "registry down" }))
              : real.registerModel(...args)) as typeof real.registerModel
        }
      })
    ).pipe(Layer.provideMerge(ModelRegistry.layerMemory()))
    const result = await run(
      Effect.gen(function*() {
        const ol = yield* OnlineLearner.OnlineLearner
        const p = yield* create({ strategy: "mini-batch", batchSize: 10 })
        failures = 1
        const failed = yield* ol.addSamples(p.id, Array.from({ length: 10 }, (_, i) => sample(i)))
        const afterFailure = yield* ol.getPipelineStatus(p.id)
        const retried = yield* ol.triggerUpdate(p.id)
        return { failed, afterFailure, retried, final: yield* ol.getPipelineStatus(p.id) }
      }),
      world(flakyRegistry as never)
    )
    expect(result.failed.update).toBeNull()
    expect(result.afterFailure.pipeline.lastError).toContain("registry down")
    expect(result.afterFailure.counters.buffered).toBe(10)
    expect(result.retried?.accepted).toBe(true)
    expect(result.final.pipeline.lastError).toBeNull()
    expect(result.final.counters.buffered).toBe(0)
  })
})

describe("status and prediction", () => {
  it("reports progressive accuracy close to the offline learner's and serves predictions", async () => {
    const status = await run(Effect.gen(function*() {
      const ol = yield* OnlineLearner.OnlineLearner
      const p = yield* create({ strategy: "incremental", holdoutShare: 0 })
      for (let i = 0; i < X.length; i += 10) {
        yield* ol.addSamples(
          p.id,
          Array.from({ length: Math.min(10, X.length - i) }, (_, k) => sample(i + k))
        )
      }
      const predictions = yield* ol.predict(p.id, [features(X[0]!), features(X[1]!)])
      expect(predictions.every((v) => v >= 0 && v <= 1)).toBe(true)
      return yield* ol.getPipelineStatus(p.id)
    }))
    expect(status.progressive.accuracy!).toBeGreaterThan(0.9)
    expect(status.progressive.window).toBe(X.length)
    expect(status.pipeline.acceptedUpdates).toBeGreaterThan(50)
  })
})

describe("artifacts", () => {
  /** The artifact of `modelId`, as bytes. */
  const artifactBytes = (modelId: string) =>
    Effect.gen(function*() {
      const { stream } = yield* (yield* ModelRegistry.ModelRegistry).readArtifact(modelId)
      return new Uint8Array(yield* Effect.promise(() => new Response(stream).arrayBuffer()))
    })
  const registerBytes = (bytes: Uint8Array<ArrayBuffer>) =>
    Effect.gen(function*() {
      const model = yield* (yield* ModelRegistry.ModelRegistry).registerModel(
        {
          name: "binary-base",
          version: `1.0.${Math.random().toString(36).slice(2, 7)}`,
          algorithm: "logistic_regression",
          framework: "ml-pipeline"
        },
        new Blob([bytes]).stream()
      )
      return model.id
    })

  it("an accepted update publishes format 2, which serves as the pipeline does and starts a pipeline", async () => {
    const result = await run(Effect.gen(function*() {
      const ol = yield* OnlineLearner.OnlineLearner
      const p = yield* create({ strategy: "mini-batch", batchSize: 40, holdoutShare: 0 }, 20)
      yield* ol.addSamples(p.id, Array.from({ length: 40 }, (_, i) => sample(i)))
      const live = (yield* ol.getPipeline(p.id)).liveModelId
      const published = yield* artifactBytes(live)
      const rows = X.slice(100, 120).map(features)
      const served = yield* ol.predict(p.id, rows)
      // A second pipeline starts from the published (format 2) version.
      const second = yield* ol.createPipeline({ name: "from-binary", modelId: live })
      const servedBySecond = yield* ol.predict(second.id, rows)
      return { published, rows, served, servedBySecond }
    }))
    expect(isBinaryLearnerState(result.published)).toBe(true)
    const learner = loadLearner(result.published)
    expect(result.served).toEqual(result.rows.map((r) => learner.predict(r)))
    expect(result.servedBySecond).toEqual(result.served)
  })

  it("publish precision float32: the artifact holds the live weights rounded, the live state stays exact", async () => {
    const result = await run(Effect.gen(function*() {
      const ol = yield* OnlineLearner.OnlineLearner
      const store = yield* PipelineStore.PipelineStore
      const p = yield* create({
        strategy: "mini-batch",
        batchSize: 40,
        holdoutShare: 0,
        publish: { precision: "float32" }
      }, 20)
      yield* ol.addSamples(p.id, Array.from({ length: 40 }, (_, i) => sample(100 + i)))
      const first = (yield* ol.getPipeline(p.id)).liveModelId
      const live = (yield* store.liveState(p.id))!
      const published = yield* artifactBytes(first)
      yield* ol.addSamples(p.id, Array.from({ length: 40 }, (_, i) => sample(200 + i)))
      yield* ol.rollback(p.id, first)
      return { p, first, live, published, afterRollback: (yield* store.liveState(p.id))! }
    }))
    expect(result.p.publish).toEqual({ precision: "float32" })
    const artifact = loadLearner(result.published).state()
    // The live state keeps full doubles (the next update trains from them) ...
    expect(result.live.weights.some((w) => w !== Math.fround(w))).toBe(true)
    // ... and the published artifact is exactly those, rounded to float32.
    expect(artifact.weights).toEqual(result.live.weights.map(Math.fround))
    expect(artifact.bias).toBe(result.live.bias)
    // Rolling back to a float32 version resumes training from its rounded weights (documented).
    expect(result.afterRollback.weights).toEqual(artifact.weights)
  })

  it("a damaged format-2 artifact is a ValidationError naming the model and the damage", async () => {
    const learner = makeLearner(config)
    learner.learn(sample(0))
    const bytes = encodeLearnerState(learner.state())
    const cut = bytes.slice(0, bytes.length - 9)
    const flipped = bytes.slice()
    flipped[bytes.length - 10]! ^= 4
    for (const [damaged, message] of [[cut, /truncated/], [flipped, /CRC-32/]] as const) {
      const error = await run(Effect.gen(function*() {
        const modelId = yield* registerBytes(damaged)
        return yield* Effect.flip((yield* OnlineLearner.OnlineLearner).createPipeline({ name: "p", modelId }))
      }))
      expect(error._tag).toBe("ValidationError")
      expect(error.message).toMatch(/modelId/)
      expect(error.message).toMatch(message)
    }
  })
})

const sharedPipelines = Effect.runSync(PipelineStore.makeMemory)
pipelineStoreContract("memory", () => Layer.succeed(PipelineStore.PipelineStore, sharedPipelines))

describe("ingestion with the pipeline cached per instance", () => {
  it("scores a batch with the live model another instance just published, not the cached one", async () => {
    // Instances made here need the ports themselves, not just the OnlineLearner that `run` offers.
    const result = await Effect.runPromise(Effect.provide(
      Effect.gen(function*() {
        const store = yield* PipelineStore.PipelineStore
        // Two instances over one store, as two servers over one Redis.
        const a = yield* OnlineLearner.make()
        const b = yield* OnlineLearner.make()
        const p = yield* a.createPipeline({
          name: "p",
          modelId: yield* baseModel(0),
          strategy: "periodic",
          updateFrequencySeconds: 86_400
        })
        yield* a.addSamples(p.id, Array.from({ length: 60 }, (_, i) => sample(i)))
        const before = loadLearner((yield* store.liveState(p.id))!)
        const update = yield* b.triggerUpdate(p.id)
        const next = Array.from({ length: 20 }, (_, i) => sample(200 + i))
        const added = yield* a.addSamples(p.id, next)
        const after = loadLearner((yield* store.liveState(p.id))!)
        const scored = (yield* store.progressive(p.id)).slice(-next.length).map((e) => e.prediction)
        return {
          update,
          added,
          scored,
          byBefore: next.map((s) => before.predict(s.features)),
          byAfter: next.map((s) => after.predict(s.features))
        }
      }),
      world()
    ))
    expect(result.update).toMatchObject({ accepted: true })
    expect(result.added).toMatchObject({ added: 20, duplicates: 0 })
    expect(result.byAfter).not.toEqual(result.byBefore)
    expect(result.scored).toEqual(result.byAfter)
  })
})
