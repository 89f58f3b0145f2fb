/**
 * "What served user U at time T" against the assignment itself: random lifecycles (start, pause,
 * re-split, completion) of sticky and non-sticky experiments with a targeting condition and
 * partial coverage run on the memory layers under a test clock; every assignment answered is
 * recorded with its instant, then getServed must give the same model and variant for each. The
 * pure function's refusals (before creation, history cut by the retention) are checked directly.
 */
import { Clock, Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import { describe, expect, it } from "vitest"
import {
  AbTests,
  type DefinitionRevision,
  ExperimentStore,
  type ModelAssignment,
  ModelRegistry,
  servedByExperiment
} from "../src/index.js"
import { sampleExperiment, streamOf } from "../src/testing/index.js"

const world = () =>
  AbTests.layer({ ...AbTests.defaultAbTestSettings, minSamplesPerVariant: 10 }).pipe(
    Layer.provideMerge(ExperimentStore.layerMemory),
    Layer.provideMerge(ModelRegistry.layerMemory()),
    Layer.merge(TestClock.layer())
  )

/** A small deterministic generator (LCG), so a failing lifecycle can be replayed by its seed. */
const generator = (seed: number) => {
  let state = seed >>> 0
  return (n: number) => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0
    return state % n
  }
}

describe("what served a user, against the assignments answered", () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    it(`agrees on every recorded assignment of a random lifecycle (seed ${seed})`, async () => {
      const random = generator(seed)
      const { checked, recorded } = await Effect.runPromise(Effect.provide(
        Effect.gen(function*() {
          yield* TestClock.setTime(Date.UTC(2030, 0, 1))
          const registry = yield* ModelRegistry.ModelRegistry
          const ab = yield* AbTests.AbTests
          const ids = yield* Effect.forEach([0, 1, 2], (i) =>
            registry.registerModel(
              { name: `served-${seed}`, version: String(i), algorithm: "a", framework: "f" },
              streamOf([new Uint8Array([i])])
            ).pipe(Effect.tap((m) => registry.promoteModel(m.id, "testing")), Effect.map((m) => m.id)))
          const experiment = yield* ab.createExperiment({
            name: "served",
            targetMetric: "revenue",
            variants: ids.map((modelId, i) => ({ modelId, isControl: i === 0, trafficPct: [50, 30, 20][i]! })),
            stickyAssignment: seed % 2 === 0,
            coverage: 0.7,
            condition: { country: { $in: ["FR", "DE"] } }
          })
          const users = Array.from({ length: 40 }, (_, i) => `u${i}`)
          const attributesOf = (user: string) => ({ country: ["FR", "DE", "US"][Number(user.slice(1)) % 3]! })
          const recorded: Array<{ at: string; answer: ModelAssignment }> = []
          let status = "draft"
          for (let step = 0; step < 12 && status !== "completed"; step++) {
            yield* TestClock.adjust(`${1 + random(600)} seconds`)
            const move = random(5)
            if ((status === "draft" || status === "paused") && move < 3) {
              status = (yield* ab.startExperiment(experiment.id)).status
            } else if (status === "running" && move === 0) {
              status = (yield* ab.pauseExperiment(experiment.id)).status
            } else if (status !== "completed" && move === 1) {
              const first = 10 * (1 + random(8))
              const second = 10 * random(10 - first / 10)
              yield* ab.updateExperiment(experiment.id, { trafficPct: [first, second, 100 - first - second] })
            } else if (status !== "draft" && move === 2 && step > 6) {
              status = (yield* ab.completeExperiment(experiment.id)).status
            }
            // Assignments at a later instant than the change, some users each time.
            yield* TestClock.adjust(`${1 + random(60)} seconds`)
            const at = new Date(yield* Clock.currentTimeMillis).toISOString()
            for (const user of users.filter(() => random(3) === 0)) {
              recorded.push({ at, answer: yield* ab.getModelAssignment(experiment.id, user, attributesOf(user)) })
            }
          }
          let checked = 0
          for (const { answer, at } of recorded) {
            const served = yield* ab.getServed({
              userId: answer.userId,
              at,
              experimentId: experiment.id,
              attributes: attributesOf(answer.userId)
            })
            expect({ modelId: served.modelId, variant: served.variant }, `${answer.userId} at ${at}`).toEqual({
              modelId: answer.modelId,
              variant: answer.variant
            })
            expect(["sticky", "hashed"].includes(served.source), served.explanation).toBe(answer.inExperiment)
            checked++
          }
          return { checked, recorded: recorded.length }
        }),
        world()
      ))
      expect(recorded).toBeGreaterThan(20)
      expect(checked).toBe(recorded)
    })
  }

  it("refuses an instant before the creation, and one before the oldest entry the retention kept", () => {
    const experiment = sampleExperiment({ status: "running" })
    const entry = (revision: number, at: string): DefinitionRevision => ({
      revision,
      at,
      status: "running",
      weights: [0.5, 0.5],
      coverage: 1,
      winnerModelId: null
    })
    const ask = (history: ReadonlyArray<DefinitionRevision>, at: string) =>
      servedByExperiment({ experiment, history, atMillis: Date.parse(at), userId: "u", sticky: undefined })
    const kept = [entry(1, "2030-01-01T00:00:00.000Z"), entry(2, "2030-01-02T00:00:00.000Z")]
    expect(ask(kept, "2029-12-31T00:00:00.000Z")).toMatchObject({ _tag: "BeforeCreation" })
    expect(ask(kept.slice(1), "2030-01-01T12:00:00.000Z")).toEqual({
      _tag: "HistoryTruncated",
      oldestAt: "2030-01-02T00:00:00.000Z"
    })
    expect(ask(kept.slice(1), "2030-01-02T00:00:00.000Z")).toMatchObject({ definitionRevision: 2, source: "hashed" })
  })

  it("answers a sticky assignment only from the instant it was stored", () => {
    const experiment = sampleExperiment({ status: "running", stickyAssignment: true })
    const history: ReadonlyArray<DefinitionRevision> = [{
      revision: 1,
      at: "2030-01-01T00:00:00.000Z",
      status: "running",
      weights: [1, 0],
      coverage: 1,
      winnerModelId: null
    }]
    const sticky = {
      experimentId: experiment.id,
      userId: "u",
      variant: 1,
      modelId: experiment.variants[1]!.modelId,
      at: "2030-01-05T00:00:00.000Z"
    }
    const ask = (at: string) =>
      servedByExperiment({ experiment, history, atMillis: Date.parse(at), userId: "u", sticky })
    expect(ask("2030-01-04T00:00:00.000Z")).toMatchObject({ source: "hashed", variant: 0 })
    expect(ask("2030-01-05T00:00:00.000Z")).toMatchObject({ source: "sticky", variant: 1 })
  })
})
