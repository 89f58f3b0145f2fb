/**
 * The binned and binary drift tests against scipy and statsmodels (test/golden/generate_binned.py
 * -> binned.json): Jensen-Shannon, Kullback-Leibler and Hellinger on frozen bins and category
 * shares, the two-proportion z-test and Fisher's exact test, each within 1e-12 relative unless
 * noted. Distances and Fisher p-values are also checked against 50-digit mpmath values, which
 * they meet where scipy loses digits (nearly equal distributions; Boost's hypergeometric sums
 * for tables of 100,000); those cases are listed in `scipyOff`.
 */
import { afterAll, describe, expect, it } from "vitest"
import type { CategoricalBaseline, NumericBaseline } from "../src/drift/Baseline.js"
import { defaultMonitorSettings } from "../src/drift/Monitor.js"
import { numericBinnedShares } from "../src/drift/tests/BinnedShares.js"
import type { CategoricalDriftTest, NumericDriftTest } from "../src/drift/tests/DriftTest.js"
import { categoricalFisherExactTest, numericFisherExactTest } from "../src/drift/tests/FisherExact.js"
import { categoricalHellingerTest, numericHellingerTest } from "../src/drift/tests/Hellinger.js"
import { categoricalJensenShannonTest, numericJensenShannonTest } from "../src/drift/tests/JensenShannon.js"
import { categoricalKlDivergenceTest, numericKlDivergenceTest } from "../src/drift/tests/KlDivergence.js"
import { categoricalZTest, numericZTest } from "../src/drift/tests/ZTest.js"
import {
  fisherExact,
  hellingerDistance,
  jensenShannonDistance,
  klDivergence,
  twoProportionZTest
} from "../src/index.js"
import golden from "./golden/binned.json" with { type: "json" }
import { makeSample, type SampleSpec } from "./golden/samples.js"

/** The generator writes non-finite values as strings. */
const value = (v: number | string): number =>
  typeof v === "number" ? v : v === "inf" ? Infinity : v === "-inf" ? -Infinity : Number.NaN

const relativeError = (actual: number, expected: number) =>
  actual === expected ? 0 : Math.abs(actual - expected) / Math.max(Math.abs(expected), Number.MIN_VALUE)

const within = (actual: number, expected: number, relative: number) =>
  Number.isFinite(expected) ? relativeError(actual, expected) <= relative : Object.is(actual, expected)

/** Collects every miss so that one failing assertion reports them all. */
const check = (misses: Array<string>, label: string, actual: number, expected: number | string, relative = 1e-12) => {
  if (!within(actual, value(expected), relative)) {
    misses.push(`${label}: got ${actual}, reference ${expected} (rel ${relativeError(actual, value(expected))})`)
  }
}

const scipyOff: Array<string> = []

/** Within `relative` of scipy, or of the 50-digit value where scipy itself is further from it (then listed). */
const checkWithTruth = (
  misses: Array<string>,
  label: string,
  actual: number,
  scipy: number | string,
  truth: number | string,
  relative = 1e-12
) => {
  if (within(actual, value(scipy), relative)) return
  if (within(actual, value(truth), relative) && !within(value(scipy), value(truth), relative)) {
    scipyOff.push(`${label}: scipy ${scipy}, mpmath ${truth}, ours ${actual}`)
    return
  }
  misses.push(`${label}: got ${actual}, scipy ${scipy}, mpmath ${truth}`)
}

afterAll(() => {
  if (scipyOff.length > 0) console.log(`scipy further than 1e-12 from mpmath, ours within:\n  ${scipyOff.join("\n  ")}`)
})

const settings = defaultMonitorSettings
const at = "2030-01-01T00:00:00.000Z"

const numericBaseline = (sample: ArrayLike<number>, edges: ReadonlyArray<number>, shares: ReadonlyArray<number>) =>
  ({
    type: "numeric",
    version: 1,
    createdAt: at,
    count: sample.length,
    missingShare: 0,
    mean: 0,
    sd: 1,
    quantiles: {},
    edges,
    shares,
    sample: Array.from(sample),
    sampled: false
  }) satisfies NumericBaseline

const categoricalBaseline = (counts: Readonly<Record<string, number>>) =>
  ({
    type: "categorical",
    version: 1,
    createdAt: at,
    count: Object.values(counts).reduce((a, b) => a + b, 0),
    missingShare: 0,
    counts
  }) satisfies CategoricalBaseline

const statisticOf = (test: NumericDriftTest, baseline: NumericBaseline, values: ReadonlyArray<number>) =>
  test.run(baseline, values, settings)!
const categoricalStatisticOf = (
  test: CategoricalDriftTest,
  baseline: CategoricalBaseline,
  counts: Readonly<Record<string, number>>
) => test.run(baseline, counts, settings)!

describe("divergences of weight vectors", () => {
  it("match scipy's jensenshannon, entropy and the Hellinger distance, or mpmath where scipy loses digits", () => {
    const misses: Array<string> = []
    for (const c of golden.divergences) {
      const ours = {
        jensenShannon: jensenShannonDistance(c.p, c.q),
        jensenShannonBase2: jensenShannonDistance(c.p, c.q, { base: 2 }),
        klDivergence: klDivergence(c.p, c.q),
        hellinger: hellingerDistance(c.p, c.q)
      }
      for (const key of Object.keys(ours) as Array<keyof typeof ours>) {
        checkWithTruth(misses, `${c.name} ${key}`, ours[key], c[key], c.truth[key])
      }
    }
    expect(misses).toEqual([])
  })

  it("name the argument at fault", () => {
    expect(() => jensenShannonDistance([0.5, 0.5], [1])).toThrow(/q: must have the same length as p \(2\), got 1/)
    expect(() => klDivergence([0.5, -0.1], [0.5, 0.5])).toThrow(/p\[1\]: must be a finite number >= 0/)
    expect(() => hellingerDistance([0, 0], [0.5, 0.5])).toThrow(/p: must have a positive sum/)
    expect(() => jensenShannonDistance([1], [1], { base: 1 })).toThrow(/base: must not be 1/)
  })
})

describe("binned drift tests", () => {
  it("count numeric windows into the frozen PSI bins and match scipy on them", () => {
    const misses: Array<string> = []
    for (const c of golden.numeric) {
      const baseline = numericBaseline(makeSample(c.baseline as SampleSpec), c.edges, c.baselineShares)
      const window = Array.from(makeSample(c.current as SampleSpec))
      expect(numericBinnedShares(baseline, window).current, c.name).toEqual(c.currentShares)
      check(misses, `${c.name} js`, statisticOf(numericJensenShannonTest, baseline, window).statistic, c.jensenShannon)
      check(misses, `${c.name} kl`, statisticOf(numericKlDivergenceTest, baseline, window).statistic, c.klDivergence)
      check(misses, `${c.name} hellinger`, statisticOf(numericHellingerTest, baseline, window).statistic, c.hellinger)
    }
    expect(misses).toEqual([])
  })

  it("compare category shares over the categories of both, filling empty shares for KL only", () => {
    const misses: Array<string> = []
    for (const c of golden.categorical) {
      const baseline = categoricalBaseline(c.baseline)
      const counts = c.current as Record<string, number>
      const run = (test: CategoricalDriftTest) => categoricalStatisticOf(test, baseline, counts).statistic
      check(misses, `${c.name} js`, run(categoricalJensenShannonTest), c.jensenShannon)
      check(misses, `${c.name} kl`, run(categoricalKlDivergenceTest), c.klDivergence)
      check(misses, `${c.name} hellinger`, run(categoricalHellingerTest), c.hellinger)
    }
    expect(misses).toEqual([])
  })
})

describe("binary drift tests", () => {
  it("match statsmodels' proportions_ztest and scipy's fisher_exact on binary categorical features", () => {
    const misses: Array<string> = []
    for (const c of golden.binary) {
      const [currentPositives, currentSize] = c.current as [number, number]
      const [baselinePositives, baselineSize] = c.baseline as [number, number]
      // "yes" sorts after "no": the positive category.
      const baseline = categoricalBaseline({ no: baselineSize - baselinePositives, yes: baselinePositives })
      const counts = { no: currentSize - currentPositives, yes: currentPositives }
      const z = categoricalStatisticOf(categoricalZTest, baseline, counts)
      check(misses, `${c.name} z`, z.statistic, c.z)
      check(misses, `${c.name} z p`, z.pValue!, c.zPValue)
      const fisher = categoricalStatisticOf(categoricalFisherExactTest, baseline, counts)
      check(misses, `${c.name} odds ratio`, fisher.statistic, c.oddsRatio)
      checkWithTruth(misses, `${c.name} fisher p`, fisher.pValue!, c.fisherPValue, c.fisherTruth)
    }
    expect(misses).toEqual([])
  })

  it("treat numeric features holding only 0 and 1 as binary (positive: 1)", () => {
    const misses: Array<string> = []
    for (const c of golden.numericBinary) {
      const sample = makeSample(c.baseline as SampleSpec)
      const baseline = numericBaseline(sample, [1], [0.5, 0.5])
      const window = Array.from(makeSample(c.current as SampleSpec))
      const z = statisticOf(numericZTest, baseline, window)
      check(misses, `${c.name} z`, z.statistic, c.z)
      check(misses, `${c.name} z p`, z.pValue!, c.zPValue)
      const fisher = statisticOf(numericFisherExactTest, baseline, window)
      check(misses, `${c.name} odds ratio`, fisher.statistic, c.oddsRatio)
      checkWithTruth(misses, `${c.name} fisher p`, fisher.pValue!, c.fisherPValue, c.fisherTruth)
    }
    expect(misses).toEqual([])
  })

  it("fisherExact matches scipy on small, tied, degenerate, large and astronomically unlikely tables", () => {
    const misses: Array<string> = []
    for (const c of golden.fisher) {
      const [[a, b], [cc, d]] = c.table as [[number, number], [number, number]]
      const result = fisherExact([[a, b], [cc, d]])
      check(misses, `${JSON.stringify(c.table)} odds ratio`, result.oddsRatio, c.oddsRatio)
      // Below 1e-250 the p-value comes from log-gamma sums, accurate to about 1e-10.
      const relative = value(c.pValue) < 1e-250 ? 1e-9 : 1e-12
      checkWithTruth(misses, `${JSON.stringify(c.table)} p`, result.pValue, c.pValue, c.truth, relative)
    }
    expect(misses).toEqual([])
  })

  it("fisherExact names a bad count", () => {
    expect(() => fisherExact([[1, 2], [3, -1]])).toThrow(/table\[1\]\[1\]: must be a non-negative integer count/)
    expect(() => fisherExact([[1.5, 2], [3, 1]])).toThrow(/table\[0\]\[0\]/)
  })

  it("the z-test is the existing twoProportionZTest with the window as treatment", () => {
    const baseline = categoricalBaseline({ a: 70, b: 30 })
    const z = categoricalStatisticOf(categoricalZTest, baseline, { a: 40, b: 60 })
    const direct = twoProportionZTest({ successes: 60, trials: 100 }, { successes: 30, trials: 100 })
    expect(z).toEqual({ statistic: direct.z, pValue: direct.pValue })
    expect(z.statistic).toBeGreaterThan(0) // the positive category "b" is more common now
  })
})
