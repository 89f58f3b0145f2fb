import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { MetricsSink, ModelRegistry, ModelStore } from "@org/ml-core"
import { modelRegistryContract, modelStoreContract, sampleEvent, sampleModel } from "@org/ml-core/testing"
import { FsArtifactStore } from "@org/ml-adapter-fs"
import { Effect, Layer } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { RedisClient, RedisModelStore, registryKeys } from "../src/index.js"
import { connectOrFail, deleteKeysWithPrefix, redisUrl, uniquePrefix } from "./redisTestEnv.js"

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

modelRegistryContract("redis", (settings) =>
  ModelRegistry.layer({ ...ModelRegistry.defaultRegistrySettings, ...settings }).pipe(
    Layer.provide(Layer.mergeAll(storeLayer(), FsArtifactStore.layer({ directory: artifactsDir }), MetricsSink.layerMemory))
  ))

describe("redis key layout", () => {
  it("stores a model as JSON under ml:model:<id> below the prefix, with its companions", async () => {
    const model = sampleModel({ name: "layout" })
    await Effect.runPromise(Effect.provide(ModelStore.ModelStore.use((s) => s.insert(model, sampleEvent(model))), storeLayer()))
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
