/**
 * PSI, histograms, quantiles, A/B tests, adjustments, sample sizes, summaries and the PRNG
 * against independent references (scipy, numpy, exact rational arithmetic, a Python
 * xoshiro128**), from test/golden/generate.py.
 */
import { describe, expect, it } from "vitest"
import {
  benjaminiHochberg,
  chiSquareGoodnessOfFit,
  chiSquareIndependence,
  histogram,
  holmBonferroni,
  makeRandom,
  mergeSummaries,
  psi,
  quantiles,
  sampleSizeForMeans,
  sampleSizeForProportions,
  summarize,
  twoProportionZTest,
  variance,
  welchTTest
} from "../src/index.js"
import { samplerDraws } from "./golden/samplerDraws.js"
import recordedDraws from "./golden/samplers.json" with { type: "json" }
import { makeSample, type SampleSpec } from "./golden/samples.js"
import golden from "./golden/stats.json" with { type: "json" }

const close = (actual: number, expected: number, relative: number, absolute = 0) =>
  actual === expected || Math.abs(actual - expected) <= Math.max(relative * Math.abs(expected), absolute)

const expectClose = (
  actual: ReadonlyArray<number>,
  expected: ReadonlyArray<number>,
  relative: number,
  absolute = 0
) => {
  expect(actual.length).toBe(expected.length)
  actual.forEach((a, i) => {
    if (!close(a, expected[i]!, relative, absolute)) throw new Error(`index ${i}: got ${a}, expected ${expected[i]}`)
  })
}

describe("PSI and binning match the numpy reference", () => {
  it.each(golden.psi.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const result = psi(makeSample(c.baseline as SampleSpec), makeSample(c.current as SampleSpec), {
      bins: c.bins,
      strategy: c.strategy as "quantile"
    })
    expectClose(result.edges, c.edges, 0)
    expectClose(result.baselineShares, c.baselineShares, 0)
    expectClose(result.currentShares, c.currentShares, 0)
    expect(close(result.value, c.value, 1e-12)).toBe(true)
    expect(result.perBin).toHaveLength(c.edges.length + 1)
    expect(result.perBin[0]!.lower).toBe(Number.NEGATIVE_INFINITY)
    expect(result.perBin.at(-1)!.upper).toBe(Number.POSITIVE_INFINITY)
  })

  it("quantiles equal numpy's linear method", () => {
    for (const q of golden.quantiles) {
      expectClose(quantiles(makeSample(q.sample as SampleSpec), q.probabilities), q.values, 0)
    }
  })

  it("histogram counts equal numpy's searchsorted binning with open outer bins", () => {
    expect(histogram(makeSample(golden.histogram.sample as SampleSpec), golden.histogram.edges)).toEqual(
      golden.histogram.counts
    )
  })
})

describe("A/B tests match scipy", () => {
  it.each(golden.welch.map((c) => [c.name, c] as const))("Welch: %s", (_name, c) => {
    const r = welchTTest(makeSample(c.treatment as SampleSpec), makeSample(c.control as SampleSpec))
    const rel = 1e-10
    expect(close(r.t, c.t, rel)).toBe(true)
    expect(close(r.df, c.df, rel)).toBe(true)
    expect(close(r.pValue, c.pValue, rel)).toBe(true)
    expect(close(r.difference, c.difference, rel, 1e-12)).toBe(true)
    expectClose([r.differenceInterval.lower, r.differenceInterval.upper], c.differenceInterval, rel, 1e-12)
    expect(close(r.relativeLift!, c.relativeLift, rel, 1e-15)).toBe(true)
    expectClose([r.relativeLiftInterval!.lower, r.relativeLiftInterval!.upper], c.relativeLiftInterval, rel, 1e-15)
  })

  it("two-proportion z-test", () => {
    for (const c of golden.proportions) {
      const r = twoProportionZTest({ successes: c.treatment[0]!, trials: c.treatment[1]! }, {
        successes: c.control[0]!,
        trials: c.control[1]!
      })
      expect(close(r.z, c.z, 1e-13)).toBe(true)
      expect(close(r.pValue, c.pValue, 1e-12)).toBe(true)
      expectClose([r.differenceInterval.lower, r.differenceInterval.upper], c.differenceInterval, 1e-12, 1e-15)
    }
  })

  it("chi-square goodness of fit (sample-ratio mismatch)", () => {
    for (const c of golden.chisquare) {
      const r = chiSquareGoodnessOfFit(c.observed, c.expected)
      expect(close(r.statistic, c.statistic, 1e-12)).toBe(true)
      expect(close(r.pValue, c.pValue, 1e-11)).toBe(true)
    }
  })

  it("chi-square independence with and without Yates' correction", () => {
    for (const c of golden.contingency) {
      const r = chiSquareIndependence(c.table, { correction: c.correction })
      expect(r.df).toBe(c.df)
      expect(close(r.statistic, c.statistic, 1e-12)).toBe(true)
      expect(close(r.pValue, c.pValue, 1e-11)).toBe(true)
      r.expected.forEach((row, i) => expectClose(row, c.expected[i]!, 1e-14))
    }
  })

  it("Holm and Benjamini-Hochberg adjustments", () => {
    for (const c of golden.adjustments) {
      expectClose(holmBonferroni(c.pValues), c.holm, 1e-15)
      expectClose(benjaminiHochberg(c.pValues), c.bh, 1e-15)
    }
  })

  it("sample sizes per arm", () => {
    for (const c of golden.sampleSize.means) {
      expect(sampleSizeForMeans(c.mde, c.sd, { alpha: c.alpha, power: c.power })).toBe(c.n)
    }
    for (const c of golden.sampleSize.proportions) {
      expect(sampleSizeForProportions(c.baseline, c.mde, { alpha: c.alpha, power: c.power })).toBe(c.n)
    }
  })
})

describe("mergeable summaries", () => {
  it.each(golden.summaries.map((c) => [c.sample, c] as const))(
    "merged chunks equal exact rational statistics (%o)",
    (_s, c) => {
      const values = makeSample(c.sample as SampleSpec)
      let offset = 0
      const parts = c.chunks.map((size) => {
        const part = summarize(values.subarray(offset, offset + size))
        offset += size
        return part
      })
      // Merge in a shuffled tree order, as instances would.
      const merged = mergeSummaries(
        mergeSummaries(parts[parts.length - 1]!, parts[0]!),
        parts.slice(1, -1).reduce(mergeSummaries, summarize([]))
      )
      for (const s of [summarize(values), merged]) {
        expect(s.count).toBe(c.count)
        // A few ulps of the data's magnitude: the mean is a double (and may be small next to the spread).
        expect(close(s.mean, c.mean, 4e-15, 1e-14 * Math.max(Math.abs(c.min), Math.abs(c.max)))).toBe(true)
        expect(close(variance(s), c.variance, 1e-12)).toBe(true)
        expect(s.min).toBe(c.min)
        expect(s.max).toBe(c.max)
      }
    }
  )
})

describe("seeded PRNG", () => {
  it("produces the xoshiro128** stream of an independent Python implementation", () => {
    for (const c of golden.xoshiro128ss) {
      const random = makeRandom(c.seed)
      expect(Array.from({ length: c.first.length }, () => random.nextUint32())).toEqual(c.first)
    }
  })
})

describe("samplers are deterministic across runtimes", () => {
  it("draw exactly the recorded values for each seed (this test runs under Node, Deno and Bun)", () => {
    expect(samplerDraws()).toEqual(recordedDraws)
  })
})
