/** A/B tests use case over the memory layers: validation, assignment, results and decisions. */
import { Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import { describe, expect, it } from "vitest"
import {
  AbTests,
  type CreateExperimentInput,
  type Experiment,
  ExperimentStore,
  MetricsSink,
  ModelRegistry,
  StorageError
} from "../src/index.js"
import { experimentStoreContract, streamOf } from "../src/testing/index.js"
import { makeSample, type SampleSpec } from "./golden/samples.js"
import sequentialGolden from "./golden/sequential.json" with { type: "json" }
import golden from "./golden/stats.json" with { type: "json" }

const sharedExperiments = Effect.runSync(ExperimentStore.makeMemory)
experimentStoreContract("memory", () => Layer.succeed(ExperimentStore.ExperimentStore, sharedExperiments))

const world = (store: ExperimentStore.ExperimentStoreShape = Effect.runSync(ExperimentStore.makeMemory)) =>
  AbTests.layer({ ...AbTests.defaultAbTestSettings, minSamplesPerVariant: 100 }).pipe(
    Layer.provideMerge(Layer.succeed(ExperimentStore.ExperimentStore, store)),
    Layer.provideMerge(ModelRegistry.layerMemory())
  )

const run = <A, E>(
  program: Effect.Effect<
    A,
    E,
    AbTests.AbTests | ModelRegistry.ModelRegistry | MetricsSink.MetricsSink | ExperimentStore.ExperimentStore
  >,
  store?: ExperimentStore.ExperimentStoreShape
) => Effect.runPromise(Effect.provide(program, world(store)) as Effect.Effect<A, E>)

/** Registers n models with artifacts, in testing, and returns their ids. */
const models = (n: number) =>
  Effect.gen(function*() {
    const registry = yield* ModelRegistry.ModelRegistry
    const name = `m-${Math.random().toString(36).slice(2, 8)}`
    return yield* Effect.forEach(Array.from({ length: n }, (_, i) => i), (i) =>
      registry.registerModel(
        { name, version: String(i), algorithm: "a", framework: "f" },
        streamOf([new Uint8Array([i])])
      ).pipe(
        Effect.tap((m) => registry.promoteModel(m.id, "testing")),
        Effect.map((m) => m.id)
      ))
  })

const experimentInput = (
  ids: ReadonlyArray<string>,
  overrides: Partial<CreateExperimentInput> = {}
): CreateExperimentInput => ({
  name: "ranker test",
  targetMetric: "revenue",
  variants: ids.map((modelId, i) => ({ modelId, isControl: i === 0, trafficPct: 100 / ids.length })),
  ...overrides
})

const started = (overrides: Partial<CreateExperimentInput> = {}, n = 2) =>
  Effect.gen(function*() {
    const ab = yield* AbTests.AbTests
    const ids = yield* models(n)
    const experiment = yield* ab.createExperiment(experimentInput(ids, overrides))
    return yield* ab.startExperiment(experiment.id)
  })

/** Records values per variant (values[i] for variant i) of one metric. */
const feed = (e: Experiment, values: ReadonlyArray<ArrayLike<number>>, metric = "revenue") =>
  Effect.gen(function*() {
    const ab = yield* AbTests.AbTests
    yield* ab.recordMetrics(
      e.id,
      values.flatMap((vs, i) => Array.from(vs, (value) => ({ modelId: e.variants[i]!.modelId, metric, value })))
    )
  })

const failureOf = async (promise: Promise<unknown>) => {
  try {
    await promise
  } catch (error) {
    return error as { _tag?: string; issues?: Array<{ path: Array<string | number> }> }
  }
  throw new Error("expected a failure")
}

describe("creating experiments", () => {
  it("rejects invalid variant sets naming the fields", async () => {
    const cases: Array<[(ids: Array<string>) => CreateExperimentInput, string]> = [
      [(ids) => experimentInput(ids.slice(0, 1)), "variants"],
      [
        (ids) => ({
          ...experimentInput(ids),
          variants: ids.map((modelId) => ({ modelId, isControl: true, trafficPct: 50 }))
        }),
        "variants"
      ],
      [
        (ids) => ({
          ...experimentInput(ids),
          variants: ids.map((modelId, i) => ({ modelId, isControl: i === 0, trafficPct: 40 }))
        }),
        "variants"
      ],
      [
        (ids) => ({
          ...experimentInput(ids),
          variants: [ids[0]!, ids[0]!].map((modelId, i) => ({ modelId, isControl: i === 0, trafficPct: 50 }))
        }),
        "variants.1.modelId"
      ],
      [(ids) => experimentInput([ids[0]!, "01ARZ3NDEKTSV4RRFFQ69G5FAV"]), "variants.1.modelId"]
    ]
    for (const [input, path] of cases) {
      const error = await failureOf(run(Effect.gen(function*() {
        const ids = yield* models(2)
        return yield* (yield* AbTests.AbTests).createExperiment(input(ids))
      })))
      expect(error._tag).toBe("ValidationError")
      expect(error.issues!.map((i) => i.path.join("."))).toContain(path)
    }
  })

  it("refuses archived models", async () => {
    const error = await failureOf(run(Effect.gen(function*() {
      const ids = yield* models(2)
      yield* (yield* ModelRegistry.ModelRegistry).promoteModel(ids[1]!, "archived")
      return yield* (yield* AbTests.AbTests).createExperiment(experimentInput(ids))
    })))
    expect(error.issues!.map((i) => i.path.join("."))).toEqual(["variants.1.modelId"])
  })
})

describe("assignment", () => {
  it("splits 100,000 users within 1 percentage point of the configured shares", async () => {
    const shares = await run(Effect.gen(function*() {
      const e = yield* started({ stickyAssignment: false }, 3)
      yield* (yield* AbTests.AbTests).updateExperiment(e.id, { trafficPct: [20, 30, 50] })
      const ab = yield* AbTests.AbTests
      const assignments = yield* ab.getModelAssignments(e.id, Array.from({ length: 100_000 }, (_, i) => `user-${i}`))
      return [0, 1, 2].map((v) => assignments.filter((a) => a.variant === v).length / 100_000)
    }))
    ;[0.2, 0.3, 0.5].forEach((expected, i) => expect(Math.abs(shares[i]! - expected)).toBeLessThan(0.01))
  })

  it("keeps sticky users on their model when traffic is re-split; new users follow the new split", async () => {
    const result = await run(Effect.gen(function*() {
      const ab = yield* AbTests.AbTests
      const e = yield* started()
      const users = Array.from({ length: 2000 }, (_, i) => `u${i}`)
      const before = yield* ab.getModelAssignments(e.id, users)
      yield* ab.updateExperiment(e.id, { trafficPct: [90, 10] }, "ops")
      const after = yield* ab.getModelAssignments(e.id, users)
      const newcomers = yield* ab.getModelAssignments(e.id, Array.from({ length: 5000 }, (_, i) => `new${i}`))
      return { before, after, newcomers, experiment: yield* ab.getExperiment(e.id) }
    }))
    expect(result.after.map((a) => a.modelId)).toEqual(result.before.map((a) => a.modelId))
    expect(result.after.every((a) => a.sticky)).toBe(true)
    const controlShare = result.newcomers.filter((a) => a.variant === 0).length / 5000
    expect(Math.abs(controlShare - 0.9)).toBeLessThan(0.02)
    expect(result.experiment.trafficHistory.map((t) => t.trafficPct)).toEqual([[50, 50], [90, 10]])
  })

  it("agrees across 50 concurrent first requests for one user", async () => {
    const answers = await run(Effect.gen(function*() {
      const ab = yield* AbTests.AbTests
      const e = yield* started()
      return yield* Effect.all(Array.from({ length: 50 }, () => ab.getModelAssignment(e.id, "same-user")), {
        concurrency: "unbounded"
      })
    }))
    expect(new Set(answers.map((a) => a.modelId)).size).toBe(1)
  })

  it("serves the control when not running, and falls back to the hash when storage fails", async () => {
    const memory = Effect.runSync(ExperimentStore.makeMemory)
    const flaky: ExperimentStore.ExperimentStoreShape = {
      ...memory,
      getAssignment: () => Effect.fail(new StorageError({ message: "down" })),
      assignIfAbsent: () => Effect.fail(new StorageError({ message: "down" }))
    }
    const result = await run(
      Effect.gen(function*() {
        const ab = yield* AbTests.AbTests
        const ids = yield* models(2)
        const e = yield* ab.createExperiment(experimentInput(ids))
        const draft = yield* ab.getModelAssignment(e.id, "u1")
        yield* ab.startExperiment(e.id)
        const live = yield* ab.getModelAssignment(e.id, "u1")
        yield* ab.pauseExperiment(e.id)
        const paused = yield* ab.getModelAssignment(e.id, "u1")
        return { ids, draft, live, paused, expected: AbTests.bucketUser(yield* ab.getExperiment(e.id), "u1") }
      }),
      flaky
    )
    expect(result.draft).toMatchObject({ modelId: result.ids[0], inExperiment: false })
    expect(result.live).toMatchObject({ variant: result.expected, inExperiment: true, sticky: false })
    expect(result.paused).toMatchObject({ modelId: result.ids[0], inExperiment: false })
  })
})

describe("metrics and results", () => {
  it("rejects non-finite values and unknown variants, recording nothing", async () => {
    const { error, results } = await run(Effect.gen(function*() {
      const ab = yield* AbTests.AbTests
      const e = yield* started()
      const error = yield* Effect.flip(ab.recordMetrics(e.id, [
        { modelId: e.variants[0]!.modelId, metric: "revenue", value: 1 },
        { modelId: e.variants[0]!.modelId, metric: "revenue", value: Number.NaN },
        { modelId: "01ARZ3NDEKTSV4RRFFQ69G5FAV", metric: "revenue", value: 2 }
      ]))
      return { error, results: yield* ab.getExperimentResults(e.id) }
    }))
    expect(error._tag).toBe("ValidationError")
    expect((error as unknown as { issues: Array<{ path: Array<unknown> }> }).issues.map((i) => i.path.join(".")))
      .toEqual(["1.value", "2.modelId"])
    expect(results.variants[0]!.metrics).toEqual({})
  })

  it("matches scipy's Welch test on the golden data", async () => {
    for (const c of golden.welch.filter((w) => w.name !== "values near 1e9")) {
      const treatment = makeSample(c.treatment as SampleSpec)
      const control = makeSample(c.control as SampleSpec)
      const results = await run(Effect.gen(function*() {
        const e = yield* started({ minSamplesPerVariant: 2 })
        yield* feed(e, [control, treatment])
        return yield* (yield* AbTests.AbTests).getExperimentResults(e.id)
      }))
      const comparison = results.comparisons[0]!
      expect(Math.abs(comparison.pValue - c.pValue)).toBeLessThanOrEqual(1e-10 * c.pValue)
      expect(Math.abs(comparison.difference - c.difference)).toBeLessThanOrEqual(1e-10 * Math.abs(c.difference) + 1e-12)
    }
  })

  it("declares winners no more often than alpha in simulated A/A tests", async () => {
    const winners = await run(Effect.gen(function*() {
      const ab = yield* AbTests.AbTests
      let count = 0
      for (let sim = 0; sim < 200; sim++) {
        const e = yield* started({ minSamplesPerVariant: 200, seed: `aa-${sim}` })
        const draw = (k: number) =>
          makeSample({ seed: sim * 2 + k + 1000, n: 200, kind: "irwin", loc: 10, scale: 3, levels: 0 })
        yield* feed(e, [draw(0), draw(1)])
        const results = yield* ab.getExperimentResults(e.id)
        if (results.decision.outcome === "winner") count++
      }
      return count
    }))
    // One-sided "better" at alpha 0.05 two-sided: expected ~2.5% winners; allow sampling noise.
    expect(winners / 200).toBeLessThanOrEqual(0.05)
  })

  it("decides: insufficient data, winner, SRM, guardrail", async () => {
    const outcome = await run(Effect.gen(function*() {
      const ab = yield* AbTests.AbTests
      const low = makeSample({ seed: 1, n: 300, kind: "irwin", loc: 10, scale: 1, levels: 0 })
      const high = makeSample({ seed: 2, n: 300, kind: "irwin", loc: 11, scale: 1, levels: 0 })
      const few = yield* started()
      yield* feed(few, [low.subarray(0, 50), high.subarray(0, 50)])
      const winner = yield* started()
      yield* feed(winner, [low, high])
      const srm = yield* started()
      yield* feed(srm, [low, high])
      yield* (yield* ExperimentStore.ExperimentStore).addExposures(srm.id, [1000, 100])
      const guard = yield* started({ metricGoals: { latency: { direction: "minimize", guardrail: true } } })
      yield* feed(guard, [low, high])
      yield* feed(guard, [low, high], "latency")
      return {
        few: (yield* ab.getExperimentResults(few.id)).decision,
        winner: (yield* ab.getExperimentResults(winner.id)).decision,
        winnerModel: winner.variants[1]!.modelId,
        srm: yield* ab.getExperimentResults(srm.id),
        guard: (yield* ab.getExperimentResults(guard.id)).decision
      }
    }))
    expect(outcome.few.outcome).toBe("insufficient_data")
    expect(outcome.winner).toMatchObject({ outcome: "winner", winnerModelId: outcome.winnerModel })
    expect(outcome.srm.decision.outcome).toBe("srm_detected")
    expect(outcome.srm.srm.pValue!).toBeLessThan(0.001)
    expect(outcome.guard.outcome).toBe("guardrail_violated")
  })

  it("reports an always-valid p-value that is never smaller than the fixed-horizon one", async () => {
    const results = await run(Effect.gen(function*() {
      const e = yield* started({ sequential: true, minSamplesPerVariant: 2 })
      yield* feed(e, [
        makeSample({ seed: 5, n: 500, kind: "irwin", loc: 10, scale: 1, levels: 0 }),
        makeSample({ seed: 6, n: 500, kind: "irwin", loc: 10.1, scale: 1, levels: 0 })
      ])
      return yield* (yield* AbTests.AbTests).getExperimentResults(e.id)
    }))
    const c = results.comparisons[0]!
    expect(c.sequentialPValue).not.toBeNull()
    expect(c.sequentialPValue!).toBeGreaterThanOrEqual(c.pValue)
  })

  it("reports the running minimum of the always-valid p-value across looks, so it never rises again", async () => {
    // Golden looks (generate_sequential.py): 1/Λ falls at the second look and rises at the third.
    const looks = await run(Effect.gen(function*() {
      const ab = yield* AbTests.AbTests
      const e = yield* started({ sequential: true, minSamplesPerVariant: 2 })
      const seen: Array<{ sequentialPValue: number | null; outcome: string }> = []
      for (const look of sequentialGolden.looks) {
        yield* feed(e, [look.control, look.treatment])
        const results = yield* ab.getExperimentResults(e.id)
        seen.push({ sequentialPValue: results.comparisons[0]!.sequentialPValue, outcome: results.decision.outcome })
      }
      return seen
    }))
    const expected = sequentialGolden.looks.map((l) => l.runningMinimum)
    looks.forEach((look, i) => expect(look.sequentialPValue!).toBeCloseTo(expected[i]!, 12))
    // The winner declared at the second look stays declared at the third.
    expect(looks.map((l) => l.outcome)).toEqual(["no_significant_difference", "winner", "winner"])
  })

  it("completes with the winner promoted to production, audited with the experiment", async () => {
    const { model, history, experiment } = await run(Effect.gen(function*() {
      const ab = yield* AbTests.AbTests
      const e = yield* started()
      yield* feed(e, [
        makeSample({ seed: 1, n: 300, kind: "irwin", loc: 10, scale: 1, levels: 0 }),
        makeSample({ seed: 2, n: 300, kind: "irwin", loc: 11, scale: 1, levels: 0 })
      ])
      const experiment = yield* ab.completeExperiment(e.id, { promoteWinner: true })
      const registry = yield* ModelRegistry.ModelRegistry
      return {
        experiment,
        model: yield* registry.getModel(e.variants[1]!.modelId),
        history: yield* registry.getHistory(e.variants[1]!.modelId)
      }
    }))
    expect(experiment.status).toBe("completed")
    expect(experiment.decision?.outcome).toBe("winner")
    expect(model.status).toBe("production")
    expect(history.at(-1)).toMatchObject({ to: "production", reason: `winner of experiment ${experiment.id}` })
  })

  it("counts exposures on the Clock's UTC day and reports them per day with the results", async () => {
    const results = await Effect.runPromise(Effect.provide(
      Effect.gen(function*() {
        yield* TestClock.setTime(Date.UTC(2030, 4, 1, 23, 0))
        const ab = yield* AbTests.AbTests
        const e = yield* started({ stickyAssignment: true })
        // New sticky users count one exposure each; reported exposures (local evaluation) count as sent.
        yield* ab.getModelAssignments(e.id, Array.from({ length: 10 }, (_, i) => `user-${i}`))
        yield* ab.recordExposures(e.id, [{ modelId: e.variants[1]!.modelId, count: 7 }])
        yield* TestClock.adjust("2 hours")
        yield* ab.recordExposures(e.id, [{ modelId: e.variants[0]!.modelId, count: 3 }])
        return yield* ab.getExperimentResults(e.id)
      }),
      Layer.merge(world(), TestClock.layer())
    ))
    const [first, second] = results.exposuresByDay
    expect(results.exposuresByDay.map((d) => d.day)).toEqual(["2030-05-01", "2030-05-02"])
    expect(first!.counts[0]! + first!.counts[1]!).toBe(17)
    expect(first!.counts[1]).toBeGreaterThanOrEqual(7)
    expect(second!.counts).toEqual([3, 0])
    expect(results.variants.map((v) => v.exposures)).toEqual([first!.counts[0]! + 3, first!.counts[1]!])
  })
})

describe("bandits", () => {
  it("shift traffic to the better arm after burn-in, keep a 1% floor, and are deterministic", async () => {
    const run1 = await run(Effect.gen(function*() {
      const ab = yield* AbTests.AbTests
      const e = yield* started({ mode: "bandit", seed: "bandit-seed" }, 3)
      const early = yield* ab.reweight(e.id)
      const rates = [0.05, 0.2, 0.06]
      yield* feed(
        e,
        rates.map((r, arm) =>
          Array.from({ length: 400 }, (_, i) => (((i * 7919 + arm * 31) % 1000) / 1000 < r ? 1 : 0))
        ),
        "revenue"
      )
      const after = yield* ab.reweight(e.id)
      return { early, after }
    }))
    expect(run1.early.banditHistory).toEqual([])
    const weights = run1.after.banditHistory.at(-1)!.weights
    expect(weights[1]!).toBeGreaterThan(0.9)
    expect(Math.min(...weights)).toBeGreaterThanOrEqual(0.0099)
    expect(weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12)
    const summaries = [0.05, 0.2, 0.06].map((p) => ({
      count: 400,
      mean: p,
      m2: 400 * p * (1 - p),
      min: 0,
      max: 1,
      shift: 0,
      shiftedMean: p
    }))
    expect(AbTests.thompsonWeights(summaries, true, "x")).toEqual(AbTests.thompsonWeights(summaries, true, "x"))
  })
})
