/**
 * The numeric extra tests inside a check (opt-in per monitor through settings.extraTests), and
 * the severity rule's split PSI for shifts the frozen PSI bins cannot see.
 */
import { describe, expect, it } from "vitest"
import {
  andersonKSamp,
  assessFeatures,
  cramerVonMises2Samp,
  defaultMonitorSettings,
  driftTests,
  energyDistance,
  extraDriftTests,
  extraTestIssues,
  makeBaseline,
  type MonitorSettings,
  numpyStd,
  severityFor,
  splitPsi,
  testFeature,
  wassersteinDistance
} from "../src/index.js"
import { makeSample } from "./golden/samples.js"

const normalish = (seed: number, n: number, loc = 0) =>
  Array.from(makeSample({ seed, n, kind: "irwin", loc, scale: 1, levels: 0 }))
const feature = { name: "x", kind: "feature" as const, type: "numeric" as const }
const allExtras = ["wasserstein", "energy", "cramer-von-mises", "anderson-darling"]
const baselineOf = (values: Array<number>, settings: MonitorSettings = defaultMonitorSettings) =>
  makeBaseline({
    monitorId: "m",
    feature: "x",
    type: "numeric",
    values,
    version: 1,
    at: "2030-01-01T00:00:00Z",
    settings
  })

describe("extra numeric tests in a check", () => {
  const baselineValues = normalish(11, 5000)
  const window = normalish(12, 1000, 0.15)
  const baseline = baselineOf(baselineValues)

  it("report each named test's statistics, equal to the stats functions on the same data", () => {
    const settings = { ...defaultMonitorSettings, extraTests: allExtras }
    const tested = testFeature(feature, baseline, window, settings)
    const extra = tested.statistics!
    expect(Object.keys(extra)).toEqual(expect.arrayContaining([...allExtras]))
    const raw = wassersteinDistance(baselineValues, window)
    expect(extra["wasserstein"]!.details!["raw"]).toBeCloseTo(raw, 12)
    expect(extra["wasserstein"]!.statistic).toBeCloseTo(raw / numpyStd(baselineValues), 12)
    expect(extra["energy"]!.statistic).toBeCloseTo(energyDistance(baselineValues, window), 12)
    const cvm = cramerVonMises2Samp(baselineValues, window)
    expect(extra["cramer-von-mises"]!.statistic).toBeCloseTo(cvm.statistic, 10)
    expect(extra["cramer-von-mises"]!.pValue).toBeCloseTo(cvm.pValue, 12)
    const ad = andersonKSamp([baselineValues, window])
    expect(extra["anderson-darling"]!.statistic).toBeCloseTo(ad.statistic, 10)
    expect(extra["anderson-darling"]!.details!["criticalValues"]).toEqual(ad.criticalValues)
    // A 0.15 sd shift at n = 1,000 is found by both significance tests.
    expect(extra["cramer-von-mises"]!.pValue).toBeLessThan(0.01)
    expect(extra["anderson-darling"]!.pValue).toBeLessThan(0.01)
  })

  it("decide nothing: KS and PSI, the p-values and the severity are the same with or without them", () => {
    const without = testFeature(feature, baseline, window, defaultMonitorSettings)
    const withExtras = testFeature(feature, baseline, window, { ...defaultMonitorSettings, extraTests: allExtras })
    for (const name of allExtras) expect(without.statistics![name]).toBeUndefined()
    const { statistics: withStatistics, ...rest } = withExtras
    const { statistics: withoutStatistics, ...restWithout } = without
    expect(rest).toEqual(restWithout)
    // The extra tests only add entries: every statistic of the default tests is unchanged.
    expect(withStatistics).toMatchObject(withoutStatistics!)
    const settings = { ...defaultMonitorSettings, extraTests: allExtras }
    expect(assessFeatures([withExtras], settings)[0]!.severity).toBe(assessFeatures([without], settings)[0]!.severity)
  })

  it("are registered apart from the deciding tests, under unique names", () => {
    const names = extraDriftTests.map((t) => `${t.appliesTo}:${t.name}`)
    expect(new Set(names).size).toBe(names.length)
    for (const t of extraDriftTests) expect(driftTests.map((d) => d.name)).not.toContain(t.name)
    expect(extraDriftTests.filter((t) => t.appliesTo === "numeric").map((t) => t.name).sort()).toEqual(
      expect.arrayContaining([...allExtras].sort())
    )
  })

  it("names only registered tests, once each", () => {
    expect(extraTestIssues(["wasserstein", "energy"])).toEqual([])
    expect(extraTestIssues(undefined)).toEqual([])
    const issues = extraTestIssues(["wasserstein", "mmd", "wasserstein"])
    expect(issues.map((i) => i.path)).toEqual([["settings", "extraTests", 1], ["settings", "extraTests", 2]])
    expect(issues[0]!.message).toMatch(/must be one of .*wasserstein/)
  })

  it("handle a constant baseline: a finite normed Wasserstein (divisor 0.001) and AD with nothing to compare", () => {
    const constant = baselineOf(Array(300).fill(4))
    const settings = { ...defaultMonitorSettings, minWindow: 10, extraTests: allExtras }
    const moved = testFeature(feature, constant, [...Array(50).fill(4), ...Array(50).fill(5)], settings).statistics!
    expect(moved["wasserstein"]!.statistic).toBeCloseTo(0.5 / 0.001, 9)
    expect(moved["anderson-darling"]!.pValue).toBe(0.001)
    const same = testFeature(feature, constant, Array(100).fill(4), settings).statistics!
    expect(same["anderson-darling"]).toMatchObject({ statistic: 0, pValue: 1 })
    expect(same["wasserstein"]!.statistic).toBe(0)
  })
})

describe("severity when the binned PSI is degenerate", () => {
  const bands = defaultMonitorSettings.severityThresholds
  const base = { drifted: true, missingShare: 0, baselineMissingShare: 0, bands }

  it("uses the larger of the binned and the split PSI, and only for drifted features", () => {
    expect(severityFor({ ...base, psi: 0, splitPsi: 7 })).toBe("critical")
    expect(severityFor({ ...base, psi: 0.3, splitPsi: 0.05 })).toBe("medium")
    expect(severityFor({ ...base, psi: 0, splitPsi: null })).toBe("none")
    expect(severityFor({ ...base, psi: 0, splitPsi: 7, drifted: false })).toBe("none")
  })

  it("splits a constant baseline where the window leaves it (5,000 x 1 vs 700 x 2, 300 x 1)", () => {
    const result = splitPsi(
      new Float64Array(5000).fill(1),
      Float64Array.from([...Array(300).fill(1), ...Array(700).fill(2)])
    )
    expect(result.location).toBe(1)
    expect(result.baselineShares).toEqual([1, 0])
    expect(result.currentShares[0]).toBeCloseTo(0.3, 15)
    expect(result.value).toBeCloseTo((0.3 - 1) * Math.log(0.3) + (0.7 - 1e-4) * Math.log(0.7 / 1e-4), 12)
  })

  it("a zero-inflated baseline whose zeros move inside the first bin is no longer 'none'", () => {
    // 85% zeros: edges [0, p90]; zeros moving to 0.001 stay in [0, p90), so the binned PSI is ~0.
    const values = [...Array(850).fill(0), ...normalish(21, 150, 3)]
    const baseline = baselineOf(values)
    const window = [...Array(850).fill(0.001), ...normalish(22, 150, 3)]
    const settings = defaultMonitorSettings
    const tested = testFeature(feature, baseline, window, settings)
    expect(tested.psi!).toBeLessThan(0.01)
    expect(tested.splitPsi!).toBeGreaterThan(1)
    expect(assessFeatures([tested], settings)[0]!.severity).toBe("critical")
  })

  it("keeps tiny significant shifts at none: the split PSI of a small continuous shift stays under 0.1", () => {
    const baseline = baselineOf(normalish(31, 100_000))
    const tested = testFeature(feature, baseline, normalish(32, 50_000, 0.05), {
      ...defaultMonitorSettings,
      windowSize: 50_000
    })
    expect(tested.pValue!).toBeLessThan(1e-6)
    expect(tested.splitPsi!).toBeLessThan(0.1)
    expect(assessFeatures([tested], defaultMonitorSettings)[0]!.severity).toBe("none")
  })
})
