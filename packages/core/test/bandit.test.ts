/**
 * Bandit weights tested directly: Thompson weights against the exact probability that each arm
 * is best (Beta arms integrated by scipy, Normal arms through the normal cdf), the floor, and
 * the burn-in rule.
 */
import { describe, expect, it } from "vitest"
import {
  applyFloor,
  banditBurnIn,
  nextBanditWeights,
  normal,
  summarize,
  type Summary,
  thompsonWeights
} from "../src/index.js"

/** A 0/1 summary with `successes` ones out of `count`. */
const binary = (successes: number, count: number): Summary =>
  summarize(Array.from({ length: count }, (_, i) => (i < successes ? 1 : 0)))

/**
 * P(arm b is best) for two 0/1 arms [[successes, count] of a, of b] under uniform priors, from
 * scipy: quad(lambda x: beta(1+sb, 1+nb-sb).pdf(x) * beta(1+sa, 1+na-sa).cdf(x), 0, 1).
 */
const betaCases: ReadonlyArray<readonly [readonly [number, number], readonly [number, number], number]> = [
  [[20, 400], [24, 400], 0.7300900191877748],
  [[50, 500], [45, 480], 0.37202611109498585],
  [[3, 150], [9, 160], 0.9453484179244871]
]

// 10,000 draws: the Monte Carlo standard error of a weight is at most 0.005.
const tolerance = 0.02

describe("Thompson weights", () => {
  it("give each 0/1 arm its exact posterior probability of being best", () => {
    for (const [[sa, na], [sb, nb], exact] of betaCases) {
      const [wa, wb] = thompsonWeights([binary(sa, na), binary(sb, nb)], true, `beta-${sa}`)
      expect(Math.abs(wb! - exact)).toBeLessThan(tolerance)
      expect(wa! + wb!).toBeCloseTo(1, 12)
    }
  })

  it("give each continuous arm its probability of being best under Normal(mean, var/n)", () => {
    const a = summarize(Array.from({ length: 200 }, (_, i) => 10 + ((i * 37) % 11) - 5))
    const b = summarize(Array.from({ length: 200 }, (_, i) => 10.3 + ((i * 53) % 13) - 6))
    const se = Math.sqrt(a.m2 / (a.count - 1) / a.count + b.m2 / (b.count - 1) / b.count)
    const exact = normal().cdf((b.mean - a.mean) / se)
    const maximize = thompsonWeights([a, b], true, "normal")
    expect(Math.abs(maximize[1]! - exact)).toBeLessThan(tolerance)
    const minimize = thompsonWeights([a, b], false, "normal")
    expect(Math.abs(minimize[0]! - exact)).toBeLessThan(tolerance)
  })

  it("are reproducible for a seed and differ between seeds", () => {
    const arms = [binary(20, 400), binary(22, 400), binary(21, 400)]
    expect(thompsonWeights(arms, true, "s")).toEqual(thompsonWeights(arms, true, "s"))
    expect(thompsonWeights(arms, true, "s")).not.toEqual(thompsonWeights(arms, true, "t"))
  })
})

describe("the floor", () => {
  it("raises small weights to the floor and rescales the rest to keep the sum 1", () => {
    const floored = applyFloor([0.995, 0.004, 0.001], 0.01)
    expect(floored[1]).toBe(0.01)
    expect(floored[2]).toBe(0.01)
    expect(floored[0]).toBeCloseTo(0.98, 12)
    expect(applyFloor([0.5, 0.3, 0.2], 0.01)).toEqual([0.5, 0.3, 0.2])
    expect(applyFloor([0, 0, 0, 0], 0.01)).toEqual([0.25, 0.25, 0.25, 0.25])
  })

  it("keeps the order of the weights above it", () => {
    const floored = applyFloor([0.7, 0.2, 0.095, 0.005], 0.1)
    expect(floored.slice(2)).toEqual([0.1, 0.1])
    expect(floored[0]! / floored[1]!).toBeCloseTo(3.5, 12)
    expect(floored.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12)
  })
})

describe("reweighting", () => {
  const experiment = {
    seed: "seed",
    targetMetric: "ctr",
    metricGoals: { ctr: { direction: "maximize" as const } },
    banditHistory: []
  }

  it("keeps the configured split until every arm has the burn-in samples", () => {
    expect(nextBanditWeights(experiment, [binary(5, banditBurnIn), binary(5, banditBurnIn - 1)])).toBeNull()
    expect(nextBanditWeights(experiment, [binary(5, banditBurnIn), binary(5, banditBurnIn)])).not.toBeNull()
  })

  it("draws with the experiment's seed and round", () => {
    const arms = [binary(20, 400), binary(24, 400)]
    expect(nextBanditWeights(experiment, arms)).toEqual(thompsonWeights(arms, true, "seed:0"))
    const later = { ...experiment, banditHistory: [{ at: "2024-01-01T00:00:00.000Z", weights: [0.5, 0.5] }] }
    expect(nextBanditWeights(later, arms)).toEqual(thompsonWeights(arms, true, "seed:1"))
  })
})
