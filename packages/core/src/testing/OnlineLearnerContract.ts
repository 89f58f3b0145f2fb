/**
 * Behaviour of the OnlineLearner use case over whatever serves it: a mini-batch pipeline updates
 * exactly when its batch is full and publishes the update as a registry version derived from the
 * base model; a sample sent twice is counted once; unknown pipelines and models are refused.
 */
import { Effect, type Layer } from "effect"
import { describe, expect, it } from "vitest"
import { makeLearner } from "../learning/learners/Learner.js"
import type { LearnerConfig } from "../learning/learners/LearnerState.js"
import { OnlineLearner } from "../learning/OnlineLearner.js"
import { ModelRegistry } from "../registry/ModelRegistry.js"
import { failureTag, runOn, uniqueName } from "./UseCaseFixtures.js"

const config: LearnerConfig = {
  kind: "logistic",
  optimizer: { type: "sgd", learningRate: 0.1 },
  features: { type: "schema", names: ["a", "b"] }
}

const sample = (i: number) => ({ sampleId: `s${i}`, features: { a: i % 2, b: (i * 3) % 5 }, label: i % 2 })

/** A registered base model whose artifact is an untrained learner's state. */
const baseModel = Effect.gen(function*() {
  const registry = yield* ModelRegistry
  const bytes = new TextEncoder().encode(JSON.stringify(makeLearner(config).state()))
  return yield* registry.registerModel(
    { name: uniqueName("learner"), version: "1", algorithm: "logistic_regression", framework: "ml-pipeline" },
    new ReadableStream({
      start: (controller) => {
        controller.enqueue(bytes)
        controller.close()
      }
    })
  )
})

export const onlineLearnerContract = (
  adapter: string,
  makeLayer: () => Layer.Layer<OnlineLearner | ModelRegistry, unknown>
) => {
  const run = runOn(makeLayer)

  describe(`OnlineLearner on ${adapter}`, () => {
    it("updates a mini-batch pipeline when its batch fills, publishing a version derived from the base", async () => {
      const result = await run(Effect.gen(function*() {
        const learner = yield* OnlineLearner
        const base = yield* baseModel
        const pipeline = yield* learner.createPipeline({
          name: "p",
          modelId: base.id,
          strategy: "mini-batch",
          batchSize: 20
        })
        const first = yield* learner.addSamples(pipeline.id, Array.from({ length: 19 }, (_, i) => sample(i)))
        const second = yield* learner.addSamples(pipeline.id, [sample(19), sample(3)])
        const published = second.update?.modelId
        return {
          base,
          first,
          second,
          model: published === undefined || published === null
            ? undefined
            : yield* (yield* ModelRegistry).getModel(published),
          status: yield* learner.getPipelineStatus(pipeline.id)
        }
      }))
      expect([result.first.added, result.first.update]).toEqual([19, null])
      expect([result.second.added, result.second.duplicates]).toEqual([1, 1])
      expect(result.second.update?.accepted).toBe(true)
      expect(result.model?.parentModelId).toBe(result.base.id)
      expect(result.status.counters.duplicates).toBe(1)
      expect(result.status.updates.map((u) => u.id)).toContain(result.second.update?.id)
    })

    it("refuses an unknown pipeline and a pipeline on an unknown model", async () => {
      const { missing, unknownModel } = await run(Effect.gen(function*() {
        const learner = yield* OnlineLearner
        return {
          missing: yield* Effect.exit(learner.getPipeline(uniqueName("nobody"))),
          unknownModel: yield* Effect.exit(learner.createPipeline({ name: "p", modelId: "01ARZ3NDEKTSV4RRFFQ69G5FAV" }))
        }
      }))
      expect(failureTag(missing)).toBe("PipelineNotFoundError")
      expect(["ValidationError", "ModelNotFoundError"]).toContain(failureTag(unknownModel))
    })
  })
}
