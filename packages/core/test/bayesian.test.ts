/**
 * The Bayesian relative-lift comparison (gbstats' Gaussian model) against golden values from
 * golden/generate_bayesian.py: closed forms computed independently with scipy, Monte-Carlo
 * integration over the posterior, and Monte-Carlo over the posterior of the two means (the exact
 * ratio the delta method approximates), each within the tolerance stated there.
 */
import { describe, expect, it } from "vitest"
import { type BayesianLift, bayesianLift } from "../src/stats/BayesianLift.js"
import golden from "./golden/bayesian.json" with { type: "json" }

const arm = ([n, mean, variance]: ReadonlyArray<number>) => ({ n: n!, mean: mean!, variance: variance! })

const computed = (c: (typeof golden.cases)[number]): BayesianLift => {
  const prior = "prior" in c && c.prior ? { mean: c.prior[0]!, variance: c.prior[1]! } : undefined
  const result = bayesianLift(arm(c.treatment), arm(c.control), { alpha: c.alpha, maximize: c.maximize, prior })
  if (typeof result === "string") throw new Error(result)
  return result
}

const relativeError = (actual: number, expected: number) => Math.abs(actual - expected) / Math.abs(expected)

describe("Bayesian relative lift", () => {
  it("matches the closed forms computed with scipy (1e-12 relative; risks 1e-9)", () => {
    for (const c of golden.cases) {
      const r = computed(c)
      const e = c.closed
      expect(relativeError(r.expectedLift, e.expectedLift)).toBeLessThan(1e-12)
      expect(relativeError(r.liftSd, e.liftSd)).toBeLessThan(1e-12)
      expect(relativeError(r.chanceToBeatControl, e.chanceToBeatControl)).toBeLessThan(1e-12)
      expect(relativeError(r.riskOfChoosingTreatment, e.riskOfChoosingTreatment)).toBeLessThan(1e-9)
      expect(relativeError(r.riskOfChoosingControl, e.riskOfChoosingControl)).toBeLessThan(1e-9)
      expect(relativeError(r.credibleInterval.lower, e.lower)).toBeLessThan(1e-12)
      expect(relativeError(r.credibleInterval.upper, e.upper)).toBeLessThan(1e-12)
    }
  })

  it("agrees with Monte-Carlo integration over the posterior (5 standard errors)", () => {
    const floor = 1 / golden.draws
    for (const c of golden.cases) {
      const r = computed(c)
      for (const key of ["chanceToBeatControl", "riskOfChoosingTreatment", "riskOfChoosingControl"] as const) {
        const [estimate, se] = c.mc[key]
        expect(Math.abs(r[key] - estimate!)).toBeLessThanOrEqual(5 * se! + floor)
      }
      expect(r.credibleInterval.lower).toBeGreaterThanOrEqual(c.mc.lower[1]!)
      expect(r.credibleInterval.lower).toBeLessThanOrEqual(c.mc.lower[2]!)
      expect(r.credibleInterval.upper).toBeGreaterThanOrEqual(c.mc.upper[1]!)
      expect(r.credibleInterval.upper).toBeLessThanOrEqual(c.mc.upper[2]!)
    }
  })

  it("approximates the exact ratio of the means' posteriors at large samples (stated tolerances)", () => {
    const large = golden.cases.filter((c) => "means" in c && c.means !== undefined)
    expect(large.length).toBeGreaterThanOrEqual(4)
    for (const c of large) {
      const r = computed(c)
      const means = c.means!
      expect(Math.abs(r.chanceToBeatControl - means.chanceToBeatControl[0]!)).toBeLessThanOrEqual(0.01)
      const slack = 0.05 * r.liftSd
      expect(Math.abs(r.riskOfChoosingTreatment - means.riskOfChoosingTreatment[0]!)).toBeLessThanOrEqual(slack)
      expect(Math.abs(r.riskOfChoosingControl - means.riskOfChoosingControl[0]!)).toBeLessThanOrEqual(slack)
      expect(Math.abs(r.credibleInterval.lower - means.lower[0]!)).toBeLessThanOrEqual(slack)
      expect(Math.abs(r.credibleInterval.upper - means.upper[0]!)).toBeLessThanOrEqual(slack)
    }
  })

  it("names why there is no posterior: a zero control mean, too few values, no spread", () => {
    const options = { alpha: 0.05, maximize: true }
    expect(bayesianLift({ n: 10, mean: 1, variance: 1 }, { n: 10, mean: 0, variance: 1 }, options)).toMatch(/is 0/)
    expect(bayesianLift({ n: 1, mean: 1, variance: 0 }, { n: 10, mean: 1, variance: 1 }, options)).toMatch(/two/)
    expect(bayesianLift({ n: 10, mean: 2, variance: 0 }, { n: 10, mean: 1, variance: 0 }, options)).toMatch(/varies/)
  })
})
