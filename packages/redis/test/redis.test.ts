import { FsArtifactStore } from "@org/ml-adapter-fs"
import {
  AbTests,
  ExperimentStore,
  MetricsSink,
  ModelRegistry,
  ModelStore,
  PipelineStore,
  type StorageError
} from "@org/ml-core"
import {
  aliasMovesAcrossInstances,
  driftStoreContract,
  experimentStoreContract,
  modelRegistryContract,
  modelStoreContract,
  pipelineStoreContract,
  sampleEvent,
  sampleModel,
  samplePipeline
} from "@org/ml-core/testing"
import { Effect, Layer } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import {
  RedisClient,
  RedisDriftStore,
  RedisExperimentStore,
  RedisModelStore,
  RedisPipelineStore,
  registryKeys
} from "../src/index.js"
import { connectOrFail, deleteKeysWithPrefix, redisUrl, uniquePrefix } from "../src/Testing.js"

const admin = await connectOrFail()
const prefix = uniquePrefix("registry")
const artifactsDir = await fs.mkdtemp(path.join(os.tmpdir(), "ml-redis-test-"))

afterAll(async () => {
  await deleteKeysWithPrefix(admin, prefix)
  await admin.quit()
  await fs.rm(artifactsDir, { recursive: true, force: true })
})

const storeLayer = () => RedisModelStore.layer.pipe(Layer.provide(RedisClient.layer({ url: redisUrl, prefix })))

modelStoreContract("redis", storeLayer)

modelRegistryContract(
  "redis",
  (settings) =>
    ModelRegistry.layer({ ...ModelRegistry.defaultRegistrySettings, ...settings }).pipe(
      Layer.provide(
        Layer.mergeAll(storeLayer(), FsArtifactStore.layer({ directory: artifactsDir }), MetricsSink.layerMemory)
      )
    )
)

// Each instance has its own connection, as separate server processes would.
aliasMovesAcrossInstances("redis", () =>
  ModelRegistry.layer().pipe(
    Layer.provide(
      Layer.mergeAll(storeLayer(), FsArtifactStore.layer({ directory: artifactsDir }), MetricsSink.layerMemory)
    )
  ))

pipelineStoreContract(
  "redis",
  () => RedisPipelineStore.layer.pipe(Layer.provide(RedisClient.layer({ url: redisUrl, prefix })))
)

driftStoreContract(
  "redis",
  () => RedisDriftStore.layer.pipe(Layer.provide(RedisClient.layer({ url: redisUrl, prefix })))
)

experimentStoreContract(
  "redis",
  () => RedisExperimentStore.layer.pipe(Layer.provide(RedisClient.layer({ url: redisUrl, prefix }))),
  { plannedWrites: true }
)

describe("A/B tests over Redis from several instances", () => {
  it("give one user the same model from 50 concurrent first requests spread over 5 instances", async () => {
    const instance = () => {
      const client = RedisClient.layer({ url: redisUrl, prefix })
      const registry = ModelRegistry.layer().pipe(
        Layer.provide(
          Layer.mergeAll(
            RedisModelStore.layer.pipe(Layer.provide(client)),
            FsArtifactStore.layer({ directory: artifactsDir }),
            MetricsSink.layerMemory
          )
        )
      )
      return AbTests.layer().pipe(
        Layer.provideMerge(
          Layer.mergeAll(registry, RedisExperimentStore.layer.pipe(Layer.provide(client)), MetricsSink.layerMemory)
        )
      )
    }
    const name = `ab-${Date.now()}`
    const experiment = await Effect.runPromise(Effect.provide(
      Effect.gen(function*() {
        const registry = yield* ModelRegistry.ModelRegistry
        const ids = yield* Effect.forEach(["1", "2", "3"], (version) =>
          registry.registerModel(
            { name, version, algorithm: "a", framework: "f" },
            new Blob([new Uint8Array([1])]).stream()
          ).pipe(Effect.map((m) => m.id)))
        const ab = yield* AbTests.AbTests
        const created = yield* ab.createExperiment({
          name,
          targetMetric: "ctr",
          variants: ids.map((modelId, i) => ({ modelId, isControl: i === 0, trafficPct: i === 0 ? 34 : 33 }))
        })
        return yield* ab.startExperiment(created.id)
      }),
      instance()
    ))
    const answers = await Promise.all(Array.from({ length: 5 }, () =>
      Effect.runPromise(Effect.provide(
        AbTests.AbTests.use((ab) =>
          Effect.all(Array.from({ length: 10 }, () => ab.getModelAssignment(experiment.id, "the-user")), {
            concurrency: "unbounded"
          })
        ),
        instance()
      )))).then((xs) => xs.flat())
    expect(answers).toHaveLength(50)
    expect(new Set(answers.map((a) => a.modelId)).size).toBe(1)
    expect(answers.every((a) => a.sticky)).toBe(true)
    const counters = await Effect.runPromise(
      Effect.provide(
        ExperimentStore.ExperimentStore.use((s) => s.counters(experiment.id, 3)),
        RedisExperimentStore.layer.pipe(Layer.provide(RedisClient.layer({ url: redisUrl, prefix })))
      )
    )
    expect(counters.variants.reduce((a, v) => a + v.exposures, 0)).toBe(1)
  })
})

describe("several server instances on one Redis", () => {
  it("keep exactly one production version when each promotes different versions at once", async () => {
    const instance = () =>
      ModelRegistry.layer().pipe(
        Layer.provide(
          Layer.mergeAll(storeLayer(), FsArtifactStore.layer({ directory: artifactsDir }), MetricsSink.layerMemory)
        )
      )
    const name = `multi-${Date.now()}`
    const bytes = new Uint8Array([1, 2, 3])
    const setup = Effect.gen(function*() {
      const registry = yield* ModelRegistry.ModelRegistry
      return yield* Effect.forEach(
        Array.from({ length: 12 }, (_, i) => String(i)),
        (version) =>
          Effect.gen(function*() {
            const model = yield* registry.registerModel(
              { name, version, algorithm: "a", framework: "f" },
              new Blob([bytes]).stream()
            )
            yield* registry.promoteModel(model.id, "testing")
            return yield* registry.promoteModel(model.id, "staging")
          })
      )
    })
    const models = await Effect.runPromise(Effect.provide(setup, instance()))
    const promoteHalf = (half: ReadonlyArray<{ id: string }>) =>
      Effect.provide(
        ModelRegistry.ModelRegistry.use((r) =>
          Effect.forEach(half, (m) => r.promoteModel(m.id, "production"), { concurrency: "unbounded" })
        ),
        instance()
      )
    await Effect.runPromise(
      Effect.all([promoteHalf(models.slice(0, 6)), promoteHalf(models.slice(6))], { concurrency: "unbounded" })
    )
    const final = await Effect.runPromise(Effect.provide(
      ModelRegistry.ModelRegistry.use((r) => r.listModels({ name, limit: 100 })),
      instance()
    ))
    expect(final.items.filter((m) => m.status === "production")).toHaveLength(1)
    expect(final.items.filter((m) => m.status === "archived")).toHaveLength(11)
  })
})

describe("redis key layout", () => {
  it("stores a model as JSON under ml:model:<id> below the prefix, with its companions", async () => {
    const model = sampleModel({ name: "layout" })
    await Effect.runPromise(
      Effect.provide(ModelStore.ModelStore.use((s) => s.insert(model, sampleEvent(model))), storeLayer())
    )
    const keys = registryKeys(prefix)
    expect(JSON.parse((await admin.get(`${prefix}ml:model:${model.id}`))!)).toEqual(model)
    expect(await admin.get(keys.nameVersion(model.name, model.version))).toBe(model.id)
    expect(await admin.zscore(keys.index(), model.id)).toBe("0")
    expect(await admin.llen(keys.auditOfModel(model.id))).toBe(1)
  })

  it("fails to start with a clear error when Redis is unreachable", async () => {
    const exit = await Effect.runPromise(Effect.exit(Effect.provide(
      ModelStore.ModelStore.use((s) => s.ping()),
      RedisModelStore.layer.pipe(Layer.provide(RedisClient.layer({ url: "redis://127.0.0.1:1", prefix })))
    )))
    expect(JSON.stringify(exit)).toContain("Cannot reach Redis")
  })
})

describe("redis pipelines decode what they read", () => {
  const pipelineStore = () => RedisPipelineStore.layer.pipe(Layer.provide(RedisClient.layer({ url: redisUrl, prefix })))
  const failure = <A>(f: (s: PipelineStore.PipelineStoreShape) => Effect.Effect<A, StorageError>) =>
    Effect.runPromise(Effect.flip(Effect.provide(PipelineStore.PipelineStore.use(f), pipelineStore())))

  it("fail with a StorageError naming the key of a damaged pipeline record or list entry", async () => {
    const pipeline = samplePipeline()
    const keys = RedisPipelineStore.pipelineKeys(prefix)
    await admin.set(keys.pipeline(pipeline.id), JSON.stringify({ ...pipeline, holdoutShare: "0.2" }))
    expect((await failure((s) => s.get(pipeline.id))).message).toMatch(
      new RegExp(`${keys.pipeline(pipeline.id)} is not valid: holdoutShare`)
    )
    const sample = { sampleId: "a", features: { x: 1 }, label: 1, weight: 1, receivedAt: pipeline.createdAt }
    await admin.rpush(
      keys.part(pipeline.id, "buffer"),
      JSON.stringify(sample),
      JSON.stringify({ ...sample, label: null })
    )
    expect((await failure((s) => s.buffer(pipeline.id))).message).toMatch(
      new RegExp(`${keys.part(pipeline.id, "buffer")}\\[1\\] is not valid: label`)
    )
  })
})
