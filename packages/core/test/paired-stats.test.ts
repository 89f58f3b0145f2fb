/**
 * CUPED and ratio metrics (PairedSummary, PairedTests) against golden/generate_paired.py: the
 * CUPED estimate against statsmodels OLS of y on the treatment and the centred covariate, its
 * interval and p-value against scipy's Welch test of the adjusted values; ratio metrics against a
 * numpy delta method and, for the delta method itself, a bootstrap. Summaries are built in chunks
 * and merged, so the merge is checked by the same numbers.
 */
import { describe, expect, it } from "vitest"
import {
  addPair,
  covariance,
  emptyPairedSummary,
  meanX,
  meanY,
  mergePairedSummaries,
  type PairedSummary,
  summarizePairs,
  varianceX,
  varianceY
} from "../src/stats/PairedSummary.js"
import { cupedTest, ratioTest } from "../src/stats/PairedTests.js"
import golden from "./golden/paired.json" with { type: "json" }

const relativeError = (actual: number, expected: number) =>
  Math.abs(actual - expected) / Math.max(Math.abs(expected), Number.MIN_VALUE)

/** The pairs folded in chunks of 37, then the chunk summaries merged (as stores merge batches). */
const chunked = (arm: { readonly x: ReadonlyArray<number>; readonly y: ReadonlyArray<number> }): PairedSummary => {
  let merged = emptyPairedSummary
  for (let from = 0; from < arm.x.length; from += 37) {
    merged = mergePairedSummaries(merged, summarizePairs(arm.x.slice(from, from + 37), arm.y.slice(from, from + 37)))
  }
  return merged
}

describe("PairedSummary", () => {
  it("keeps means, variances and the covariance of numpy's two-pass formulas", () => {
    // Deviations in 1/1024ths are exact next to 1e9, so the two-pass values below are exact too.
    const deviations = [10, 30, -20, 50].map((k) => k / 1024)
    const xs = deviations.map((d) => 1e9 + d)
    const ys = [3, 1, 4, 1.5]
    const s = xs.reduce((acc, x, i) => addPair(acc, x, ys[i]!), emptyPairedSummary)
    const meanDeviation = 17.5 / 1024
    const dx = deviations.map((d) => d - meanDeviation)
    const dy = ys.map((y) => y - 2.375)
    expect(relativeError(s.shiftX - 1e9 + s.shiftedMeanX, meanDeviation)).toBeLessThan(1e-14)
    expect(meanY(s)).toBeCloseTo(2.375, 14)
    expect(relativeError(varianceX(s), dx.reduce((a, d) => a + d * d, 0) / 3)).toBeLessThan(1e-14)
    expect(relativeError(varianceY(s), dy.reduce((a, d) => a + d * d, 0) / 3)).toBeLessThan(1e-14)
    expect(relativeError(covariance(s), dx.reduce((a, d, i) => a + d * dy[i]!, 0) / 3)).toBeLessThan(1e-14)
  })

  it("merges in any order to the same moments", () => {
    const { x, y } = golden.cuped[0]!.control
    const whole = summarizePairs(x, y)
    const merged = mergePairedSummaries(
      summarizePairs(x.slice(200), y.slice(200)),
      summarizePairs(x.slice(0, 200), y.slice(0, 200))
    )
    for (
      const [a, b] of [[meanX(merged), meanX(whole)], [meanY(merged), meanY(whole)], [merged.m2X, whole.m2X], [
        merged.m2Y,
        whole.m2Y
      ], [merged.coMoment, whole.coMoment]] as const
    ) expect(relativeError(a, b)).toBeLessThan(1e-12)
    expect(mergePairedSummaries(emptyPairedSummary, whole)).toBe(whole)
  })
})

describe("CUPED against statsmodels OLS and scipy's Welch test", () => {
  for (const c of golden.cuped) {
    it(c.name, () => {
      const r = cupedTest(chunked(c.treatment), chunked(c.control), { alpha: c.alpha })
      const e = c.expected
      const tolerance = 1e-9
      expect(relativeError(r.difference, e.estimate)).toBeLessThan(tolerance)
      expect(relativeError(r.theta, e.theta)).toBeLessThan(tolerance)
      expect(relativeError(r.t, e.t)).toBeLessThan(tolerance)
      expect(relativeError(r.df, e.df)).toBeLessThan(tolerance)
      expect(relativeError(r.pValue, e.pValue)).toBeLessThan(tolerance * 10)
      expect(relativeError(r.differenceInterval.lower, e.lower)).toBeLessThan(tolerance)
      expect(relativeError(r.differenceInterval.upper, e.upper)).toBeLessThan(tolerance)
      expect(relativeError(r.varianceReduction, e.varianceReduction)).toBeLessThan(tolerance)
      expect(relativeError(r.unadjustedDifference, e.unadjustedDifference)).toBeLessThan(tolerance)
    })
  }
})

describe("ratio metrics against numpy's delta method and a bootstrap", () => {
  for (const c of golden.ratios) {
    it(c.name, () => {
      const r = ratioTest(chunked(c.treatment), chunked(c.control), { alpha: c.alpha })
      const e = c.expected
      const pairs: ReadonlyArray<readonly [number, number]> = [
        [r.control.ratio, e.ratioControl],
        [r.treatment.ratio, e.ratioTreatment],
        [r.control.standardError, e.seControl],
        [r.treatment.standardError, e.seTreatment],
        [r.z, e.z],
        [r.pValue, e.pValue],
        [r.difference, e.difference],
        [r.differenceInterval.lower, e.lower],
        [r.differenceInterval.upper, e.upper],
        [r.relativeLift!, e.relativeLift],
        [r.relativeLiftInterval!.lower, e.liftLower],
        [r.relativeLiftInterval!.upper, e.liftUpper]
      ]
      for (const [actual, expected] of pairs) expect(relativeError(actual, expected)).toBeLessThan(1e-9)
      // The delta method approximates the ratio's sampling spread: within 10% of the bootstrap's.
      expect(relativeError(r.control.standardError, e.bootstrapSeControl)).toBeLessThan(0.1)
      expect(relativeError(r.treatment.standardError, e.bootstrapSeTreatment)).toBeLessThan(0.1)
    })
  }

  it("refuses a denominator whose mean is zero", () => {
    const zero = summarizePairs([0, 0, 0], [1, 2, 3])
    expect(() => ratioTest(zero, zero)).toThrow(/denominator/)
  })
})
