/**
 * Drift methods (src/drift/DriftMethod.ts): the automatic choice picks Evidently's test for each
 * kind of feature and its statistic agrees with scipy / statsmodels (test/golden/
 * generate_auto_method.py -> auto_method.json, which implements Evidently's table on its own);
 * overrides per feature and per monitor win over it; a monitor stored without settings.drift
 * keeps KS / chi-square; bad choices are named; dataset drift weighs the verdicts.
 */
import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import { makeBaseline } from "../src/drift/Baseline.js"
import { assessFeatures, type FeatureCheck, testFeature } from "../src/drift/Check.js"
import { datasetDrift } from "../src/drift/DatasetDrift.js"
import { driftMethodIssues } from "../src/drift/DriftMethod.js"
import { defaultMonitorSettings, type FeatureSpec, Monitor, type MonitorSettings } from "../src/drift/Monitor.js"
import { DriftReport } from "../src/drift/Report.js"
import golden from "./golden/auto_method.json" with { type: "json" }

const automatic: MonitorSettings = { ...defaultMonitorSettings, correction: "none", drift: {} }

const check = (
  spec: FeatureSpec,
  baselineValues: ReadonlyArray<number | string>,
  window: ReadonlyArray<number | string>,
  settings: MonitorSettings = automatic
): FeatureCheck => {
  const baseline = makeBaseline({
    monitorId: "m",
    feature: spec.name,
    type: spec.type,
    values: baselineValues,
    version: 1,
    at: "2026-12-01T00:00:00.000Z",
    settings
  })
  return assessFeatures([testFeature(spec, baseline, window, settings)], settings)[0]!
}

const close = (actual: number | null | undefined, expected: number | null, tolerance = 1e-12) => {
  if (expected === null) return expect(actual).toBeNull()
  expect(Math.abs(actual! - expected)).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(expected)))
}

describe("automatic drift method choice (Evidently's table) against scipy", () => {
  for (const c of golden.cases) {
    it(c.name, () => {
      const spec: FeatureSpec = { name: "x", kind: "feature", type: c.type as "numeric" | "categorical" }
      const result = check(spec, c.baseline, c.window)
      expect(result.drift).toMatchObject({ method: c.method, chosenBy: "auto" })
      close(result.drift!.statistic, c.statistic)
      if (c.pValue === null) expect(result.drift!.pValue).toBeUndefined()
      else close(result.drift!.pValue, c.pValue)
      const significance = c.pValue !== null
      expect(result.drift!.threshold).toBe(significance ? 0.05 : 0.1)
      expect(result.drift!.drifted).toBe(significance ? c.pValue! < 0.05 : c.statistic! >= 0.1)
    })
  }

  it("covers each branch of the table", () => {
    expect(new Set(golden.cases.map((c) => c.method))).toEqual(
      new Set(["ks", "chi-square", "z-test", "fisher-exact", "wasserstein", "jensen-shannon"])
    )
  })
})

describe("overrides and monitors created before drift methods", () => {
  const numeric: FeatureSpec = { name: "x", kind: "feature", type: "numeric" }
  const baseline = golden.cases[0]!.baseline
  const shifted = golden.cases[0]!.window

  it("a feature's method and threshold win over the monitor's, which wins over the table", () => {
    const monitorWide = { ...automatic, drift: { numeric: { method: "psi", threshold: 0.05 } } }
    expect(check(numeric, baseline, shifted, monitorWide).drift).toMatchObject({
      method: "psi",
      chosenBy: "monitor",
      threshold: 0.05
    })
    const own: FeatureSpec = { ...numeric, drift: { method: "wasserstein", threshold: 5 } }
    const result = check(own, baseline, shifted, monitorWide)
    expect(result.drift).toMatchObject({ method: "wasserstein", chosenBy: "feature", threshold: 5, drifted: false })
    // The drift method gates the severity: the PSI band alone would say otherwise.
    expect(result.severity).toBe("none")
  })

  it("a binary test named for a feature that is not binary gives way to the table", () => {
    const own: FeatureSpec = { ...numeric, drift: { method: "z-test" } }
    expect(check(own, baseline, shifted).drift).toMatchObject({ method: "ks", chosenBy: "auto" })
  })

  it("a monitor without settings.drift keeps KS deciding, at its pValueThreshold after the correction", () => {
    const legacy: MonitorSettings = { ...defaultMonitorSettings, correction: "none" }
    const large = golden.cases[5]! // a baseline of 1,500: the table would take Wasserstein
    const result = check(numeric, large.baseline, large.window, legacy)
    expect(result.drift).toMatchObject({ method: "ks", chosenBy: "legacy", threshold: 0.05 })
    expect(result.drift!.pValue).toBe(result.pValue)
    expect(result.drift!.drifted).toBe(result.adjustedPValue! < 0.05)
  })

  it("reads monitors and reports stored before drift methods (no drift keys)", () => {
    const stored = {
      id: "old",
      modelId: null,
      features: [numeric],
      settings: defaultMonitorSettings,
      createdAt: "2026-01-01T00:00:00.000Z"
    }
    expect(Schema.decodeUnknownSync(Monitor)(JSON.parse(JSON.stringify(stored))).settings.drift).toBeUndefined()
    const { drift: _drift, ...oldCheck } = check(numeric, baseline, shifted)
    const report = { id: "check-1", monitorId: "old", at: "2026-01-01T00:00:00.000Z", features: [oldCheck], alerts: [] }
    expect(Schema.decodeUnknownSync(DriftReport)(JSON.parse(JSON.stringify(report))).features[0]!.drift).toBeUndefined()
  })

  it("names an unknown method, a method of the other type and a threshold that does not fit", () => {
    const features: Array<FeatureSpec> = [
      { name: "a", kind: "feature", type: "numeric", drift: { method: "chi-square" } },
      { name: "b", kind: "feature", type: "categorical", drift: { method: "ks" } },
      { name: "c", kind: "feature", type: "numeric", drift: { method: "ks", threshold: 2 } },
      { name: "d", kind: "feature", type: "numeric", drift: { threshold: 0.2 } },
      { name: "e", kind: "feature", type: "numeric", drift: { method: "wasserstein", threshold: 2 } }
    ]
    const issues = driftMethodIssues(features, { ...automatic, drift: { categorical: { method: "mmd" } } })
    expect(issues.map((i) => i.path.join("."))).toEqual([
      "features.0.drift.method",
      "features.1.drift.method",
      "features.2.drift.threshold",
      "features.3.drift.threshold",
      "settings.drift.categorical.method"
    ])
    expect(issues[0]!.message).toMatch(/^must be a numeric drift method: one of ks, psi, /)
    expect(issues[1]!.message).toMatch(/^must be a categorical drift method: one of chi-square, psi, /)
  })
})

describe("dataset drift", () => {
  const verdict = (feature: string, drifted: boolean, severity = drifted ? "medium" : "none") =>
    ({ feature, severity, drift: { drifted } }) as unknown as FeatureCheck
  const features: Array<FeatureSpec> = ["a", "b", "c", "d"].map((name) => ({ name, kind: "feature", type: "numeric" }))
  const checks = [verdict("a", true), verdict("b", true), verdict("c", false), verdict("d", false)]

  it("drifts when the share of drifted features reaches the threshold (Evidently: share >= drift_share)", () => {
    expect(datasetDrift(features, checks, { drift: {} })).toEqual({
      share: 0.5,
      threshold: 0.5,
      drifted: true,
      driftedFeatures: ["a", "b"],
      testedFeatures: 4,
      severity: "medium"
    })
    expect(datasetDrift(features, checks, { drift: { datasetShare: 0.6 } })).toMatchObject({ drifted: false })
  })

  it("counts a drifted feature only at a severity of at least low, as its alert does", () => {
    // A significant but tiny shift (PSI band none) raised no feature alert: no dataset drift either.
    const tiny = [verdict("a", true, "none"), verdict("b", true), verdict("c", false), verdict("d", false)]
    expect(datasetDrift(features, tiny, {})).toMatchObject({ share: 0.25, drifted: false, driftedFeatures: ["b"] })
  })

  it("weighs features, leaves out weight 0 and untested ones, and is high from halfway to all", () => {
    const weighted = features.map((f) => f.name === "a" ? { ...f, drift: { weight: 3 } } : f)
    expect(datasetDrift(weighted, checks, {})).toMatchObject({ share: 4 / 6, severity: "medium" })
    const withoutCd = features.map((f) => ["c", "d"].includes(f.name) ? { ...f, drift: { weight: 0 } } : f)
    expect(datasetDrift(withoutCd, checks, {})).toMatchObject({ share: 1, testedFeatures: 2, severity: "high" })
    const untested = [{ feature: "a" } as FeatureCheck]
    expect(datasetDrift(features, untested, {})).toBeUndefined()
  })
})
