/**
 * False alarms over time: the per-check probability of the p-value corrections against
 * statsmodels' multipletests by Monte-Carlo (independent and positively dependent features) and
 * against 50-digit arithmetic for tiny levels; the resampled probability of distance rules against
 * scipy's exact KS distribution and scipy Monte-Carlo; the bound a target sets.
 * References: golden/generate_false_alarms.py (false_alarms.json).
 */
import { describe, expect, it } from "vitest"
import { chiSquareTest } from "../src/drift/tests/ChiSquare.js"
import { ksTest } from "../src/drift/tests/Ks.js"
import { wassersteinTest } from "../src/drift/tests/Wasserstein.js"
import {
  type Baseline,
  checkLevelFor,
  decisionSettings,
  defaultMonitorSettings,
  distanceFalseAlarm,
  falseAlarmFigures,
  falseAlarmIssues,
  makeBaseline,
  makeDistanceFalseAlarmCache,
  monitorFalseAlarms,
  type MonitorSettings,
  perCheckFalseAlarm,
  pValueFalseAlarm
} from "../src/index.js"
import { makeRandom } from "../src/stats/Random.js"
import golden from "./golden/false_alarms.json" with { type: "json" }

type Correction = MonitorSettings["correction"]

const normalBaseline = (() => {
  const random = makeRandom("false-alarms-baseline")
  const values = Array.from({ length: 100_000 }, () => random.normal())
  return makeBaseline({
    monitorId: "m",
    feature: "x",
    type: "numeric",
    values,
    version: 1,
    at: "2026-01-01T00:00:00.000Z",
    settings: defaultMonitorSettings
  })
})()

describe("the p-value rules' probability of a false alarm per check", () => {
  const independent = golden.corrections.filter((c) => c.dependence === "independent")
  it.each(independent)(
    "k = $k, alpha = $alpha, $correction: the Monte-Carlo share of statsmodels' decisions ($share)",
    ({ alpha, correction, k, se, share }) => {
      const figure = pValueFalseAlarm(Array(k).fill(alpha), correction as Correction)
      expect(Math.abs(figure.probability - share)).toBeLessThan(4 * se)
      expect(figure.upperBound).toBeGreaterThanOrEqual(figure.probability)
    }
  )

  const dependent = golden.corrections.filter((c) => c.dependence !== "independent")
  it.each(dependent)(
    "k = $k, alpha = $alpha, $correction, equicorrelated: the bound holds ($share)",
    ({ alpha, correction, k, se, share }) => {
      const figure = pValueFalseAlarm(Array(k).fill(alpha), correction as Correction)
      expect(share).toBeLessThanOrEqual(figure.upperBound + 4 * se)
    }
  )

  it.each(golden.exact)("1 - (1 - $a)^$k keeps its digits (mpmath: $probability)", ({ a, k, probability }) => {
    const figure = pValueFalseAlarm(Array(k).fill(a), "none")
    expect(Math.abs(figure.probability - probability) / probability).toBeLessThan(1e-12)
  })

  it("no features: never", () => {
    expect(pValueFalseAlarm([], "bonferroni")).toEqual({ probability: 0, upperBound: 0 })
  })
})

describe("distance rules: the probability by resampling the frozen baseline", () => {
  const numeric = golden.distances.filter((d) => d.method !== "chi-square")
  it.each(numeric)("$method >= $threshold at windows of $n: scipy gives $probability", (reference) => {
    const test = reference.method === "ks" ? ksTest : wassersteinTest
    const resamples = 2000
    const estimate = distanceFalseAlarm({
      test,
      baseline: normalBaseline,
      windowSize: reference.n,
      threshold: reference.threshold - 1e-12, // D = h/n exactly, compared with >=
      settings: defaultMonitorSettings,
      resamples
    })
    const p = reference.probability
    const se = Math.sqrt(p * (1 - p) / resamples + reference.se ** 2)
    expect(Math.abs(estimate.probability - p)).toBeLessThan(4 * se)
    expect(estimate.upperBound95).toBeGreaterThan(estimate.probability)
  })

  it("chi-square statistic >= 4 over three categories (0.5, 0.3, 0.2), windows of 200: scipy Monte-Carlo", () => {
    const reference = golden.distances.find((d) => d.method === "chi-square")!
    const baseline: Baseline = {
      type: "categorical",
      version: 1,
      createdAt: "2026-01-01T00:00:00.000Z",
      count: 100_000,
      missingShare: 0,
      counts: { a: 50_000, b: 30_000, c: 20_000 }
    }
    const resamples = 2000
    const estimate = distanceFalseAlarm({
      test: chiSquareTest,
      baseline,
      windowSize: reference.n,
      threshold: reference.threshold,
      settings: defaultMonitorSettings,
      resamples
    })
    const p = reference.probability
    expect(Math.abs(estimate.probability - p)).toBeLessThan(4 * Math.sqrt(p * (1 - p) / resamples + reference.se ** 2))
  })

  it("is deterministic, and computed once per baseline version by the cache", () => {
    const input = {
      test: wassersteinTest,
      baseline: normalBaseline,
      windowSize: 100,
      threshold: 0.1,
      settings: defaultMonitorSettings,
      resamples: 50
    }
    const first = distanceFalseAlarm(input)
    expect(distanceFalseAlarm(input)).toEqual(first)
    const cache = makeDistanceFalseAlarmCache(2)
    let runs = 0
    const key = {
      monitorId: "m",
      feature: "x",
      baselineVersion: 1,
      method: "wasserstein",
      threshold: 0.1,
      windowSize: 100
    }
    const estimate = () => {
      runs++
      return distanceFalseAlarm(input)
    }
    expect(cache.get(key, estimate)).toEqual(first)
    expect(cache.get(key, estimate)).toEqual(first)
    expect(runs).toBe(1)
    cache.get({ ...key, baselineVersion: 2 }, estimate)
    expect(runs).toBe(2)
  })

  it("combines with the p-value rules as independent events, and by the union bound", () => {
    const figure = perCheckFalseAlarm(
      [{ kind: "p-value", threshold: 0.05 }, { kind: "distance", method: "psi", threshold: 0.1 }],
      "none",
      () => 0.2
    )
    expect(figure.probability).toBeCloseTo(1 - 0.95 * 0.8, 14)
    expect(figure.upperBound).toBeCloseTo(0.25, 14)
  })
})

describe("a monitor's figures with a distance rule", () => {
  it("estimates the rule from its feature's baseline once per version, and combines it with the p-value rules", () => {
    const reference = golden.distances.find((d) => d.method === "wasserstein" && d.n === 200)!
    const settings: MonitorSettings = { ...defaultMonitorSettings, windowSize: 200, correction: "none" }
    const cache = makeDistanceFalseAlarmCache()
    const features = [
      { feature: "x", rule: { kind: "p-value", threshold: 0.05 } as const, baseline: undefined },
      {
        feature: "y",
        rule: { kind: "distance", method: "wasserstein", threshold: reference.threshold } as const,
        baseline: normalBaseline
      }
    ]
    const figures = monitorFalseAlarms({ monitorId: "m", settings, features, cache })
    const distance = 1 - (1 - figures.perCheckProbability) / 0.95
    const p = reference.probability
    expect(Math.abs(distance - p)).toBeLessThan(4 * Math.sqrt(p * (1 - p) / 200 + reference.se ** 2))
    expect(figures.perCheckUpperBound).toBeCloseTo(0.05 + distance, 12)
    let estimated = false
    cache.get({
      monitorId: "m",
      feature: "y",
      baselineVersion: 1,
      method: "wasserstein",
      threshold: reference.threshold,
      windowSize: 200
    }, () => {
      estimated = true
      return { probability: 0, exceedances: 0, resamples: 0, upperBound95: 0 }
    })
    expect(estimated).toBe(false)
    expect(monitorFalseAlarms({ monitorId: "m", settings, features, cache })).toEqual(figures)
  })

  it("counts a distance rule it cannot estimate (no baseline, unknown method) as certain to alarm", () => {
    const figures = monitorFalseAlarms({
      monitorId: "m",
      settings: defaultMonitorSettings,
      features: [{
        feature: "y",
        rule: { kind: "distance", method: "no-such-test", threshold: 0.1 },
        baseline: undefined
      }],
      cache: makeDistanceFalseAlarmCache()
    })
    expect(figures.perCheckProbability).toBe(1)
  })
})

describe("the falseAlarms setting", () => {
  const settings: MonitorSettings = {
    ...defaultMonitorSettings,
    checkIntervalSeconds: 300,
    falseAlarms: { targetMeanDaysBetween: 30 }
  }

  it("decides with Bonferroni at interval / target, so false alarms are at least the target apart", () => {
    const level = 300 / (30 * 86_400)
    expect(checkLevelFor(300, settings.falseAlarms!)).toBe(level)
    expect(decisionSettings(settings)).toMatchObject({ correction: "bonferroni", pValueThreshold: level })
    const figures = falseAlarmFigures(settings, Array(10).fill({ kind: "p-value", threshold: 0.05 }))
    expect(figures.pValueThreshold).toBe(level)
    expect(figures.perCheckUpperBound).toBeCloseTo(level, 18)
    expect(figures.meanDaysBetweenAtLeast).toBeCloseTo(30, 9)
    expect(figures.meanDaysBetween!).toBeGreaterThanOrEqual(30)
    expect(figures.targetMeanDaysBetween).toBe(30)
  })

  it("only tightens: a target laxer than the threshold keeps it", () => {
    const lax = { ...settings, checkIntervalSeconds: 86_400, falseAlarms: { targetMeanDaysBetween: 2 } }
    expect(decisionSettings(lax).pValueThreshold).toBe(0.05)
  })

  it("without it: BH at 0.05 over 20 features alarms 5% of checks, every 0.069 days", () => {
    const figures = falseAlarmFigures(defaultMonitorSettings, Array(20).fill({ kind: "p-value", threshold: 0.05 }))
    expect(figures.perCheckProbability).toBe(0.05)
    expect(figures.meanDaysBetween).toBeCloseTo(300 / 0.05 / 86_400, 12)
    expect(decisionSettings(defaultMonitorSettings)).toBe(defaultMonitorSettings)
  })

  it("a target not longer than the check interval is refused, naming the field", () => {
    expect(falseAlarmIssues({ checkIntervalSeconds: 86_400, falseAlarms: { targetMeanDaysBetween: 1 } })).toEqual([
      expect.objectContaining({ path: ["settings", "falseAlarms", "targetMeanDaysBetween"] })
    ])
    expect(falseAlarmIssues({ checkIntervalSeconds: 86_400, falseAlarms: { targetMeanDaysBetween: 1.5 } })).toEqual([])
  })
})
