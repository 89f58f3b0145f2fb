/** The learner client against a real server: buffered samples, updates, prediction, rollback, errors. */
import { type LearnerConfig, loadLearner, makeLearner } from "@org/ml-core"
import { describe, expect, it } from "vitest"
import { createClient, PipelineNotFoundError, ValidationError } from "../src/index.js"
import { useServer } from "./serverFixture.js"

const server = useServer({ ML_DRIFT_SCHEDULER_TICK_MS: "3600000" })

const config: LearnerConfig = {
  kind: "logistic",
  optimizer: { type: "sgd", learningRate: 0.1 },
  features: { type: "schema", names: ["a", "b"] }
}
const sample = (i: number) => {
  const a = Math.sin(i * 1.7) * 2
  const b = Math.cos(i * 0.9) * 2
  return { sampleId: `s${i}`, features: { a, b }, label: a + b > 0 ? 1 : 0 }
}

describe("learner client", () => {
  it("buffers samples into batches, updates, predicts with the published version and rolls back", async () => {
    const ml = createClient({ baseUrl: server.url, sampleRecorder: { batchSize: 30, flushIntervalMs: 60_000 } })
    const base = await ml.registry.registerModel(
      { name: "sdk-online", version: "1.0.0", algorithm: "logistic_regression", framework: "ml-pipeline" },
      new TextEncoder().encode(JSON.stringify(makeLearner(config).state()))
    )
    const pipeline = await ml.learner.createPipeline({
      id: "sdk-pipeline",
      name: "sdk",
      modelId: base.id,
      strategy: "mini-batch",
      batchSize: 60,
      holdoutShare: 0
    })
    expect(pipeline.liveModelId).toBe(base.id)
    for (let i = 0; i < 60; i++) ml.learner.addSample("sdk-pipeline", sample(i))
    ml.learner.addSample("sdk-pipeline", sample(0)) // a retry of a sample already sent: ignored
    await ml.learner.close()

    const status = await ml.learner.getPipelineStatus("sdk-pipeline")
    expect(status.counters).toMatchObject({ received: 61, duplicates: 1, processed: 60, buffered: 0 })
    expect(status.updates).toHaveLength(1)
    expect(status.updates[0]).toMatchObject({ accepted: true, samples: 60, previousModelId: base.id })
    // The artifact's bytes load as they are, in either learner format (this one is format 2).
    const published = loadLearner(await (await ml.registry.downloadArtifact(status.pipeline.liveModelId)).bytes())
    const rows = [{ a: 1.5, b: 0.5 }, { a: -2, b: 0.3 }]
    expect(await ml.learner.predict("sdk-pipeline", rows)).toEqual(rows.map((r) => published.predict(r)))
    expect(await ml.learner.predict("sdk-pipeline", rows[0]!)).toBe(published.predict(rows[0]!))
    expect(await ml.learner.triggerUpdate("sdk-pipeline")).toBeNull()

    expect(await ml.learner.rollback("sdk-pipeline")).toMatchObject({ kind: "rollback", modelId: base.id })
    expect((await ml.learner.listPipelines()).find((p) => p.id === "sdk-pipeline")?.liveModelId).toBe(base.id)
  })

  it("throws typed errors naming the field, and for unknown pipelines", async () => {
    const ml = createClient({ baseUrl: server.url })
    const error = await ml.learner.addSamples("sdk-pipeline", [{
      sampleId: "x",
      features: { a: Number.NaN, b: 0 },
      label: 1
    }]).catch((e: unknown) => e)
    // NaN is sent as null by JSON: the server names the feature it could not use.
    expect(error).toBeInstanceOf(ValidationError)
    expect(JSON.stringify(error)).toContain("features.a")
    await expect(ml.learner.getPipelineStatus("nope")).rejects.toBeInstanceOf(PipelineNotFoundError)
  })
})
