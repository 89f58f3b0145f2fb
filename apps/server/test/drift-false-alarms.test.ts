/**
 * False alarms over time over HTTP: reports carry the per-check false-alarm probability and the
 * mean days between false alarms; settings.falseAlarms derives the stricter threshold a check
 * uses (the same data flags a feature without it and not with it); bad targets are 400s naming
 * the field and the limit.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { json, makeTestApp } from "./helpers.js"

let t: Awaited<ReturnType<typeof makeTestApp>>
beforeAll(async () => {
  t = await makeTestApp({ ML_DRIFT_SCHEDULER_TICK_MS: "3600000" })
})
afterAll(() => t.close())

const request = (url: string, init?: RequestInit) => t.app.request(url, init)

interface Figures {
  readonly features: number
  readonly correction: string
  readonly pValueThreshold: number
  readonly perCheckProbability: number
  readonly perCheckUpperBound: number
  readonly meanDaysBetween: number | null
  readonly meanDaysBetweenAtLeast: number | null
  readonly targetMeanDaysBetween?: number
}

interface Report {
  readonly features: ReadonlyArray<{ feature: string; pValue: number; adjustedPValue: number; severity: string }>
  readonly alerts: ReadonlyArray<{ feature: string }>
  readonly falseAlarms: Figures
}

// Baseline: 2,000 values spread evenly over [0, 1). Window of x: 100 values spread over [0.155,
// 1.145), KS p = 0.018 (scipy's ks_2samp); y unchanged (p = 1).
const baseline = Array.from({ length: 2000 }, (_, i) => i / 2000)
const unchanged = Array.from({ length: 100 }, (_, j) => (j + 0.5) / 100)
const shifted = unchanged.map((v) => v + 0.15)

const checkMonitor = async (id: string, settings: Record<string, unknown>): Promise<Report> => {
  const features = [{ name: "x", kind: "feature", type: "numeric" }, { name: "y", kind: "feature", type: "numeric" }]
  expect((await request("/v1/drift/monitors", json({ id, features, settings }))).status).toBe(201)
  expect(
    (await request(`/v1/drift/monitors/${id}/baseline`, json({ x: baseline, y: baseline }, { method: "PUT" })))
      .status
  ).toBe(200)
  expect(
    (await request(`/v1/drift/monitors/${id}/observations`, json({ values: { x: shifted, y: unchanged } }))).status
  )
    .toBe(202)
  const report = await request(`/v1/drift/monitors/${id}/check`, { method: "POST" })
  expect(report.status).toBe(200)
  return (await report.json()) as Report
}

describe("false alarms over time", () => {
  it("reports the figures: BH at 0.05 flags a check with no drift 5% of the time, every 0.069 days", async () => {
    const report = await checkMonitor("fa-default", { checkIntervalSeconds: 300 })
    expect(report.features[0]!.pValue).toBeCloseTo(0.017957618957715013, 12)
    expect(report.features[0]!.severity).not.toBe("none")
    // One of two features drifted: a share of 0.5 is dataset drift at the default threshold too.
    expect(report.alerts.map((a) => a.feature)).toEqual(["x", "~dataset"])
    expect(report.falseAlarms).toMatchObject({
      features: 2,
      correction: "benjamini-hochberg",
      pValueThreshold: 0.05,
      perCheckProbability: 0.05
    })
    expect(report.falseAlarms.meanDaysBetween).toBeCloseTo(300 / 0.05 / 86_400, 12)
    // Hommel's bound for BH under any dependence: 0.05 (1 + 1/2).
    expect(report.falseAlarms.perCheckUpperBound).toBeCloseTo(0.075, 14)
  })

  it("settings.falseAlarms sets the threshold the check uses: interval / target, Bonferroni", async () => {
    const report = await checkMonitor("fa-bounded", {
      checkIntervalSeconds: 300,
      falseAlarms: { targetMeanDaysBetween: 30 }
    })
    const level = 300 / (30 * 86_400)
    const x = report.features[0]!
    expect(x.adjustedPValue).toBeCloseTo(2 * 0.017957618957715013, 12)
    expect(x.adjustedPValue).toBeGreaterThan(level)
    expect(x.severity).toBe("none")
    expect(report.alerts).toEqual([])
    expect(report.falseAlarms).toMatchObject({
      features: 2,
      correction: "bonferroni",
      pValueThreshold: level,
      targetMeanDaysBetween: 30
    })
    expect(report.falseAlarms.perCheckUpperBound).toBeCloseTo(level, 18)
    expect(report.falseAlarms.meanDaysBetweenAtLeast).toBeCloseTo(30, 9)

    const figures = await request("/v1/drift/monitors/fa-bounded/false-alarms")
    expect(figures.status).toBe(200)
    expect(await figures.json()).toEqual(report.falseAlarms)
  })

  it("refuses targets out of range or not longer than the check interval, naming the field and the limit", async () => {
    const create = (id: string, settings: Record<string, unknown>) =>
      request(
        "/v1/drift/monitors",
        json({ id, features: [{ name: "x", kind: "feature", type: "numeric" }], settings })
      )
    for (const target of [0, -1, 36_501]) {
      const response = await create("fa-bad", { falseAlarms: { targetMeanDaysBetween: target } })
      expect(response.status).toBe(400)
      const text = await response.text()
      expect(text).toContain("settings.falseAlarms.targetMeanDaysBetween")
      expect(text).toContain("must be greater than 0 and at most 36500")
    }
    const short = await create("fa-short", { checkIntervalSeconds: 86_400, falseAlarms: { targetMeanDaysBetween: 1 } })
    expect(short.status).toBe(400)
    const text = await short.text()
    expect(text).toContain("settings.falseAlarms.targetMeanDaysBetween")
    expect(text).toContain("must be longer than the check interval (checkIntervalSeconds 86400 = 1.00 days)")
    expect((await request("/v1/drift/monitors/fa-bad/false-alarms")).status).toBe(404)
  })
})
