import { FsArtifactStore } from "@org/ml-adapter-fs"
import {
  RedisClient,
  RedisDriftStore,
  RedisExperimentStore,
  RedisModelStore,
  RedisPipelineStore
} from "@org/ml-adapter-redis"
import { connectOrFail, deleteKeysWithPrefix, redisUrl, uniquePrefix } from "@org/ml-adapter-redis/testing"
import {
  AbTests,
  DriftDetector,
  KeyStore,
  makeLearner,
  MetricsSink,
  ModelRegistry,
  OnlineLearner,
  SdkConnections
} from "@org/ml-core"
import { Layer, ManagedRuntime } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { loadConfig, makeApp, startServer } from "../src/index.js"
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
      const uploaded = await t.app.request(`/v1/models/${model.id}/artifact`, {
        method: "PUT",
        body: new Uint8Array([1, 2, 3])
      })
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

  it("gives one user the same model from 50 concurrent first requests spread over three server instances", async () => {
    const dirs = await Promise.all([0, 1, 2].map(() => fs.mkdtemp(path.join(os.tmpdir(), "ml-multi-"))))
    const servers = await Promise.all(
      dirs.map((dir) =>
        startServer(
          loadConfig({
            ML_MODEL_STORAGE_DIR: dir,
            ML_PORT: "0",
            ML_REDIS_URL: redisUrl,
            ML_REDIS_PREFIX: prefix,
            ML_AB_REWEIGHT_INTERVAL: "0"
          }),
          () => undefined
        )
      )
    )
    try {
      const post = (url: string, body: unknown) =>
        fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
      const ids: Array<string> = []
      for (const version of ["1", "2", "3"]) {
        const model = (await (await post(
          `${servers[0]!.url}/v1/models`,
          metadata({ name: "multi", version: `${version}-${Date.now()}` })
        )).json()) as { id: string }
        ids.push(model.id)
      }
      // Created on one instance, visible to all through Redis.
      const experiment = (await (await post(`${servers[1]!.url}/v1/experiments`, {
        name: "multi",
        targetMetric: "ctr",
        variants: ids.map((modelId, i) => ({ modelId, isControl: i === 0, trafficPct: i === 0 ? 34 : 33 }))
      })).json()) as { id: string }
      expect((await post(`${servers[2]!.url}/v1/experiments/${experiment.id}/start`, {})).status).toBe(200)
      const answers = await Promise.all(
        Array.from(
          { length: 50 },
          (_, i) =>
            post(`${servers[i % 3]!.url}/v1/experiments/${experiment.id}/assignments`, { userId: "one-user" }).then((
              r
            ) => r.json() as Promise<{ modelId: string; sticky: boolean }>)
        )
      )
      expect(new Set(answers.map((a) => a.modelId)).size).toBe(1)
      expect(answers.every((a) => a.sticky)).toBe(true)
      const results = (await (await fetch(`${servers[0]!.url}/v1/experiments/${experiment.id}/results`)).json()) as {
        variants: Array<{ exposures: number }>
      }
      expect(results.variants.reduce((sum, v) => sum + v.exposures, 0)).toBe(1)
    } finally {
      await Promise.all(servers.map((s) => s.close()))
      await Promise.all(dirs.map((dir) => fs.rm(dir, { recursive: true, force: true })))
    }
  })

  it("runs one pipeline from three instances: one buffer, cross-instance dedup, one update, one model", async () => {
    // Artifacts live on a filesystem the instances share, as README's Redis deployment says.
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "ml-multi-online-"))
    const servers = await Promise.all(
      [0, 1, 2].map(() =>
        startServer(
          loadConfig({
            ML_MODEL_STORAGE_DIR: dir,
            ML_PORT: "0",
            ML_REDIS_URL: redisUrl,
            ML_REDIS_PREFIX: prefix,
            ML_AB_REWEIGHT_INTERVAL: "0"
          }),
          () => undefined
        )
      )
    )
    try {
      const post = (url: string, body: unknown) =>
        fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
      const base = (await (await post(
        `${servers[0]!.url}/v1/models`,
        metadata({ name: "multi-online", version: `1-${Date.now()}`, algorithm: "logistic_regression" })
      )).json()) as { id: string }
      const untrained = makeLearner({
        kind: "logistic",
        optimizer: { type: "sgd", learningRate: 0.1 },
        features: { type: "schema", names: ["a", "b"] }
      })
      expect(
        (await fetch(`${servers[0]!.url}/v1/models/${base.id}/artifact`, {
          method: "PUT",
          body: JSON.stringify(untrained.state())
        })).status
      ).toBe(200)
      expect(
        (await post(`${servers[1]!.url}/v1/pipelines`, {
          id: "multi-online",
          name: "multi",
          modelId: base.id,
          strategy: "mini-batch",
          batchSize: 300,
          holdoutShare: 0
        })).status
      ).toBe(201)

      const sample = (i: number) => {
        const a = Math.sin(i * 1.7) * 2
        const b = Math.cos(i * 0.9) * 2
        return { sampleId: `m${i}`, features: { a, b }, label: a + b > 0 ? 1 : 0 }
      }
      // 30 batches of 10 spread over the instances at once, and every 10th sample replayed to another instance.
      const batches = Array.from({ length: 30 }, (_, b) => Array.from({ length: 10 }, (_, i) => sample(b * 10 + i)))
      const replays = Array.from({ length: 30 }, (_, b) => [sample(b * 10)])
      const answers = await Promise.all([
        ...batches.map((samples, b) => post(`${servers[b % 3]!.url}/v1/pipelines/multi-online/samples`, { samples })),
        ...replays.map((samples, b) =>
          post(`${servers[(b + 1) % 3]!.url}/v1/pipelines/multi-online/samples`, { samples })
        )
      ].map((response) =>
        response.then((r) =>
          r.json() as Promise<{ added: number; duplicates: number; update: { accepted: boolean } | null }>
        )
      ))
      expect(answers.reduce((sum, a) => sum + a.added, 0)).toBe(300)
      expect(answers.reduce((sum, a) => sum + a.duplicates, 0)).toBe(30)
      expect(answers.filter((a) => a.update !== null)).toHaveLength(1)

      const status = (await (await fetch(`${servers[2]!.url}/v1/pipelines/multi-online`)).json()) as {
        pipeline: { liveModelId: string }
        counters: Record<string, number>
        progressive: { window: number }
        updates: Array<{ accepted: boolean; samples: number }>
      }
      expect(status.counters).toMatchObject({ received: 330, duplicates: 30, processed: 300, buffered: 0, dropped: 0 })
      expect(status.progressive.window).toBe(300) // replays are not scored twice
      expect(status.updates).toMatchObject([{ accepted: true, samples: 300 }])
      const published = (await (await fetch(`${servers[0]!.url}/v1/models/${status.pipeline.liveModelId}`)).json()) as {
        parentModelId: string
      }
      expect(published.parentModelId).toBe(base.id)

      // Every instance serves the one live model, and a rollback on one reaches the others.
      const rows = [{ a: 1, b: 1 }, { a: -1, b: -1.5 }]
      const predictions = async () =>
        Promise.all(
          servers.map(async (s) =>
            ((await (await post(`${s.url}/v1/pipelines/multi-online/predict`, { rows })).json()) as {
              predictions: Array<number>
            }).predictions
          )
        )
      const trained = await predictions()
      expect(trained[0]![0]).toBeGreaterThan(0.5)
      expect(trained[0]![1]).toBeLessThan(0.5)
      expect(trained[1]).toEqual(trained[0])
      expect(trained[2]).toEqual(trained[0])
      expect((await post(`${servers[1]!.url}/v1/pipelines/multi-online/rollback`, {})).status).toBe(200)
      expect(await predictions()).toEqual([0, 1, 2].map(() => rows.map((r) => untrained.predict(r))))
    } finally {
      await Promise.all(servers.map((s) => s.close()))
      await fs.rm(dir, { recursive: true, force: true })
    }
  })

  it("keeps features named f and f:meta apart (no key of one is the other's window metadata)", async () => {
    const t = await makeTestApp({ ML_REDIS_URL: redisUrl, ML_REDIS_PREFIX: prefix })
    try {
      const id = `colliding-${Date.now().toString(36)}`
      const features = ["f", "f:meta"].map((name) => ({ name, kind: "feature", type: "numeric" }))
      const created = await t.app.request("/v1/drift/monitors", json({ id, features, settings: { minWindow: 10 } }))
      expect(created.status).toBe(201)
      const baseline = Array.from({ length: 200 }, (_, i) => i % 20)
      const frozen = await t.app.request(
        `/v1/drift/monitors/${id}/baseline`,
        json({ f: baseline, "f:meta": baseline }, { method: "PUT" })
      )
      expect(frozen.status).toBe(200)
      for (let round = 0; round < 2; round++) {
        const recorded = await t.app.request(
          `/v1/drift/monitors/${id}/observations`,
          json({ values: { f: baseline.slice(0, 50), "f:meta": baseline.slice(0, 30) } })
        )
        expect(recorded.status).toBe(202)
      }
      const report = await t.app.request(`/v1/drift/monitors/${id}/check`, { method: "POST" })
      expect(report.status).toBe(200)
      const body = (await report.json()) as { features: Array<{ feature: string; windowCount: number }> }
      expect(body.features.map((f) => [f.feature, f.windowCount]).sort()).toEqual([["f", 100], ["f:meta", 60]])
    } finally {
      await t.close()
    }
  })

  it("keeps an experiment's own assignment retention, and answers 400 naming it when out of range", async () => {
    const t = await makeTestApp({ ML_REDIS_URL: redisUrl, ML_REDIS_PREFIX: prefix })
    try {
      const models = await Promise.all(
        ["r1", "r2"].map(async (version) =>
          ((await (await t.app.request(
            "/v1/models",
            json(metadata({ name: "retention", version: `${version}-${Date.now()}` }))
          ))
            .json()) as { id: string }).id
        )
      )
      const body = (assignmentRetentionSeconds: number) => ({
        name: "retention",
        targetMetric: "ctr",
        variants: models.map((modelId, i) => ({ modelId, isControl: i === 0, trafficPct: 50 })),
        assignmentRetentionSeconds
      })
      const refused = await t.app.request("/v1/experiments", json(body(0)))
      expect(refused.status).toBe(400)
      expect(JSON.stringify(await refused.json())).toContain("assignmentRetentionSeconds")
      const created = await t.app.request("/v1/experiments", json(body(3600)))
      expect(created.status).toBe(201)
      expect(await created.json()).toMatchObject({ assignmentRetentionSeconds: 3600 })
    } finally {
      await t.close()
    }
  })

  it("answers 503 problems when Redis becomes unreachable", async () => {
    const client = await connectOrFail()
    const directory = await fs.mkdtemp(path.join(os.tmpdir(), "ml-server-redis-"))
    const stores = Layer.mergeAll(
      RedisModelStore.layer,
      RedisExperimentStore.layer,
      RedisDriftStore.layer,
      RedisPipelineStore.layer,
      FsArtifactStore.layer({ directory }),
      MetricsSink.layerMemory
    )
      .pipe(Layer.provide(RedisClient.layerFromClient(client, prefix)))
    const runtime = ManagedRuntime.make(
      Layer.mergeAll(
        AbTests.layer(),
        DriftDetector.layer(),
        OnlineLearner.layer(),
        KeyStore.layerMemory,
        SdkConnections.layerMemory
      ).pipe(
        Layer.provideMerge(ModelRegistry.layer()),
        Layer.provide(stores)
      )
    )
    const app = makeApp({
      runtime,
      metrics: async () => ({ contentType: "text/plain", body: "" }),
      maxJsonBytes: 1 << 20,
      maxUploadBytes: 1 << 20,
      log: () => undefined
    })
    try {
      expect((await app.request("/readyz")).status).toBe(200)
      client.disconnect() // a real connection loss: no reconnect after a manual disconnect
      for (
        const response of [
          await app.request("/readyz"),
          await app.request("/v1/models"),
          await app.request("/v1/models", json(metadata({ version: "down" })))
        ]
      ) {
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
