/**
 * CUPED, ratio metrics and capping through the A/B tests use case (memory layers): observations
 * with covariates and denominators recorded in batches come out in the results equal to the
 * golden values of golden/generate_paired.py (statsmodels OLS, scipy Welch, numpy delta method);
 * caps clamp values at recording; bad covariates, denominators and caps are refused naming the
 * field, and nothing is stored.
 */
import { Effect, Layer, Schema } from "effect"
import { describe, expect, it } from "vitest"
import {
  AbTests,
  CreateExperimentInput,
  type Experiment,
  ExperimentStore,
  MetricsSink,
  ModelRegistry
} from "../src/index.js"
import { streamOf } from "../src/testing/index.js"
import golden from "./golden/paired.json" with { type: "json" }

type Services =
  | AbTests.AbTests
  | ModelRegistry.ModelRegistry
  | MetricsSink.MetricsSink
  | ExperimentStore.ExperimentStore

const run = <A, E>(program: Effect.Effect<A, E, Services>) =>
  Effect.runPromise(
    Effect.provide(
      program,
      AbTests.layer({ ...AbTests.defaultAbTestSettings, minSamplesPerVariant: 2 }).pipe(
        Layer.provideMerge(ExperimentStore.layerMemory),
        Layer.provideMerge(ModelRegistry.layerMemory())
      )
    ) as Effect.Effect<A, E>
  )

const started = (extra: Partial<CreateExperimentInput> = {}) =>
  Effect.gen(function*() {
    const registry = yield* ModelRegistry.ModelRegistry
    const name = `m-${Math.random().toString(36).slice(2, 8)}`
    const ids = yield* Effect.forEach([0, 1], (i) =>
      registry.registerModel(
        { name, version: String(i), algorithm: "a", framework: "f" },
        streamOf([new Uint8Array([i])])
      )
        .pipe(
          Effect.tap((m) => registry.promoteModel(m.id, "testing")),
          Effect.map((m) => m.id)
        ))
    const ab = yield* AbTests.AbTests
    const experiment = yield* ab.createExperiment({
      name: "paired",
      targetMetric: "revenue",
      variants: ids.map((modelId, i) => ({ modelId, isControl: i === 0, trafficPct: 50 })),
      ...extra
    })
    return yield* ab.startExperiment(experiment.id)
  })

type Arm = { readonly x: ReadonlyArray<number>; readonly y: ReadonlyArray<number> }

/** Both arms' pairs as observations, in batches of 250 (so stored summaries are merges). */
const record = (e: Experiment, arms: readonly [Arm, Arm], field: "covariate" | "denominator", metric: string) =>
  Effect.gen(function*() {
    const ab = yield* AbTests.AbTests
    const all = arms.flatMap((arm, v) =>
      arm.y.map((value, i) => ({ modelId: e.variants[v]!.modelId, metric, value, [field]: arm.x[i]! }))
    )
    for (let from = 0; from < all.length; from += 250) yield* ab.recordMetrics(e.id, all.slice(from, from + 250))
  })

const relativeError = (actual: number, expected: number) => Math.abs(actual - expected) / Math.abs(expected)

describe("CUPED and ratio metrics in the results", () => {
  it("reports the CUPED-adjusted comparison of statsmodels' OLS, beside the unadjusted one", async () => {
    const c = golden.cuped[0]!
    const results = await run(Effect.gen(function*() {
      const e = yield* started({ alpha: c.alpha })
      yield* record(e, [c.control, c.treatment], "covariate", "revenue")
      return yield* (yield* AbTests.AbTests).getExperimentResults(e.id)
    }))
    expect(results.covariateAdjusted).toHaveLength(1)
    const adjusted = results.covariateAdjusted[0]!
    expect(adjusted.metric).toBe("revenue")
    expect([adjusted.treatmentCount, adjusted.controlCount]).toEqual([c.treatment.y.length, c.control.y.length])
    expect(relativeError(adjusted.difference, c.expected.estimate)).toBeLessThan(1e-9)
    expect(relativeError(adjusted.theta, c.expected.theta)).toBeLessThan(1e-9)
    expect(relativeError(adjusted.pValue, c.expected.pValue)).toBeLessThan(1e-8)
    expect(relativeError(adjusted.differenceInterval.lower, c.expected.lower)).toBeLessThan(1e-9)
    expect(relativeError(adjusted.varianceReduction, c.expected.varianceReduction)).toBeLessThan(1e-9)
    expect(adjusted.significantlyBetter).toBe(true)
    // The unadjusted comparison stays, on the same values.
    expect(relativeError(results.comparisons[0]!.difference, c.expected.unadjustedDifference)).toBeLessThan(1e-9)
    expect(results.ratioMetrics).toEqual([])
  })

  it("reports ratio metrics with numpy's delta-method errors", async () => {
    const c = golden.ratios[1]!
    const results = await run(Effect.gen(function*() {
      const e = yield* started({ alpha: c.alpha })
      yield* record(e, [c.control, c.treatment], "denominator", "revenue_per_order")
      return yield* (yield* AbTests.AbTests).getExperimentResults(e.id)
    }))
    const ratio = results.ratioMetrics[0]!
    expect(ratio.metric).toBe("revenue_per_order")
    for (
      const [actual, expected] of [
        [ratio.controlRatio, c.expected.ratioControl],
        [ratio.treatmentRatio, c.expected.ratioTreatment],
        [ratio.controlStandardError, c.expected.seControl],
        [ratio.treatmentStandardError, c.expected.seTreatment],
        [ratio.pValue, c.expected.pValue],
        [ratio.differenceInterval.upper, c.expected.upper],
        [ratio.relativeLift!, c.expected.relativeLift]
      ] as const
    ) expect(relativeError(actual, expected)).toBeLessThan(1e-9)
    // p = 0.021 < alpha 0.1, and the treatment's ratio is higher.
    expect(ratio.significantlyBetter).toBe(true)
    expect(results.covariateAdjusted).toEqual([])
  })

  it("says why a ratio cannot be computed (a control whose denominators are all 0)", async () => {
    const results = await run(Effect.gen(function*() {
      const e = yield* started()
      yield* record(e, [{ x: [0, 0, 0], y: [1, 2, 3] }, { x: [1, 2, 3], y: [1, 2, 3] }], "denominator", "clicks")
      return yield* (yield* AbTests.AbTests).getExperimentResults(e.id)
    }))
    expect(results.ratioMetrics[0]!.notComputable).toMatch(/denominator/)
    expect(results.ratioMetrics[0]!.significantlyBetter).toBe(false)
  })
})

describe("capping (winsorization)", () => {
  it("clamps values and covariates to the metric's cap at recording, and the results say so", async () => {
    const caps = { revenue: { upper: 10, lower: 0 } }
    const { counters, results } = await run(Effect.gen(function*() {
      const e = yield* started({ metricCaps: caps })
      const ab = yield* AbTests.AbTests
      const [control, treatment] = e.variants.map((v) => v.modelId)
      yield* ab.recordMetrics(e.id, [
        { modelId: control!, metric: "revenue", value: -5, covariate: 50 },
        { modelId: control!, metric: "revenue", value: 5, covariate: 5 },
        { modelId: control!, metric: "revenue", value: 500, covariate: -1 },
        { modelId: treatment!, metric: "revenue", value: 3 },
        // Not capped: another metric.
        { modelId: treatment!, metric: "latency", value: 500 }
      ])
      return {
        counters: yield* (yield* ExperimentStore.ExperimentStore).counters(e.id, 2),
        results: yield* ab.getExperimentResults(e.id)
      }
    }))
    const control = counters.variants[0]!
    expect(control.metrics.revenue).toMatchObject({ count: 3, min: 0, max: 10, mean: 5 })
    const pairs = control.covariatePairs!.revenue!
    expect(pairs.shiftX + pairs.shiftedMeanX).toBe(5) // covariates 10, 5, 0
    expect(counters.variants[1]!.metrics.latency).toMatchObject({ max: 500 })
    expect(results.metricCaps).toEqual(caps)
  })

  it("refuses a cap whose lower bound is above the upper one, or non-finite, naming the field", () => {
    const base = {
      name: "n",
      targetMetric: "revenue",
      variants: [{ modelId: "01ARZ3NDEKTSV4RRFFQ69G5FAV", isControl: true, trafficPct: 100 }]
    }
    const messages = (metricCaps: unknown) => {
      const decoded = Schema.decodeUnknownExit(CreateExperimentInput)({ ...base, metricCaps }, { errors: "all" })
      return String(decoded)
    }
    expect(messages({ revenue: { upper: 1, lower: 2 } })).toMatch(/must be at most upper/)
    expect(messages({ revenue: { upper: Number.POSITIVE_INFINITY } })).toMatch(/upper/)
    expect(messages({ "bad name!": { upper: 1 } })).toMatch(/bad name/)
    expect(messages({ revenue: { upper: 1, lower: 0 } })).not.toMatch(/Failure/)
  })
})

describe("bad covariates and denominators", () => {
  it("refuses them naming each field and limit, storing nothing of the batch", async () => {
    const { error, counters } = await run(Effect.gen(function*() {
      const e = yield* started()
      const ab = yield* AbTests.AbTests
      const modelId = e.variants[1]!.modelId
      const error = yield* Effect.flip(ab.recordMetrics(e.id, [
        { modelId, metric: "revenue", value: 1, covariate: 2 },
        { modelId, metric: "revenue", value: 1, covariate: Number.NaN },
        { modelId, metric: "revenue", value: 1, denominator: -1 },
        { modelId, metric: "revenue", value: 1, denominator: 1e300 },
        { modelId, metric: "revenue", value: 1, denominator: 1, covariate: 1 }
      ]))
      return { error, counters: yield* (yield* ExperimentStore.ExperimentStore).counters(e.id, 2) }
    }))
    const issues = (error as unknown as { issues: Array<{ path: Array<unknown>; message: string }> }).issues
    expect(issues.map((i) => i.path.join("."))).toEqual([
      "1.covariate",
      "2.denominator",
      "3.denominator",
      "4.denominator"
    ])
    expect(issues[0]!.message).toMatch(/finite number from -1e\+120 to 1e\+120, got NaN/)
    expect(issues[1]!.message).toMatch(/at least 0, got -1/)
    expect(issues[3]!.message).toMatch(/covariate/)
    expect(counters.variants.every((v) => Object.keys(v.metrics).length === 0 && v.covariatePairs === undefined))
      .toBe(true)
  })
})
