/**
 * Experiment results and the decision rule, tested directly on plain data: Welch comparisons and
 * the SRM check against scipy's values (test/golden), the always-valid p-value under repeated
 * looks, each rule of the decision, and the response schema against what computeResults returns.
 */
import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import {
  type Comparison,
  computeResults,
  experimentDecision,
  ExperimentResults,
  makeRandom,
  msprtPValue,
  sampleRatioMismatch,
  summarize,
  type Summary,
  summaryView,
  welchTTest
} from "../src/index.js"
import { sampleExperiment } from "../src/testing/index.js"
import bayesianGolden from "./golden/bayesian.json" with { type: "json" }
import { makeSample, type SampleSpec } from "./golden/samples.js"
import golden from "./golden/stats.json" with { type: "json" }

const close = (actual: number, expected: number, relative: number) =>
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(relative * Math.abs(expected) + 1e-12)

/** Counters of a two-variant experiment: metric `revenue` per variant, with exposures. */
const totals = (
  samples: ReadonlyArray<ArrayLike<number>>,
  exposures: ReadonlyArray<number> = samples.map(() => 0),
  metric = "revenue"
) => samples.map((s, i) => ({ exposures: exposures[i]!, metrics: { [metric]: summarize(s) } }))

const experiment = (overrides: Parameters<typeof sampleExperiment>[0] = {}) =>
  sampleExperiment({ targetMetric: "revenue", metricGoals: { revenue: { direction: "maximize" } }, ...overrides })

describe("comparisons", () => {
  it("match scipy's Welch test on the golden data", () => {
    for (const c of golden.welch) {
      const [control, treatment] = [makeSample(c.control as SampleSpec), makeSample(c.treatment as SampleSpec)]
      const results = computeResults(experiment({ minSamplesPerVariant: 2 }), totals([control, treatment]))
      const comparison = results.comparisons[0]!
      close(comparison.pValue, c.pValue, 1e-9)
      close(comparison.difference, c.difference, 1e-9)
      close(comparison.differenceInterval.lower, c.differenceInterval[0]!, 1e-9)
      close(comparison.differenceInterval.upper, c.differenceInterval[1]!, 1e-9)
      close(comparison.relativeLift!, c.relativeLift, 1e-9)
      // One treatment: Holm leaves its p-value as it is.
      expect(comparison.adjustedPValue).toBe(comparison.pValue)
    }
  })

  it("carry the Bayesian view in the metric's goal direction, as golden/generate_bayesian.py computes it", () => {
    // A summary with the golden moments: m2 is the sum of squared deviations, (n - 1) × variance.
    const summaryOf = ([n, mean, variance]: ReadonlyArray<number>): Summary => ({
      count: n!,
      mean: mean!,
      m2: variance! * (n! - 1),
      min: mean! - 1,
      max: mean! + 1,
      shift: mean!,
      shiftedMean: 0
    })
    for (const c of bayesianGolden.cases.filter((c) => !("prior" in c))) {
      const direction = c.maximize ? "maximize" : "minimize"
      const results = computeResults(
        experiment({ alpha: c.alpha, metricGoals: { revenue: { direction } }, minSamplesPerVariant: 2 }),
        [
          { exposures: 0, metrics: { revenue: summaryOf(c.control) } },
          { exposures: 0, metrics: { revenue: summaryOf(c.treatment) } }
        ]
      )
      const bayesian = results.comparisons[0]!.bayesian!
      close(bayesian.chanceToBeatControl, c.closed.chanceToBeatControl, 1e-12)
      close(bayesian.expectedLift, c.closed.expectedLift, 1e-12)
      close(bayesian.riskOfChoosingTreatment, c.closed.riskOfChoosingTreatment, 1e-9)
      close(bayesian.riskOfChoosingControl, c.closed.riskOfChoosingControl, 1e-9)
      close(bayesian.liftCredibleInterval.lower, c.closed.lower, 1e-12)
      close(bayesian.liftCredibleInterval.upper, c.closed.upper, 1e-12)
    }
    const zeroControl = computeResults(experiment({ minSamplesPerVariant: 2 }), totals([[-1, 1, 0], [1, 2, 3]]))
    expect(zeroControl.comparisons[0]!.bayesian).toBeNull()
  })

  it("Holm-adjust across treatments and judge direction by the metric's goal", () => {
    const base = { seed: 3, n: 300, kind: "irwin", scale: 1, levels: 0 } as const
    const [control, lower, higher] = [10, 9.7, 10.3].map((loc, i) => makeSample({ ...base, seed: i + 3, loc }))
    const two = sampleExperiment().variants
    const variants = [...two, { ...two[1]!, modelId: "01ARZ3NDEKTSV4RRFFQ69G5FAV" }]
      .map((v, i) => ({ ...v, trafficPct: [34, 33, 33][i]! }))
    const minimize = computeResults(
      experiment({ variants, metricGoals: { revenue: { direction: "minimize" } }, minSamplesPerVariant: 2 }),
      totals([control!, lower!, higher!])
    )
    // Holm with two p-values: the smaller doubled, the larger never below it.
    const [p1, p2] = minimize.comparisons.map((c) => c.pValue) as [number, number]
    const first = Math.min(1, 2 * Math.min(p1, p2))
    const holm = p1 <= p2 ? [first, Math.max(first, p2)] : [Math.max(first, p1), first]
    expect(minimize.comparisons.map((c) => c.adjustedPValue)).toEqual(holm)
    // Minimizing: the lower mean is the better one.
    expect(minimize.comparisons.map((c) => [c.significantlyBetter, c.significantlyWorse])).toEqual([
      [true, false],
      [false, true]
    ])
  })
})

describe("sample-ratio mismatch", () => {
  it("matches scipy's chi-square goodness of fit", () => {
    for (const c of golden.chisquare) {
      const total = c.expected.reduce((a, b) => a + b, 0)
      const check = sampleRatioMismatch(c.observed, c.expected.map((e) => e / total), 0.001)
      close(check.pValue!, c.pValue, 1e-9)
      expect(check.detected).toBe(c.pValue < 0.001)
    }
  })

  it("is not computed before any exposure", () => {
    expect(sampleRatioMismatch([0, 0], [0.5, 0.5], 0.001)).toEqual({ pValue: null, detected: false })
  })
})

describe("the always-valid p-value", () => {
  it("is 1 for no difference and shrinks as the difference grows", () => {
    expect(msprtPValue(0, 0.01, 1)).toBe(1)
    const ps = [0.05, 0.1, 0.2, 0.4].map((d) => msprtPValue(d, 0.001, 1))
    ps.slice(1).forEach((p, i) => expect(p).toBeLessThan(ps[i]!))
    expect(msprtPValue(0.3, 0, 1)).toBe(0)
  })

  it("keeps false positives under alpha when an A/A test is looked at 20 times", () => {
    const random = makeRandom("msprt-aa")
    let sequential = 0
    let naive = 0
    for (let sim = 0; sim < 300; sim++) {
      let a: ReadonlyArray<number> = []
      let b: ReadonlyArray<number> = []
      let rejectedSequential = false
      let rejectedNaive = false
      for (let look = 0; look < 20; look++) {
        a = [...a, ...Array.from({ length: 50 }, () => random.normal(10, 2))]
        b = [...b, ...Array.from({ length: 50 }, () => random.normal(10, 2))]
        const [sa, sb] = [summarize(a), summarize(b)]
        const va = sa.m2 / (sa.count - 1)
        const vb = sb.m2 / (sb.count - 1)
        const pooled = ((sa.count - 1) * va + (sb.count - 1) * vb) / (sa.count + sb.count - 2)
        if (msprtPValue(sb.mean - sa.mean, va / sa.count + vb / sb.count, pooled) < 0.05) rejectedSequential = true
        if (welchTTest(sb, sa).pValue < 0.05) rejectedNaive = true
      }
      if (rejectedSequential) sequential++
      if (rejectedNaive) naive++
    }
    expect(sequential / 300).toBeLessThanOrEqual(0.05)
    // Peeking at the fixed-horizon p-value is what the sequential one protects against.
    expect(naive / 300).toBeGreaterThan(0.1)
  })
})

describe("the decision", () => {
  const comparison = (modelId: string, metric: string, overrides: Partial<Comparison> = {}): Comparison => ({
    modelId,
    metric,
    difference: 1,
    differenceInterval: { lower: 0.5, upper: 1.5 },
    relativeLift: 0.1,
    relativeLiftInterval: { lower: 0.05, upper: 0.15 },
    pValue: 0.001,
    adjustedPValue: 0.002,
    sequentialPValue: null,
    bayesian: null,
    significantlyBetter: true,
    significantlyWorse: false,
    ...overrides
  })
  const rules = { targetMetric: "revenue", minSamplesPerVariant: 100, alpha: 0.05 }
  const evidence = {
    counts: [100, 100, 100],
    exposures: [100, 100, 100],
    srm: { pValue: 0.5, detected: false },
    srmThreshold: 0.001,
    comparisons: [
      comparison("b", "revenue", { difference: 1 }),
      comparison("c", "revenue", { difference: -2, significantlyBetter: true })
    ],
    guardrails: [] as Array<Comparison>
  }

  it("applies the first rule that holds, in the documented order", () => {
    expect(experimentDecision(rules, { ...evidence, counts: [100, 99, 100], srm: { pValue: 0, detected: true } }))
      .toMatchObject({ outcome: "insufficient_data", winnerModelId: null })
    expect(experimentDecision(rules, { ...evidence, srm: { pValue: 1e-6, detected: true } }))
      .toMatchObject({ outcome: "srm_detected", reason: expect.stringContaining("p = 1.00e-6 < 0.001") })
    const guarded = { ...evidence, guardrails: [comparison("c", "latency", { significantlyWorse: true })] }
    expect(experimentDecision(rules, guarded)).toEqual({
      outcome: "guardrail_violated",
      winnerModelId: null,
      reason: "c wins on revenue but is significantly worse on latency"
    })
    // The winner is the largest significant improvement (|difference|), here c.
    expect(experimentDecision(rules, evidence)).toEqual({
      outcome: "winner",
      winnerModelId: "c",
      reason: "c is better on revenue (adjusted p = 2.00e-3 < 0.05)"
    })
    const none = evidence.comparisons.map((c) => ({ ...c, significantlyBetter: false }))
    expect(experimentDecision(rules, { ...evidence, comparisons: none }).outcome).toBe("no_significant_difference")
  })

  it("ignores a guardrail broken by a treatment that is not the winner", () => {
    const guarded = { ...evidence, guardrails: [comparison("b", "latency", { significantlyWorse: true })] }
    expect(experimentDecision(rules, guarded)).toMatchObject({ outcome: "winner", winnerModelId: "c" })
  })
})

describe("results", () => {
  it("summarize each metric with n, mean, sd and a t interval, or less below two values", () => {
    const one: Summary = summarize([4])
    expect(summaryView(undefined, 0.05)).toEqual({ n: 0, mean: Number.NaN, sd: null, interval: null })
    expect(summaryView(one, 0.05)).toEqual({ n: 1, mean: 4, sd: null, interval: null })
    const view = summaryView(summarize([1, 2, 3, 4, 5]), 0.05)
    // scipy.stats.t.interval(0.95, 4, loc=3, scale=sqrt(2.5)/sqrt(5))
    expect(view.interval!.lower).toBeCloseTo(1.0367568385224428, 12)
    expect(view.interval!.upper).toBeCloseTo(4.963243161477557, 12)
  })

  it("have exactly the shape of the ExperimentResults schema, through JSON", () => {
    const low = makeSample({ seed: 1, n: 300, kind: "irwin", loc: 10, scale: 1, levels: 0 })
    const high = makeSample({ seed: 2, n: 300, kind: "irwin", loc: 11, scale: 1, levels: 0 })
    const e = experiment({
      metricGoals: { revenue: { direction: "maximize" }, latency: { direction: "minimize", guardrail: true } },
      sequential: true,
      banditHistory: [{ at: "2024-01-01T00:00:00.000Z", weights: [0.5, 0.5] }]
    })
    const results = computeResults(e, [
      { exposures: 300, metrics: { revenue: summarize(low), latency: summarize(low) } },
      { exposures: 300, metrics: { revenue: summarize(high), latency: summarize(high) } }
    ])
    const decoded = Schema.decodeUnknownSync(ExperimentResults)(JSON.parse(JSON.stringify(results)), {
      onExcessProperty: "error"
    })
    expect(decoded).toEqual(results)
    expect(results.guardrails).toHaveLength(1)
    expect(results.decision.outcome).toBe("guardrail_violated")
  })
})
