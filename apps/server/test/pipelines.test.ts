/** Online-learning pipelines over HTTP on the embedded (filesystem) storage. */
import { isBinaryLearnerState, type LearnerConfig, loadLearner, makeLearner } from "@org/ml-core"
import { afterAll, describe, expect, it } from "vitest"
import { loadConfig } from "../src/index.js"
import { json, makeTestApp, metadata } from "./helpers.js"

const { app, close } = await makeTestApp()
afterAll(close)

const config: LearnerConfig = {
  kind: "logistic",
  optimizer: { type: "sgd", learningRate: 0.1 },
  features: { type: "schema", names: ["a", "b"] }
}
// Separable by a + b > 0, from a fixed sequence so the test is repeatable.
const sample = (i: number) => {
  const a = Math.sin(i * 1.7) * 2
  const b = Math.cos(i * 0.9) * 2
  return { sampleId: `s${i}`, features: { a, b }, label: a + b > 0 ? 1 : 0 }
}

const post = (path: string, body: unknown) => app.request(path, json(body))
/** Registers a model whose artifact is an untrained learner, on `target` (default: the shared app). */
const registerBase = async (target = app) => {
  const created = await target.request(
    "/v1/models",
    json(
      metadata({
        name: `online-${Math.random().toString(36).slice(2, 8)}`,
        algorithm: "logistic_regression",
        framework: "ml-pipeline"
      })
    )
  )
  const model = (await created.json()) as { id: string }
  const uploaded = await target.request(`/v1/models/${model.id}/artifact`, {
    method: "PUT",
    body: JSON.stringify(makeLearner(config).state()),
    headers: { "content-type": "application/octet-stream" }
  })
  expect(uploaded.status).toBe(200)
  return model.id
}

describe("pipelines over HTTP", () => {
  it("learn from samples, publish a version whose artifact predicts like the pipeline, and roll back", async () => {
    const baseId = await registerBase()
    const created = await post("/v1/pipelines", {
      id: "fraud-online",
      name: "fraud",
      modelId: baseId,
      strategy: "mini-batch",
      batchSize: 40,
      holdoutShare: 0
    })
    expect(created.status).toBe(201)
    expect(created.headers.get("location")).toBe("/v1/pipelines/fraud-online")
    expect((await post("/v1/pipelines", { id: "fraud-online", name: "fraud", modelId: baseId })).status).toBe(409)

    const first = await post("/v1/pipelines/fraud-online/samples", {
      samples: Array.from({ length: 39 }, (_, i) => sample(i))
    })
    expect(first.status).toBe(202)
    expect(await first.json()).toMatchObject({ added: 39, duplicates: 0, update: null })
    const second = await post("/v1/pipelines/fraud-online/samples", { samples: [sample(39), sample(0)] })
    expect(await second.json()).toMatchObject({ added: 1, duplicates: 1, update: { accepted: true, samples: 40 } })

    const status = (await (await app.request("/v1/pipelines/fraud-online")).json()) as {
      pipeline: { liveModelId: string }
      counters: { received: number; duplicates: number; processed: number; buffered: number }
    }
    expect(status.counters).toMatchObject({ received: 41, duplicates: 1, processed: 40, buffered: 0 })
    expect(status.pipeline.liveModelId).not.toBe(baseId)

    // The published artifact (format 2, binary), read back from the registry, predicts what the pipeline serves.
    const artifact = new Uint8Array(
      await (await app.request(`/v1/models/${status.pipeline.liveModelId}/artifact`)).arrayBuffer()
    )
    expect(isBinaryLearnerState(artifact)).toBe(true)
    const rows = [{ a: 1, b: 1 }, { a: -1, b: -1.5 }, { a: 0.2, b: -0.1 }]
    const predicted = (await (await post("/v1/pipelines/fraud-online/predict", { rows })).json()) as {
      predictions: Array<number>
    }
    const published = loadLearner(artifact)
    expect(predicted.predictions).toEqual(rows.map((r) => published.predict(r)))
    expect(predicted.predictions[0]).toBeGreaterThan(0.5)
    expect(predicted.predictions[1]).toBeLessThan(0.5)

    const metrics = await (await app.request("/metrics")).text()
    expect(metrics).toContain("ml_pipeline_updates_total{pipeline_id=\"fraud-online\"} 1")
    expect(metrics).toContain("ml_pipeline_samples_processed{pipeline_id=\"fraud-online\"} 40")

    const rolledBack = await app.request("/v1/pipelines/fraud-online/rollback", { method: "POST" })
    expect(await rolledBack.json()).toMatchObject({ kind: "rollback", modelId: baseId })
    const after = (await (await app.request("/v1/pipelines/fraud-online")).json()) as {
      pipeline: { liveModelId: string }
      updates: Array<{ kind: string }>
    }
    expect(after.pipeline.liveModelId).toBe(baseId)
    expect(after.updates.map((u) => u.kind)).toEqual(["update", "rollback"])
    expect(await (await app.request("/v1/pipelines/fraud-online/updates")).json()).toEqual({ items: after.updates })
    const untrained = (await (await post("/v1/pipelines/fraud-online/predict", { rows })).json()) as {
      predictions: Array<number>
    }
    expect(untrained.predictions).toEqual([0.5, 0.5, 0.5])
    expect(await (await post("/v1/pipelines/fraud-online/predict", { features: rows[0] })).json()).toEqual({
      prediction: 0.5
    })
  })

  it("publish float32 artifacts when asked: rounded weights in the version, exact ones in the live state", async () => {
    const baseId = await registerBase()
    const bad = await post("/v1/pipelines", { name: "x", modelId: baseId, publish: { precision: "float16" } })
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({
      errors: [{ path: "publish.precision", message: expect.stringContaining("\"float32\"") }]
    })
    const created = await post("/v1/pipelines", {
      id: "compact-online",
      name: "compact",
      modelId: baseId,
      batchSize: 40,
      holdoutShare: 0,
      publish: { precision: "float32" }
    })
    expect(await created.json()).toMatchObject({ publish: { precision: "float32" } })
    const fresh = (await (await post("/v1/pipelines", { name: "default", modelId: baseId })).json()) as object
    expect(fresh).toMatchObject({ publish: { precision: "float64" } })
    await post("/v1/pipelines/compact-online/samples", { samples: Array.from({ length: 40 }, (_, i) => sample(i)) })
    const { pipeline } = (await (await app.request("/v1/pipelines/compact-online")).json()) as {
      pipeline: { liveModelId: string; publish: unknown }
    }
    expect(pipeline.publish).toEqual({ precision: "float32" })
    expect(pipeline.liveModelId).not.toBe(baseId)
    const artifact = new Uint8Array(
      await (await app.request(`/v1/models/${pipeline.liveModelId}/artifact`)).arrayBuffer()
    )
    const published = loadLearner(artifact)
    // The pipeline serves from its live state (float64): the same samples learned by a local learner.
    const local = makeLearner(config)
    for (let i = 0; i < 40; i++) local.learn(sample(i))
    expect(published.state().weights).toEqual(local.state().weights.map(Math.fround))
    const rows = [{ a: 1, b: 1 }, { a: -1, b: -1.5 }]
    const served = (await (await post("/v1/pipelines/compact-online/predict", { rows })).json()) as {
      predictions: Array<number>
    }
    expect(served.predictions).toEqual(rows.map((r) => local.predict(r)))
  })

  it("take a drift alert on their monitor as a signal: an adaptive pipeline updates on its next chance", async () => {
    const baseId = await registerBase()
    expect(
      (await post("/v1/drift/monitors", {
        id: "online-inputs",
        features: [{ name: "a", kind: "feature", type: "numeric" }],
        settings: { windowSize: 1000, minWindow: 100 }
      })).status
    ).toBe(201)
    expect(
      (await post("/v1/pipelines", {
        id: "adaptive-online",
        name: "adaptive",
        modelId: baseId,
        strategy: "adaptive",
        batchSize: 500,
        minSamples: 5,
        holdoutShare: 0,
        monitorId: "online-inputs"
      })).status
    ).toBe(201)
    expect(
      await (await post("/v1/pipelines/adaptive-online/samples", {
        samples: Array.from({ length: 10 }, (_, i) => sample(i))
      })).json()
    ).toMatchObject({ update: null })
    await app.request(
      "/v1/drift/monitors/online-inputs/baseline",
      json({ a: Array.from({ length: 500 }, (_, i) => Math.sin(i)) }, { method: "PUT" })
    )
    await post("/v1/drift/monitors/online-inputs/observations", {
      values: { a: Array.from({ length: 500 }, (_, i) => 3 + Math.sin(i)) }
    })
    const report = (await (await post("/v1/drift/monitors/online-inputs/check", {})).json()) as {
      alerts: Array<unknown>
    }
    expect(report.alerts.length).toBeGreaterThan(0)
    await expect.poll(async () =>
      ((await (await app.request("/v1/pipelines/adaptive-online")).json()) as { pipeline: { driftSignal: boolean } })
        .pipeline.driftSignal
    ).toBe(true)
    const next = await post("/v1/pipelines/adaptive-online/samples", { samples: [sample(10)] })
    expect(await next.json()).toMatchObject({ update: { trigger: "samples", samples: 11 } })
  })

  it("refuse bad input with problems that name the field, and buffer nothing", async () => {
    const baseId = await registerBase()
    const bad = await post("/v1/pipelines", { name: "x", modelId: baseId, batchSize: 0 })
    expect(bad.status).toBe(400)
    expect(JSON.stringify(await bad.json())).toContain("batchSize")
    expect((await post("/v1/pipelines", { id: "strict", name: "strict", modelId: baseId })).status).toBe(201)
    for (
      const [samples, field] of [
        [[{ sampleId: "a", features: { a: "1", b: 0 }, label: 1 }], "features.a"],
        [[{ sampleId: "b", features: { a: 1, b: 0 }, label: 2 }], "label"],
        [[{ sampleId: "c", features: { a: 1, b: 0 }, label: 1, weight: -1 }], "weight"],
        [[{ features: { a: 1, b: 0 }, label: 1 }], "sampleId"]
      ] as const
    ) {
      const response = await post("/v1/pipelines/strict/samples", { samples })
      expect(response.status).toBe(400)
      expect(response.headers.get("content-type")).toBe("application/problem+json")
      expect(JSON.stringify(await response.json())).toContain(field)
    }
    const status = (await (await app.request("/v1/pipelines/strict")).json()) as {
      counters: { received: number; buffered: number }
    }
    expect(status.counters).toMatchObject({ received: 0, buffered: 0 })
    expect((await app.request("/v1/pipelines/missing")).status).toBe(404)
    expect((await post("/v1/pipelines/missing/samples", { samples: [sample(1)] })).status).toBe(404)
  })

  it("take their defaults from ML_ONLINE_* and refuse bad settings naming the variable", async () => {
    const configured = await makeTestApp({
      ML_ONLINE_STRATEGY: "periodic",
      ML_ONLINE_BATCH_SIZE: "7",
      ML_ONLINE_MAX_BUFFER: "70"
    })
    try {
      const modelId = await registerBase(configured.app)
      const pipeline = await (await configured.app.request("/v1/pipelines", json({ name: "d", modelId }))).json()
      expect(pipeline).toMatchObject({ strategy: "periodic", batchSize: 7, maxBufferSize: 70 })
    } finally {
      await configured.close()
    }
    expect(() => loadConfig({ ML_ONLINE_STRATEGY: "weekly" })).toThrow(/ML_ONLINE_STRATEGY/)
    expect(() => loadConfig({ ML_ONLINE_BATCH_SIZE: "500", ML_ONLINE_MAX_BUFFER: "100" })).toThrow(
      /ML_ONLINE_BATCH_SIZE/
    )
  })
})
