/**
 * Testing your own code with ML Pipeline in memory: `createMlPipeline({ memory: true })` is the
 * whole library with nothing on disk or in Redis, fresh for each test.
 */
import { streamOf } from "@org/ml-core/testing"
import { createMlPipeline, type MlPipelineInstance } from "@org/ml-pipeline"
import { afterEach, beforeEach, expect, it } from "vitest"
import { Recommender } from "../src/Recommender.js"

let ml: MlPipelineInstance
beforeEach(async () => {
  ml = await createMlPipeline({ memory: true })
})
afterEach(() => ml.close())

/** Registers a version with an artifact and moves it to `status` through the lifecycle. */
const version = async (name: string, v: string, status: "testing" | "staging" | "production") => {
  const model = await ml.registry.registerModel(
    { name, version: v, algorithm: "lr", framework: "sklearn" },
    streamOf([new TextEncoder().encode(`weights of ${v}`)])
  )
  for (const next of ["testing", "staging", "production"] as const) {
    await ml.registry.promoteModel(model.id, next)
    if (next === status) break
  }
  return model.id
}

it("answers with the production version when no experiment runs", async () => {
  const live = await version("ranker", "1", "production")
  expect(await new Recommender(ml, "ranker").modelFor("user-1")).toBe(live)
})

it("keeps each user on their variant during an experiment and counts conversions per model", async () => {
  const control = await version("ranker", "1", "production")
  const candidate = await version("ranker", "2", "staging")
  const experiment = await ml.experiments.createExperiment({
    name: "ranker v2",
    targetMetric: "conversion",
    variants: [
      { modelId: control, isControl: true, trafficPct: 50 },
      { modelId: candidate, isControl: false, trafficPct: 50 }
    ]
  })
  await ml.experiments.startExperiment(experiment.id)
  const recommender = new Recommender(ml, "ranker", experiment.id)
  const users = Array.from({ length: 200 }, (_, i) => `user-${i}`)
  const first = await Promise.all(users.map((user) => recommender.modelFor(user)))
  expect(await Promise.all(users.map((user) => recommender.modelFor(user)))).toEqual(first)
  expect(new Set(first)).toEqual(new Set([control, candidate]))
  for (const modelId of first) await recommender.reportConversion(modelId, modelId === candidate)
  const results = await ml.experiments.getExperimentResults(experiment.id)
  const byModel = Object.fromEntries(results.variants.map((v) => [v.modelId, v.metrics.conversion]))
  expect(byModel[candidate]?.mean).toBe(1)
  expect(byModel[control]?.mean).toBe(0)
  expect((byModel[candidate]?.n ?? 0) + (byModel[control]?.n ?? 0)).toBe(200)
})
