/**
 * Per-experiment Bayesian priors through the A/B tests use case (memory layers): an experiment
 * created with `bayesianPrior` (every metric) or `metricPriors` (one metric) reports the posterior
 * of that prior in its results, checked against golden/generate_bayesian.py's proper-prior cases:
 * Monte-Carlo integration over 2,000,000 posterior draws (within 5 standard errors, as
 * bayesian.test.ts) and scipy's closed forms. Each arm's values are built with exactly the case's
 * n, mean and variance, so the recorded summaries are the case's moments. Without a prior the
 * results keep the flat prior; a bad prior is refused naming the field.
 */
import { Effect, Layer, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { AbTests, CreateExperimentInput, ExperimentStore, MetricsSink, ModelRegistry } from "../src/index.js"
import { streamOf } from "../src/testing/index.js"
import golden from "./golden/bayesian.json" with { type: "json" }

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

/**
 * n values with exactly this mean and sample variance: pairs mean ± h, with h² = variance (n − 1) / n
 * for even n; for odd n one value at the mean and h² = variance (the squares sum to variance (n − 1)).
 */
const valuesWith = ([n, mean, variance]: ReadonlyArray<number>) => {
  const odd = n! % 2 === 1
  const half = Math.sqrt(odd ? variance! : (variance! * (n! - 1)) / n!)
  const pairs = Array.from({ length: n! - (odd ? 1 : 0) }, (_, i) => (i % 2 === 0 ? mean! + half : mean! - half))
  return odd ? [mean!, ...pairs] : pairs
}

const priorCases = golden.cases.filter((c) => "prior" in c && c.prior !== undefined)

/** The case's results through the use case: the experiment created with `extra`, both arms recorded. */
const resultsOf = (c: (typeof golden.cases)[number], extra: Partial<CreateExperimentInput>) =>
  run(Effect.gen(function*() {
    const registry = yield* ModelRegistry.ModelRegistry
    const name = `prior-${Math.random().toString(36).slice(2, 8)}`
    const ids = yield* Effect.forEach(
      [0, 1],
      (i) =>
        registry.registerModel(
          { name, version: String(i), algorithm: "a", framework: "f" },
          streamOf([new Uint8Array([i])])
        )
          .pipe(Effect.tap((m) => registry.promoteModel(m.id, "testing")), Effect.map((m) => m.id))
    )
    const ab = yield* AbTests.AbTests
    const created = yield* ab.createExperiment({
      name: "prior",
      targetMetric: "revenue",
      alpha: c.alpha,
      metricGoals: { revenue: { direction: c.maximize ? "maximize" : "minimize" } },
      variants: ids.map((modelId, i) => ({ modelId, isControl: i === 0, trafficPct: 50 })),
      ...extra
    } as CreateExperimentInput)
    yield* ab.startExperiment(created.id)
    const observations = [c.control, c.treatment].flatMap((arm, i) =>
      valuesWith(arm).map((value) => ({ modelId: ids[i]!, metric: "revenue", value }))
    )
    yield* ab.recordMetrics(created.id, observations)
    return (yield* ab.getExperimentResults(created.id)).comparisons[0]!.bayesian!
  }))

describe("per-experiment Bayesian priors in the results", () => {
  it("has golden cases with proper priors", () => {
    expect(priorCases.length).toBeGreaterThanOrEqual(2)
  })

  it.each(priorCases.map((c, i) => [i, c] as const))(
    "reports the posterior of the experiment's prior (case %i): Monte-Carlo and closed forms",
    async (_i, c) => {
      const prior = { mean: c.prior![0]!, stddev: Math.sqrt(c.prior![1]!) }
      for (const extra of [{ bayesianPrior: prior }, { metricPriors: { revenue: prior } }]) {
        const bayesian = await resultsOf(c, extra)
        const floor = 1 / golden.draws
        for (const key of ["chanceToBeatControl", "riskOfChoosingTreatment", "riskOfChoosingControl"] as const) {
          const [estimate, se] = c.mc[key]
          expect(Math.abs(bayesian[key] - estimate!), key).toBeLessThanOrEqual(5 * se! + floor)
          expect(Math.abs(bayesian[key] - c.closed[key]) / Math.abs(c.closed[key]), key).toBeLessThan(1e-6)
        }
        expect(bayesian.liftCredibleInterval.lower).toBeGreaterThanOrEqual(c.mc.lower[1]!)
        expect(bayesian.liftCredibleInterval.lower).toBeLessThanOrEqual(c.mc.lower[2]!)
        expect(bayesian.liftCredibleInterval.upper).toBeGreaterThanOrEqual(c.mc.upper[1]!)
        expect(bayesian.liftCredibleInterval.upper).toBeLessThanOrEqual(c.mc.upper[2]!)
        expect(Math.abs(bayesian.expectedLift - c.closed.expectedLift) / Math.abs(c.closed.expectedLift))
          .toBeLessThan(1e-6)
      }
      // The flat prior (no prior set) gives another posterior: the prior is what moved it.
      const flat = await resultsOf(c, {})
      expect(Math.abs(flat.expectedLift - c.closed.expectedLift)).toBeGreaterThan(1e-4)
    }
  )

  it("refuses a prior without spread or beyond the bound, naming the field", () => {
    const decode = Schema.decodeUnknownExit(CreateExperimentInput)
    const base = {
      name: "p",
      targetMetric: "revenue",
      variants: [{ modelId: "01K0000000000000000000000A", isControl: true, trafficPct: 100 }]
    }
    expect(String(decode({ ...base, bayesianPrior: { mean: 0, stddev: 0 } }))).toMatch(/above 0[\s\S]*stddev/)
    expect(String(decode({ ...base, metricPriors: { revenue: { mean: 5000, stddev: 1 } } }))).toMatch(
      /between -1000 and 1000[\s\S]*revenue[\s\S]*mean/
    )
  })
})
