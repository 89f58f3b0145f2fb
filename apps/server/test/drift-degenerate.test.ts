/**
 * Binary flags and zero-inflated counts over HTTP: a baseline whose values are all equal (or
 * mostly one value) must still alert when the window moves away from it, below the value (the
 * PSI bin under the baseline's minimum) or above it (inside the one bin that holds the whole
 * baseline, where the binned PSI is blind and the severity rule uses the KS split instead).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { json, makeTestApp } from "./helpers.js"

let t: Awaited<ReturnType<typeof makeTestApp>>
beforeAll(async () => {
  t = await makeTestApp({ ML_DRIFT_SCHEDULER_TICK_MS: "3600000" })
})
afterAll(() => t.close())

const request = (url: string, init?: RequestInit) => t.app.request(url, init)

interface Report {
  readonly alerts: ReadonlyArray<{ feature: string; severity: string }>
  readonly features: ReadonlyArray<
    { feature: string; psi: number; ksStatistic: number; pValue: number; severity: string; edges: Array<number> }
  >
}

const checkFlag = async (id: string, window: ReadonlyArray<number>): Promise<Report> => {
  const created = await request(
    "/v1/drift/monitors",
    json({ id, features: [{ name: "flag", kind: "feature", type: "numeric" }], settings: { windowSize: 1000 } })
  )
  expect(created.status).toBe(201)
  const baseline = await request(
    `/v1/drift/monitors/${id}/baseline`,
    json({ flag: Array(5000).fill(1) }, { method: "PUT" })
  )
  expect(baseline.status).toBe(200)
  expect((await request(`/v1/drift/monitors/${id}/observations`, json({ values: { flag: window } }))).status).toBe(202)
  const report = await request(`/v1/drift/monitors/${id}/check`, { method: "POST" })
  expect(report.status).toBe(200)
  return (await report.json()) as Report
}

describe("drift of a constant baseline over HTTP", () => {
  it("alerts when 70% of the window is below the baseline's only value (5,000 x 1 vs 700 x 0, 300 x 1)", async () => {
    const report = await checkFlag("flag-below", [...Array(700).fill(0), ...Array(300).fill(1)])
    const feature = report.features[0]!
    expect(feature.ksStatistic).toBeCloseTo(0.7, 12)
    expect(feature.pValue).toBeLessThan(1e-300)
    expect(feature.edges).toEqual([1])
    // (0.7 - 1e-4)·ln(0.7 / 1e-4) + (0.3 - 1)·ln(0.3)
    expect(feature.psi).toBeCloseTo((0.7 - 1e-4) * Math.log(0.7 / 1e-4) + (0.3 - 1) * Math.log(0.3), 10)
    expect(feature.severity).toBe("critical")
    expect(report.alerts).toEqual([expect.objectContaining({ feature: "flag", severity: "critical" })])
  })

  it("alerts when 70% of the window lies above it, inside the baseline's one bin (PSI 0)", async () => {
    const report = await checkFlag("flag-above", [...Array(700).fill(2), ...Array(300).fill(1)])
    const feature = report.features[0]!
    expect(feature.psi).toBe(0)
    expect(feature.ksStatistic).toBeCloseTo(0.7, 12)
    expect(feature.severity).toBe("critical")
    expect(report.alerts.map((a) => a.feature)).toEqual(["flag"])
  })

  it("stays quiet when the window holds only the baseline's value", async () => {
    const report = await checkFlag("flag-same", Array(1000).fill(1))
    expect(report.features[0]!.severity).toBe("none")
    expect(report.alerts).toEqual([])
  })
})
