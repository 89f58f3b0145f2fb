/**
 * The Promise facade on memory and Redis: each use case answers as the Effect service does, and a
 * failure is thrown as the SDK's class for its tag with the problem fields a server client sees.
 */
import type { LearnerConfig } from "@org/ml-core"
import { makeLearner } from "@org/ml-core"
import {
  ExperimentNotFoundError,
  MlApiError,
  ModelNotFoundError,
  MonitorNotFoundError,
  PipelineNotFoundError,
  ValidationError
} from "@org/ml-sdk"
import { Counter, Registry } from "prom-client"
import { afterAll, describe, expect, it } from "vitest"
import { createMlPipeline, type MlPipelineInstance } from "../src/index.js"
import { cleanUp, hostRedis, modes, testingModels } from "./Worlds.js"

afterAll(async () => {
  await cleanUp()
  await hostRedis.quit()
})

const thrown = async (promise: Promise<unknown>): Promise<MlApiError> => {
  const error = await promise.then(() => undefined, (e: unknown) => e)
  expect(error).toBeInstanceOf(MlApiError)
  return error as MlApiError
}

describe.each(modes)("the Promise facade on $name", (mode) => {
  const withPipeline = async <A>(use: (ml: MlPipelineInstance) => Promise<A>) => {
    const ml = await createMlPipeline(await mode.config())
    try {
      return await use(ml)
    } finally {
      await ml.close()
    }
  }

  it("throws each use case's not-found as the SDK's class, with the server's status and problem", async () => {
    await withPipeline(async (ml) => {
      const model = await thrown(ml.registry.getModel("no-such-model"))
      expect(model).toBeInstanceOf(ModelNotFoundError)
      expect([model.status, model.code, model.problem.type]).toEqual([
        404,
        "ModelNotFoundError",
        "urn:ml-pipeline:problem:model-not-found"
      ])
      expect(await thrown(ml.experiments.getExperiment("nope"))).toBeInstanceOf(ExperimentNotFoundError)
      expect(await thrown(ml.drift.getMonitor("nope"))).toBeInstanceOf(MonitorNotFoundError)
      expect(await thrown(ml.learning.getPipeline("nope"))).toBeInstanceOf(PipelineNotFoundError)
    })
  })

  it("refuses bad input with a ValidationError naming the field, and stores nothing", async () => {
    await withPipeline(async (ml) => {
      const [id] = await testingModels(ml, 1)
      const error = await thrown(ml.experiments.createExperiment({
        name: "one variant",
        targetMetric: "revenue",
        variants: [{ modelId: id!, isControl: true, trafficPct: 100 }]
      }))
      expect(error).toBeInstanceOf(ValidationError)
      expect(error.status).toBe(400)
      expect((error as ValidationError).errors.map((e) => e.path)).toContain("variants")
      expect(await ml.experiments.listExperiments()).toEqual([])
    })
  })

  it("decodes request records as the server does: an untyped caller gets a ValidationError, not a defect", async () => {
    await withPipeline(async (ml) => {
      const tooLong = await thrown(
        ml.registry.registerModel({ name: "x".repeat(129), version: "1", algorithm: "a", framework: "f" })
      )
      expect(tooLong).toBeInstanceOf(ValidationError)
      expect((tooLong as ValidationError).errors).toEqual([{ path: "name", message: "must be at most 128 characters" }])
      const typo = await thrown(
        ml.registry.registerModel({ name: "m", version: "1", algorithm: "a", framework: "f", verison: "2" } as never)
      )
      expect((typo as ValidationError).errors).toEqual([{ path: "verison", message: "is not a known field" }])
      expect((await ml.registry.listModels({})).items).toEqual([])
      const junk = [
        ml.drift.createMonitor({ id: "m", features: "none" } as never),
        ml.experiments.createExperiment({ variants: 3 } as never),
        ml.learning.createPipeline({ name: 5 } as never)
      ]
      for (const call of junk) expect(await thrown(call)).toBeInstanceOf(ValidationError)
      const monitor = await thrown(ml.drift.createMonitor({ id: "m", features: "none" } as never))
      expect((monitor as ValidationError).errors.map((e) => e.path)).toEqual(["features"])
    })
  })

  it("runs an A/B test: sticky assignment, metrics, results", async () => {
    await withPipeline(async (ml) => {
      const ids = await testingModels(ml, 2)
      const created = await ml.experiments.createExperiment({
        name: "ranker",
        targetMetric: "revenue",
        variants: ids.map((modelId, i) => ({ modelId, isControl: i === 0, trafficPct: 50 }))
      })
      await ml.experiments.startExperiment(created.id)
      const first = await ml.experiments.getModelAssignment(created.id, "user-1")
      expect(await ml.experiments.getModelAssignment(created.id, "user-1")).toEqual(first)
      expect(ids).toContain(first.modelId)
      await ml.experiments.recordMetrics(created.id, [
        { modelId: ids[0]!, metric: "revenue", value: 1 },
        { modelId: ids[0]!, metric: "revenue", value: 3 },
        { modelId: ids[1]!, metric: "revenue", value: 5 }
      ])
      const results = await ml.experiments.getExperimentResults(created.id)
      const control = results.variants.find((v) => v.modelId === ids[0])
      expect(control?.metrics.revenue?.n).toBe(2)
      expect(control?.metrics.revenue?.mean).toBe(2)
    })
  })

  it("checks drift: a shifted window drifts against its baseline", async () => {
    await withPipeline(async (ml) => {
      await ml.drift.createMonitor({
        id: "inputs",
        features: [{ name: "x", kind: "feature", type: "numeric" }],
        settings: { windowSize: 500, minWindow: 50 }
      })
      const values = (shift: number) => Array.from({ length: 400 }, (_, i) => ((i * 7919) % 400) / 400 + shift)
      await ml.drift.setBaseline("inputs", { x: values(0) })
      await ml.drift.recordBatch("inputs", { x: values(0.5) })
      const report = await ml.drift.check("inputs")
      const x = report.features.find((f) => f.feature === "x")
      expect(x?.pValue).toBeLessThan(1e-6)
      expect(x?.severity).not.toBe("none")
      expect((await ml.drift.getDriftReports("inputs")).map((r) => r.id)).toContain(report.id)
    })
  })

  it("learns online: samples buffer, an update publishes a registry version", async () => {
    await withPipeline(async (ml) => {
      const config: LearnerConfig = {
        kind: "logistic",
        optimizer: { type: "sgd", learningRate: 0.1 },
        features: { type: "schema", names: ["a", "b"] }
      }
      const base = await ml.registry.registerModel(
        { name: `learner-${Math.random().toString(36).slice(2, 7)}`, version: "1", algorithm: "lr", framework: "ml" },
        new Blob([JSON.stringify(makeLearner(config).state())]).stream()
      )
      const pipeline = await ml.learning.createPipeline({
        name: "p",
        modelId: base.id,
        strategy: "mini-batch",
        batchSize: 20
      })
      const samples = Array.from({ length: 20 }, (_, i) => ({
        sampleId: `s${i}`,
        features: { a: i % 2, b: (i * 3) % 5 },
        label: i % 2
      }))
      const added = await ml.learning.addSamples(pipeline.id, samples)
      expect([added.added, added.update?.modelId === undefined]).toEqual([20, false])
      const updates = await ml.learning.listUpdates(pipeline.id)
      expect(updates).toHaveLength(1)
      expect((await ml.registry.getModel(updates[0]!.modelId!)).parentModelId).toBe(base.id)
    })
  })
})

describe("configuration", () => {
  it("refuses a bad setting with a ValidationError naming it and its limit, before connecting", async () => {
    const error = await thrown(createMlPipeline({ memory: true, settings: { driftThreshold: 2 } }))
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as ValidationError).errors).toEqual([
      { path: "settings.driftThreshold", message: "must be a number strictly between 0 and 1, got 2" }
    ])
    const unknown = await thrown(createMlPipeline({ memory: true, settings: { driftTreshold: 0.1 } as never }))
    expect(unknown.message).toMatch(/settings\.driftTreshold is not a setting/)
    expect((await thrown(createMlPipeline({ memory: true, redis: "redis://x" }))).message).toMatch(/memory/)
  })

  it("puts our metrics on the host's registry, refreshed on demand, beside the host's own", async () => {
    const registry = new Registry()
    new Counter({ name: "host_requests_total", help: "The host's own metric.", registers: [registry] }).inc()
    const ml = await createMlPipeline({ memory: true, metrics: registry, settings: { metricsMaxAgeMs: 0 } })
    try {
      await testingModels(ml, 1)
      await ml.refreshMetrics()
      const text = await registry.metrics()
      expect(text).toContain("host_requests_total")
      expect(text).toMatch(/^ml_models_total\{status="testing"\} 1$/m)
      expect(text).toMatch(/^ml_model_promotion_total\{from_status="draft",to_status="testing"\} 1$/m)
      expect(text).toMatch(/^host_requests_total 1$/m)
    } finally {
      await ml.close()
    }
  })
})
