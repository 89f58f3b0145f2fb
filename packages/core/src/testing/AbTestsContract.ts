/**
 * Behaviour of the AbTests use case over whatever serves it: the memory layers, the library's
 * Promise API seen as the service, Redis. Assignment is sticky and deterministic, metrics are
 * summed per model, refused input stores nothing, and the lifecycle refuses what it must. Feature
 * keys (the GrowthBook payload's feature names) are unique among unfinished experiments.
 */
import { Effect, type Layer } from "effect"
import { describe, expect, it } from "vitest"
import { AbTests } from "../experiments/AbTests.js"
import { ModelRegistry } from "../registry/ModelRegistry.js"
import { failureTag, modelsInTesting, runOn, uniqueName } from "./UseCaseFixtures.js"

export const abTestsContract = (
  adapter: string,
  makeLayer: () => Layer.Layer<AbTests | ModelRegistry, unknown>
) => {
  const run = runOn(makeLayer)
  const started = (name: string, n = 2) =>
    Effect.gen(function*() {
      const ab = yield* AbTests
      const ids = yield* modelsInTesting(n)
      const created = yield* ab.createExperiment({
        name,
        targetMetric: "revenue",
        variants: ids.map((modelId, i) => ({ modelId, isControl: i === 0, trafficPct: 100 / n }))
      })
      return { ids, experiment: yield* ab.startExperiment(created.id) }
    })

  describe(`AbTests on ${adapter}`, () => {
    it("gives each user the same model on every call, and spreads users over every variant", async () => {
      const { ids, first, again } = await run(Effect.gen(function*() {
        const ab = yield* AbTests
        const { experiment, ids } = yield* started(uniqueName("sticky"))
        const users = Array.from({ length: 200 }, (_, i) => `user-${i}`)
        const first = yield* ab.getModelAssignments(experiment.id, users)
        const again = yield* Effect.forEach(users, (user) => ab.getModelAssignment(experiment.id, user))
        return { ids, first, again }
      }))
      expect(again.map((a) => a.modelId)).toEqual(first.map((a) => a.modelId))
      expect(new Set(first.map((a) => a.modelId))).toEqual(new Set(ids))
    })

    it("summarizes recorded metrics per model", async () => {
      const values = [[3, 5, 10], [2, 2]]
      const results = await run(Effect.gen(function*() {
        const ab = yield* AbTests
        const { experiment, ids } = yield* started(uniqueName("metrics"))
        yield* ab.recordMetrics(
          experiment.id,
          values.flatMap((vs, i) => vs.map((value) => ({ modelId: ids[i]!, metric: "revenue", value })))
        )
        return { ids, results: yield* ab.getExperimentResults(experiment.id) }
      }))
      const byModel = new Map(results.results.variants.map((v) => [v.modelId, v.metrics.revenue]))
      values.forEach((vs, i) => {
        expect(byModel.get(results.ids[i]!)?.n).toBe(vs.length)
        expect(byModel.get(results.ids[i]!)?.mean).toBeCloseTo(vs.reduce((a, b) => a + b, 0) / vs.length, 12)
      })
    })

    it("refuses an experiment on an archived model and stores nothing", async () => {
      const name = uniqueName("refused")
      const { exit, names } = await run(Effect.gen(function*() {
        const ab = yield* AbTests
        const ids = yield* modelsInTesting(2)
        yield* (yield* ModelRegistry).promoteModel(ids[1]!, "archived")
        const exit = yield* Effect.exit(ab.createExperiment({
          name,
          targetMetric: "revenue",
          variants: ids.map((modelId, i) => ({ modelId, isControl: i === 0, trafficPct: 50 }))
        }))
        return { exit, names: (yield* ab.listExperiments()).map((e) => e.name) }
      }))
      expect(failureTag(exit)).toBe("ValidationError")
      expect(names).not.toContain(name)
    })

    it("completes once: a completed experiment cannot start again; an unknown one is not found", async () => {
      const { restart, completed, missing } = await run(Effect.gen(function*() {
        const ab = yield* AbTests
        const { experiment } = yield* started(uniqueName("lifecycle"))
        const completed = yield* ab.completeExperiment(experiment.id)
        return {
          completed,
          restart: yield* Effect.exit(ab.startExperiment(experiment.id)),
          missing: yield* Effect.exit(ab.getExperiment("no-such-experiment"))
        }
      }))
      expect(completed.status).toBe("completed")
      expect(failureTag(restart)).toBe("ExperimentStateError")
      expect(failureTag(missing)).toBe("ExperimentNotFoundError")
    })

    it("keeps feature keys unique among unfinished experiments: a clash is a conflict naming the key", async () => {
      const key = uniqueName("checkout-model")
      const outcome = await run(Effect.gen(function*() {
        const ab = yield* AbTests
        const ids = yield* modelsInTesting(2)
        const create = (featureKey?: string, id?: string) =>
          ab.createExperiment({
            name: "feature key",
            targetMetric: "revenue",
            variants: ids.map((modelId, i) => ({ modelId, isControl: i === 0, trafficPct: 50 })),
            ...(featureKey === undefined ? {} : { featureKey }),
            ...(id === undefined ? {} : { id })
          })
        const first = yield* create(key)
        const second = yield* create()
        return {
          first,
          sameKey: yield* Effect.flip(create(key)),
          // The default key is the id: an id equal to a taken key clashes too.
          idAsKey: yield* Effect.flip(create(undefined, key)),
          renameOnto: yield* Effect.flip(ab.updateExperiment(second.id, { featureKey: key })),
          unchanged: yield* ab.getExperiment(second.id),
          renamed: yield* ab.updateExperiment(second.id, { featureKey: `${key}-2` }),
          // Completing the first frees its key for a successor.
          freed: yield* ab.startExperiment(first.id).pipe(
            Effect.andThen(ab.completeExperiment(first.id)),
            Effect.andThen(create(key))
          )
        }
      }))
      expect(outcome.first.featureKey).toBe(key)
      for (const conflict of [outcome.sameKey, outcome.idAsKey, outcome.renameOnto]) {
        expect(conflict._tag).toBe("ExperimentConflictError")
        expect(conflict).toMatchObject({ featureKey: key })
        // The message (a problem's detail through the Promise facade) names the experiment holding the key.
        expect(JSON.stringify(conflict)).toContain(`experiment ${outcome.first.id}`)
      }
      expect(outcome.unchanged.featureKey).toBeUndefined()
      expect(outcome.renamed.featureKey).toBe(`${key}-2`)
      expect(outcome.freed.featureKey).toBe(key)
    })
  })
}
