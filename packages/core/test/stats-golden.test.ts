/**
 * The statistics engine against scipy's own answers (test/golden/generate.py -> stats.json).
 * Tolerances are the targets: KS statistic 1e-15 absolute, KS p-values 1e-10 relative
 * (1e-14 absolute below 1e-10), distributions 1e-12 relative.
 */
import { afterAll, describe, expect, it } from "vitest"
import {
  beta,
  chiSquare,
  kolmogorovSurvival,
  ks1Samp,
  ks2Samp,
  kstwoCdf,
  kstwoSf,
  normal,
  studentT
} from "../src/index.js"
import { makeSample, type SampleSpec } from "./golden/samples.js"
import golden from "./golden/stats.json" with { type: "json" }

const relativeError = (actual: number, expected: number) =>
  expected === actual ? 0 : Math.abs(actual - expected) / Math.max(Math.abs(expected), Number.MIN_VALUE)

/** Collects every miss so one failing assertion reports them all. */
const check = (
  misses: Array<string>,
  label: string,
  actual: number,
  expected: number,
  relative: number,
  absoluteBelow = 0,
  absolute = 0
) => {
  if (!within(actual, expected, relative, absoluteBelow, absolute)) {
    misses.push(`${label}: got ${actual}, scipy ${expected} (rel ${relativeError(actual, expected).toExponential(2)})`)
  }
}

const within = (actual: number, expected: number, relative: number, absoluteBelow = 0, absolute = 0) => {
  if (Number.isNaN(expected) || !Number.isFinite(expected)) return Object.is(actual, expected)
  return Math.abs(expected) < absoluteBelow
    ? Math.abs(actual - expected) <= absolute
    : relativeError(actual, expected) <= relative
}

/**
 * Distribution values: within 1e-12 relative of scipy (1e-15 absolute next to 0, where scipy's
 * quantile at p = 0.5 returns ±1e-17 instead of 0). Where scipy itself is further than that from
 * the 50-digit mpmath value (t.ppf from cdflib, a few boost beta tails), being within 1e-12 of
 * mpmath counts, and the point is listed in `scipyOff` so the deviation stays visible.
 */
const scipyOff: Array<string> = []
const checkDistribution = (misses: Array<string>, label: string, actual: number, scipy: number, truth: number) => {
  if (within(actual, scipy, 1e-12, 1e-15, 1e-15)) return
  if (
    Number.isFinite(truth) && within(actual, truth, 1e-12, 1e-15, 1e-15) && !within(scipy, truth, 1e-12, 1e-15, 1e-15)
  ) {
    scipyOff.push(`${label}: scipy ${scipy}, mpmath ${truth}, ours ${actual}`)
    return
  }
  misses.push(
    `${label}: got ${actual}, scipy ${scipy}, mpmath ${truth} (rel to mpmath ${
      relativeError(actual, truth).toExponential(2)
    })`
  )
}

type Rows = Array<Array<number>>

describe("distributions match scipy to 1e-12 relative", () => {
  afterAll(() => {
    if (scipyOff.length > 0) {
      console.info(
        `Points where scipy is off the 50-digit value and we match the latter (${scipyOff.length}):\n${
          scipyOff.join("\n")
        }`
      )
    }
  })

  it("normal cdf, sf, pdf and quantiles", () => {
    const misses: Array<string> = []
    const n = normal()
    for (const [x, cdf, sf, pdf, tc, ts, tp] of golden.normal.points as Rows) {
      checkDistribution(misses, `cdf(${x})`, n.cdf(x!), cdf!, tc!)
      checkDistribution(misses, `sf(${x})`, n.sf(x!), sf!, ts!)
      checkDistribution(misses, `pdf(${x})`, n.pdf(x!), pdf!, tp!)
    }
    for (const [p, ppf, isf, tq, tu] of golden.normal.quantiles as Rows) {
      checkDistribution(misses, `quantile(${p})`, n.quantile(p!), ppf!, tq!)
      checkDistribution(misses, `quantileUpper(${p})`, n.quantileUpper(p!), isf!, tu!)
    }
    for (const [x, mean, sd, cdf, sf] of golden.normal.shifted as Rows) {
      check(misses, `N(${mean},${sd}).cdf(${x})`, normal(mean, sd).cdf(x!), cdf!, 1e-12)
      check(misses, `N(${mean},${sd}).sf(${x})`, normal(mean, sd).sf(x!), sf!, 1e-12)
    }
    expect(misses).toEqual([])
  })

  it("Student t cdf, sf, pdf and quantiles", () => {
    const misses: Array<string> = []
    for (const [df, x, cdf, sf, pdf, tc, ts, tp] of golden.studentT.points as Rows) {
      const t = studentT(df!)
      checkDistribution(misses, `t(${df}).cdf(${x})`, t.cdf(x!), cdf!, tc!)
      checkDistribution(misses, `t(${df}).sf(${x})`, t.sf(x!), sf!, ts!)
      checkDistribution(misses, `t(${df}).pdf(${x})`, t.pdf(x!), pdf!, tp!)
    }
    for (const [df, p, ppf, isf, tq, tu] of golden.studentT.quantiles as Rows) {
      const t = studentT(df!)
      checkDistribution(misses, `t(${df}).quantile(${p})`, t.quantile(p!), ppf!, tq!)
      checkDistribution(misses, `t(${df}).quantileUpper(${p})`, t.quantileUpper(p!), isf!, tu!)
    }
    expect(misses).toEqual([])
  })

  it("chi-square cdf, sf, pdf and quantiles", () => {
    const misses: Array<string> = []
    for (const [k, x, cdf, sf, pdf, tc, ts, tp] of golden.chiSquare.points as Rows) {
      const c = chiSquare(k!)
      checkDistribution(misses, `chi2(${k}).cdf(${x})`, c.cdf(x!), cdf!, tc!)
      checkDistribution(misses, `chi2(${k}).sf(${x})`, c.sf(x!), sf!, ts!)
      checkDistribution(misses, `chi2(${k}).pdf(${x})`, c.pdf(x!), pdf!, tp!)
    }
    for (const [k, p, ppf, isf, tq, tu] of golden.chiSquare.quantiles as Rows) {
      const c = chiSquare(k!)
      checkDistribution(misses, `chi2(${k}).quantile(${p})`, c.quantile(p!), ppf!, tq!)
      checkDistribution(misses, `chi2(${k}).quantileUpper(${p})`, c.quantileUpper(p!), isf!, tu!)
    }
    expect(misses).toEqual([])
  })

  it("beta cdf, sf, pdf and quantiles", () => {
    const misses: Array<string> = []
    for (const [a, b, x, cdf, sf, pdf, tc, ts, tp] of golden.beta.points as Rows) {
      const d = beta(a!, b!)
      checkDistribution(misses, `beta(${a},${b}).cdf(${x})`, d.cdf(x!), cdf!, tc!)
      checkDistribution(misses, `beta(${a},${b}).sf(${x})`, d.sf(x!), sf!, ts!)
      checkDistribution(misses, `beta(${a},${b}).pdf(${x})`, d.pdf(x!), pdf!, tp!)
    }
    for (const [a, b, p, ppf, isf, tq, tu] of golden.beta.quantiles as Rows) {
      const d = beta(a!, b!)
      checkDistribution(misses, `beta(${a},${b}).quantile(${p})`, d.quantile(p!), ppf!, tq!)
      checkDistribution(misses, `beta(${a},${b}).quantileUpper(${p})`, d.quantileUpper(p!), isf!, tu!)
    }
    expect(misses).toEqual([])
  })
})

describe("Kolmogorov-Smirnov matches scipy", () => {
  it("kstwo survival function and cdf over every method scipy selects", () => {
    const misses: Array<string> = []
    for (const [n, x, sf, cdf] of golden.kstwo as Array<Array<number>>) {
      check(misses, `kstwo.sf(${x}, ${n})`, kstwoSf(x!, n!), sf!, 1e-10, 1e-10, 1e-14)
      check(misses, `kstwo.cdf(${x}, ${n})`, kstwoCdf(x!, n!), cdf!, 1e-10, 1e-10, 1e-14)
    }
    for (const [y, sf] of golden.kstwobign as Array<Array<number>>) {
      check(misses, `kstwobign.sf(${y})`, kolmogorovSurvival(y!), sf!, 1e-10, 1e-10, 1e-14)
    }
    expect(misses).toEqual([])
  })

  it("ks2Samp: statistic within 1e-15, p-value within 1e-10 relative", () => {
    const misses: Array<string> = []
    for (const c of golden.ks2samp) {
      const result = ks2Samp(makeSample(c.a as SampleSpec), makeSample(c.b as SampleSpec), {
        method: c.method as "auto"
      })
      if (Math.abs(result.statistic - c.statistic) > 1e-15) {
        misses.push(`${c.name}: statistic ${result.statistic} vs ${c.statistic}`)
      }
      check(misses, `${c.name} p`, result.pValue, c.pValue, 1e-10, 1e-10, 1e-14)
    }
    expect(misses).toEqual([])
  })

  it("ks1Samp against normal and uniform references", () => {
    const misses: Array<string> = []
    for (const c of golden.ks1samp) {
      const result = ks1Samp(makeSample(c.sample as SampleSpec), c.reference as never, { method: c.method as "auto" })
      if (Math.abs(result.statistic - c.statistic) > 1e-15) {
        misses.push(`${c.name}: statistic ${result.statistic} vs ${c.statistic}`)
      }
      check(misses, `${c.name} p`, result.pValue, c.pValue, 1e-10, 1e-10, 1e-14)
    }
    expect(misses).toEqual([])
  })
})
