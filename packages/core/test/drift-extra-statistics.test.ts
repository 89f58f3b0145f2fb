/**
 * The binned and binary tests inside a check: every test that applies to a feature reports its
 * statistic (and p-value) under its name, tests that do not apply are absent, and KS or
 * chi-square still decide drift and PSI the severity.
 */
import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import { numericFisherExactTest } from "../src/drift/tests/FisherExact.js"
import { numericHellingerTest } from "../src/drift/tests/Hellinger.js"
import { numericJensenShannonTest } from "../src/drift/tests/JensenShannon.js"
import { numericKlDivergenceTest } from "../src/drift/tests/KlDivergence.js"
import { numericZTest } from "../src/drift/tests/ZTest.js"
import {
  assessFeatures,
  categoricalPsi,
  chiSquareIndependence,
  defaultMonitorSettings,
  DriftReport,
  fisherExact,
  ks2Samp,
  makeBaseline,
  psi,
  testFeature,
  twoProportionZTest,
  type WindowValue
} from "../src/index.js"
import { makeSample } from "./golden/samples.js"

const at = "2030-01-01T00:00:00.000Z"
const settings = { ...defaultMonitorSettings, minWindow: 20 }
const numeric = { name: "flag", kind: "feature" as const, type: "numeric" as const }
const categorical = { name: "plan", kind: "feature" as const, type: "categorical" as const }
const baselineOf = (type: "numeric" | "categorical", values: ReadonlyArray<WindowValue>) =>
  makeBaseline({ monitorId: "m", feature: "f", type, values, version: 1, at, settings })
const repeat = <A>(value: A, times: number): Array<A> => Array<A>(times).fill(value)

describe("extra statistics in a check", () => {
  it("report the issue's constant 0/1 baseline as binary drift, while KS still decides", () => {
    // The case: a baseline of 5,000 ones and a window of 700 zeros and 300 ones.
    const baseline = baselineOf("numeric", repeat(1, 5000))
    const window = [...repeat(0, 700), ...repeat(1, 300)]
    const tested = testFeature(numeric, baseline, window, settings)
    const z = twoProportionZTest({ successes: 300, trials: 1000 }, { successes: 5000, trials: 5000 })
    expect(tested.statistics!["z-test"]).toEqual({ statistic: z.z, pValue: z.pValue })
    expect(z.pValue).toBe(0) // statsmodels: z = -62.95, p = 0.0 (binned.json)
    expect(tested.statistics!["fisher-exact"]).toEqual({ statistic: 0, pValue: 0 })
    const ks = ks2Samp(repeat(1, 5000), window)
    expect(tested.pValue).toBe(ks.pValue)
    expect(tested.statistics!.ks).toEqual({ statistic: ks.statistic, pValue: ks.pValue })
  })

  it("leave the binary tests out for numeric features that are not 0/1, and decide by KS and PSI as before", () => {
    const values = Array.from(makeSample({ seed: 301, n: 2000, kind: "irwin", loc: 0, scale: 1, levels: 0 }))
    const window = Array.from(makeSample({ seed: 302, n: 400, kind: "irwin", loc: 0.3, scale: 1, levels: 0 }))
    const baseline = baselineOf("numeric", values)
    if (baseline.type !== "numeric") throw new Error("numeric baseline expected")
    const tested = testFeature(numeric, baseline, window, settings)
    expect(Object.keys(tested.statistics!)).toEqual(["ks", "psi", "jensen-shannon", "kl-divergence", "hellinger"])
    const ks = ks2Samp(values, window)
    const psiValue =
      psi({ edges: baseline.edges, baselineShares: baseline.shares, baselineCount: 2000, strategy: "quantile" }, window)
        .value
    expect(tested).toMatchObject({ pValue: ks.pValue, ksStatistic: ks.statistic, psi: psiValue })
    expect(tested.statistics!.psi).toEqual({ statistic: psiValue })
    for (const test of [numericJensenShannonTest, numericKlDivergenceTest, numericHellingerTest]) {
      expect(tested.statistics![test.name]).toEqual({ statistic: test.run(baseline, window, settings)!.statistic })
    }
    expect(numericZTest.run(baseline, window, settings)).toBeNull()
    expect(numericFisherExactTest.run(baseline, window, settings)).toBeNull()
    // The severity still comes from KS's corrected p-value and PSI.
    const [assessed] = assessFeatures([tested], settings)
    expect(assessed!.adjustedPValue).toBe(ks.pValue)
  })

  it("leave the binary tests out for a numeric feature that is constant in the baseline and the window", () => {
    const tested = testFeature(numeric, baselineOf("numeric", repeat(0, 100)), repeat(0, 50), settings)
    expect(Object.keys(tested.statistics!)).not.toContain("z-test")
    expect(Object.keys(tested.statistics!)).not.toContain("fisher-exact")
  })

  it("run the binary tests on categorical features with exactly two categories in all", () => {
    const baseline = baselineOf("categorical", [...repeat("free", 800), ...repeat("paid", 200)])
    const twoCategories = testFeature(categorical, baseline, [...repeat("free", 60), ...repeat("paid", 40)], settings)
    const fisher = fisherExact([[40, 60], [200, 800]])
    expect(twoCategories.statistics!["fisher-exact"]).toEqual({ statistic: fisher.oddsRatio, pValue: fisher.pValue })
    expect(twoCategories.statistics!["z-test"]!.statistic).toBeGreaterThan(0) // "paid" is more common now
    // The deciding p-value is still chi-square's, the severity's distance PSI's.
    const chi = chiSquareIndependence([[800, 200], [60, 40]], { correction: false })
    expect(twoCategories.pValue).toBe(chi.pValue)
    expect(twoCategories.psi).toBe(categoricalPsi({ free: 800, paid: 200 }, { free: 60, paid: 40 }).value)

    // A third category in the window: the binary tests do not apply.
    const three = testFeature(
      categorical,
      baseline,
      [...repeat("free", 60), ...repeat("paid", 30), ...repeat("team", 10)],
      settings
    )
    expect(Object.keys(three.statistics!)).toEqual([
      "chi-square",
      "psi",
      "jensen-shannon",
      "kl-divergence",
      "hellinger"
    ])
  })

  it("report an infinite odds ratio as null and keep reports decodable with and without statistics", () => {
    // No negatives in the window: scipy's odds ratio is +inf, which JSON cannot carry.
    const baseline = baselineOf("categorical", [...repeat("no", 50), ...repeat("yes", 50)])
    const tested = testFeature(categorical, baseline, repeat("yes", 30), settings)
    expect(tested.statistics!["fisher-exact"]!.statistic).toBeNull()
    expect(tested.statistics!["fisher-exact"]!.pValue).toBeGreaterThan(0)
    const [feature] = assessFeatures([tested], settings)
    const report = { id: "r", monitorId: "m", at, features: [feature!], alerts: [] }
    const encoded = JSON.parse(JSON.stringify(Schema.encodeSync(DriftReport)(report)))
    expect(Schema.decodeUnknownSync(DriftReport)(encoded)).toEqual(report)
    // A report stored before the extra statistics existed has no `statistics`.
    const { statistics: _, ...older } = feature!
    expect(Schema.decodeUnknownSync(DriftReport)({ ...report, features: [older] }).features[0]).toEqual(older)
  })

  it("leave statistics out of untested features", () => {
    const tested = testFeature(numeric, baselineOf("numeric", [0, 1, 1, 0]), [1, 0], settings)
    expect(tested.pValue).toBeNull()
    expect(tested).not.toHaveProperty("statistics")
  })
})
