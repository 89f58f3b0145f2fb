import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { FsArtifactStore } from "@org/ml-adapter-fs"
import { RedisClient, RedisExperimentStore, RedisModelStore } from "@org/ml-adapter-redis"
import { connectOrFail, deleteKeysWithPrefix, redisUrl, uniquePrefix } from "@org/ml-adapter-redis/testing"
import { AbTests, MetricsSink, ModelRegistry } from "@org/ml-core"
import { Layer, ManagedRuntime } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { makeApp } from "../src/index.js"
import { json, makeTestApp, metadata } from "./helpers.js"

const admin = await connectOrFail()
const prefix = uniquePrefix("server")
afterAll(async () => {
  await deleteKeysWithPrefix(admin, prefix)
  await admin.quit()
})

describe("server with ML_REDIS_URL", () => {
  it("keeps metadata in Redis under the configured prefix and artifacts on disk", async () => {
    const t = await makeTestApp({ ML_REDIS_URL: redisUrl, ML_REDIS_PREFIX: prefix })
    try {
      const created = await t.app.request("/v1/models", json(metadata({ version: "redis-1" })))
      expect(created.status).toBe(201)
      const model = (await created.json()) as { id: string }
      expect(await admin.exists(`${prefix}ml:model:${model.id}`)).toBe(1)
      const uploaded = await t.app.request(`/v1/models/${model.id}/artifact`, { method: "PUT", body: new Uint8Array([1, 2, 3]) })
      expect(uploaded.status).toBe(200)
      expect((await t.snapshot()).some((file) => file.startsWith(`artifacts/${model.id}/`))).toBe(true)
      expect((await t.snapshot()).some((file) => file.startsWith("registry.jsonl"))).toBe(false)
      expect((await t.app.request(`/v1/models/${model.id}/promote`, json({ status: "testing" }))).status).toBe(200)
      const history = JSON.parse((await admin.lrange(`${prefix}ml:audit:model:${model.id}`, 0, -1)).at(-1)!)
      expect(history).toMatchObject({ action: "promoted", from: "draft", to: "testing" })
    } finally {
      await t.close()
    }
  })

  it("answers 503 problems when Redis becomes unreachable", async () => {
    const client = await connectOrFail()
    const directory = await fs.mkdtemp(path.join(os.tmpdir(), "ml-server-redis-"))
    const runtime = ManagedRuntime.make(AbTests.layer().pipe(
      Layer.provideMerge(ModelRegistry.layer()),
      Layer.provide(Layer.mergeAll(
        RedisModelStore.layer, RedisExperimentStore.layer, FsArtifactStore.layer({ directory }), MetricsSink.layerMemory
      ).pipe(Layer.provide(RedisClient.layerFromClient(client, prefix))))
    ))
    const app = makeApp({ runtime, metrics: async () => ({ contentType: "text/plain", body: "" }), maxJsonBytes: 1 << 20, maxUploadBytes: 1 << 20, log: () => undefined })
    try {
      expect((await app.request("/readyz")).status).toBe(200)
      client.disconnect() // a real connection loss: no reconnect after a manual disconnect
      for (const response of [await app.request("/readyz"), await app.request("/v1/models"), await app.request("/v1/models", json(metadata({ version: "down" })))]) {
        expect(response.status).toBe(503)
        expect(response.headers.get("content-type")).toBe("application/problem+json")
        expect(await response.json()).toMatchObject({ code: "StorageError", status: 503 })
      }
    } finally {
      await runtime.dispose()
      await fs.rm(directory, { recursive: true, force: true })
    }
  })
})
