/**
 * Hostile input to the pure parts and the memory stores (issue 11, items 3 and 6): values whose
 * sums overflow or whose variances underflow, prototype names as row keys, categories and
 * metric names, deep nesting and batches large enough to overflow the stack when spread.
 */
import { Effect, Result, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { chiSquareTest } from "../src/drift/tests/ChiSquare.js"
import { summarizeObservations } from "../src/experiments/Recording.js"
import {
  addValue,
  columnsOf,
  computeResults,
  countCategories,
  decodeInput,
  DriftStore,
  emptySummary,
  excessiveNesting,
  ExperimentResults,
  MAX_JSON_DEPTH,
  MAX_VALUE_MAGNITUDE,
  nextBanditWeights,
  observationIssues,
  PipelineStore,
  sampleIssues,
  summarize,
  type Summary,
  summaryView,
  type VariantTotals,
  welchTTest
} from "../src/index.js"
import { sampleExperiment } from "../src/testing/index.js"

const experiment = sampleExperiment({
  minSamplesPerVariant: 2,
  variants: [
    { modelId: "01HZX3Q4M8N2P5R7T9V0W1Y2Z3", isControl: true, trafficPct: 50 },
    { modelId: "01HZX3Q4M8N2P5R7T9V0W1Y2Z4", isControl: false, trafficPct: 50 }
  ]
})
const [control, treatment] = experiment.variants.map((v) => v.modelId) as [string, string]
const totals = (a: Summary, b: Summary): VariantTotals => [
  { exposures: 0, metrics: { ctr: a } },
  { exposures: 0, metrics: { ctr: b } }
]
/** The results must also encode through the response schema (what the server sends). */
const encodes = (results: ReturnType<typeof computeResults>) =>
  expect(() => Schema.encodeSync(ExperimentResults)(results)).not.toThrow()

describe("metric values", () => {
  it("are refused beyond ±1e120, naming the observation, the field and the limit", () => {
    const refused = summarizeObservations(experiment, [
      { modelId: control, metric: "ctr", value: 1e308 },
      { modelId: treatment, metric: "ctr", value: -1e121 },
      { modelId: treatment, metric: "ctr", value: 1e120 }
    ])
    expect(Result.isFailure(refused)).toBe(true)
    const issues = Result.isFailure(refused) ? refused.failure.issues : []
    expect(issues.map((i) => i.path)).toEqual([[0, "value"], [1, "value"]])
    expect(issues[0]!.message).toContain(String(MAX_VALUE_MAGNITUDE))
  })

  it("at the bound give finite results for A/B (plain and sequential) and bandit reweighting", () => {
    const values = [1e120, -1e120, 1e120, -1e120, 5e119, -7e119]
    const a = summarize(values)
    const b = summarize(values.map((v, i) => (i % 2 ? v : -v / 3)))
    for (const sequential of [false, true]) {
      const results = computeResults({ ...experiment, sequential }, totals(a, b))
      const comparison = results.comparisons[0]!
      expect(comparison.notComputable).toBeUndefined()
      expect(Number.isFinite(comparison.pValue)).toBe(true)
      expect(Number.isFinite(comparison.differenceInterval.lower)).toBe(true)
      if (sequential) expect(Number.isFinite(comparison.sequentialPValue!)).toBe(true)
      encodes(results)
    }
    const big = Array.from({ length: 102 }, (_, i) => (i % 2 ? 1e120 : -1e120))
    const weights = nextBanditWeights(experiment, [summarize(big), summarize(big.slice(1))])
    expect(weights!.every(Number.isFinite)).toBe(true)
  })

  it("so small that their variances are subnormal still give results (Welch's df does not become 0/0)", () => {
    const a = summarize([1e-160, 2e-160, 3e-160, 1e-160])
    const b = summarize([2e-160, 4e-160, 6e-160, 2e-160])
    const results = computeResults(experiment, totals(a, b))
    expect(Number.isFinite(results.comparisons[0]!.pValue)).toBe(true)
    encodes(results)
  })

  it("Welch's test is unchanged by scaling by a power of two (the fallback keeps it scale-free)", () => {
    const a = [10.2, 9.7, 10.9, 10.1, 9.5, 10.4]
    const b = [11.1, 10.6, 11.9, 10.8, 11.4]
    const plain = welchTTest(b, a)
    for (const scale of [2 ** -500, 2 ** 380]) {
      const scaled = welchTTest(b.map((x) => x * scale), a.map((x) => x * scale))
      expect(scaled.df).toBeCloseTo(plain.df, 9)
      expect(scaled.pValue).toBeCloseTo(plain.pValue, 12)
    }
  })

  it("a stored summary that is not finite is reported as not computable, never thrown", () => {
    // What 1e308 and -1e308 made of a summary before the bound: the deviation overflowed.
    const broken = addValue(addValue(emptySummary, 1e308), -1e308)
    expect(Number.isFinite(broken.m2)).toBe(false)
    const fine = summarize([1, 2, 3])
    for (const [a, b] of [[broken, fine], [fine, broken], [broken, broken]] as const) {
      const results = computeResults(experiment, totals(a, b))
      expect(results.comparisons[0]!.notComputable).toContain("not finite")
      expect(results.comparisons[0]!.significantlyBetter).toBe(false)
      expect(results.decision.outcome).toBe("no_significant_difference")
      encodes(results)
    }
    expect(summaryView(broken, 0.05)).toMatchObject({ n: 2, sd: null, interval: null })
    expect(summaryView(broken, 0.05).notComputable).toContain("not finite")
    expect(nextBanditWeights(experiment, [broken, fine].map((s) => ({ ...s, count: 1000 })))).toBeNull()
  })

  it("finite stored summaries whose difference overflows are not computable, never a winner", () => {
    const high = summarize([1e308, 1e308, 1e308])
    const low = summarize([-1e308, -1e308, -1e308])
    const results = computeResults(experiment, totals(low, high))
    expect(results.comparisons[0]!.notComputable).toContain("not finite")
    expect(results.decision.outcome).toBe("no_significant_difference")
    encodes(results)
  })

  it("a metric named like a prototype property that was never recorded is absent, not Object's", () => {
    const results = computeResults({ ...experiment, targetMetric: "constructor" }, totals(emptySummary, emptySummary))
    expect(results.comparisons).toEqual([])
    expect(results.decision.outcome).toBe("insufficient_data")
  })
})

describe("drift rows and categories", () => {
  const monitor = {
    id: "m",
    modelId: null,
    features: ["constructor", "toString", "__proto__"].map((name) => ({
      name,
      kind: "feature" as const,
      type: "numeric" as const
    })),
    settings: {} as never,
    createdAt: "2026-01-01T00:00:00.000Z"
  }

  it("read prototype names as ordinary columns", () => {
    const rows = [JSON.parse(`{"constructor":1,"toString":2,"__proto__":3}`), JSON.parse(`{"__proto__":4}`)]
    const columns = columnsOf(rows)
    expect(Object.entries(columns)).toEqual([["constructor", [1]], ["toString", [2]], ["__proto__", [3, 4]]])
    expect(observationIssues(monitor, columns, (f, i) => [f, i])).toEqual([])
  })

  it("refuse undeclared prototype names and numbers beyond the bound by path", () => {
    const values = JSON.parse(`{"hasOwnProperty":[1],"constructor":[1e300]}`)
    expect(observationIssues(monitor, values, (f, i) => [f, i]).map((i) => i.path)).toEqual([
      ["hasOwnProperty"],
      ["constructor", 0]
    ])
  })

  it("count categories named like prototype properties", () => {
    const counts = countCategories(["toString", "constructor", "__proto__", "__proto__"])
    expect(Object.entries(counts)).toEqual([["toString", 1], ["constructor", 1], ["__proto__", 2]])
    const baseline = { counts: { a: 5, b: 5 } } as never
    const result = chiSquareTest.run(baseline, countCategories(["a", "toString", "hasOwnProperty", "b"]), {} as never)
    expect(Number.isFinite(result!.pValue)).toBe(true)
  })
})

describe("large batches", () => {
  it("append to the memory stores without spreading into arguments (130,000 values, 200,000 samples)", async () => {
    const drift = Effect.runSync(DriftStore.makeMemory)
    const values = new Array<number>(130_000).fill(1)
    await Effect.runPromise(drift.pushWindows("m", { x: values }, 1_000_000))
    expect((await Effect.runPromise(drift.window("m", "x"))).length).toBe(130_000)
    await Effect.runPromise(drift.pushWindows("m", { x: values }, 200_000))
    expect((await Effect.runPromise(drift.window("m", "x"))).length).toBe(200_000)

    const pipelines = Effect.runSync(PipelineStore.makeMemory)
    const sample = { sampleId: "s", features: { a: 1 }, label: 1, weight: 1, receivedAt: "2026-01-01T00:00:00Z" }
    await Effect.runPromise(pipelines.addValidation("p", new Array(200_000).fill(sample), 150_000))
    expect((await Effect.runPromise(pipelines.validation("p"))).length).toBe(150_000)
  })
})

describe("samples", () => {
  it("bound labels, weights and feature values, and read features as own properties", () => {
    const issues = sampleIssues("linear", [
      { sampleId: "a", features: JSON.parse(`{"constructor":1,"__proto__":2}`), label: 1 },
      { sampleId: "b", features: { x: 1e300 }, label: -1e200, weight: 1e130 }
    ])
    expect(issues.map((i) => i.path)).toEqual([[1, "label"], [1, "weight"], [1, "features", "x"]])
    expect(issues[0]!.message).toContain(String(MAX_VALUE_MAGNITUDE))
  })
})

describe("nesting", () => {
  it("is measured in one pass, ignoring brackets inside strings", () => {
    expect(excessiveNesting("[".repeat(MAX_JSON_DEPTH) + "]".repeat(MAX_JSON_DEPTH))).toBe(-1)
    expect(excessiveNesting("[".repeat(MAX_JSON_DEPTH + 1))).toBe(MAX_JSON_DEPTH)
    expect(excessiveNesting(`{"a":"${"[{".repeat(500)}\\"["}`)).toBe(-1)
    expect(excessiveNesting("[".repeat(100_000))).toBe(MAX_JSON_DEPTH)
  })

  it("beyond the stack's reach is a ValidationError from decodeInput, never a thrown RangeError", () => {
    const decode = decodeInput(Schema.Struct({ a: Schema.Number }), "body")
    let deep: unknown = 1
    for (let i = 0; i < 100_000; i++) deep = [deep]
    const exit = Effect.runSyncExit(decode({ a: deep }))
    expect(exit._tag).toBe("Failure")
    expect(JSON.stringify(exit)).not.toMatch(/call stack/i)
  })
})

describe("messages", () => {
  it("describe a bad value without walking it, so a deep or huge one cannot overflow or flood", () => {
    let deep: unknown = 1
    for (let i = 0; i < 100_000; i++) deep = [deep]
    const issues = sampleIssues("linear", [{ sampleId: "a", features: { x: deep as number }, label: 1 }])
    expect(issues).toEqual([{ path: [0, "features", "x"], message: expect.stringContaining("got an array") }])
    const long = sampleIssues("linear", [{ sampleId: "a", features: { x: "y".repeat(100_000) as never }, label: 1 }])
    expect(long[0]!.message.length).toBeLessThan(200)
  })
})
