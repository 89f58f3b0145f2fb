/** CBPE over HTTP: a monitor's performance setting is validated and its estimate appears in check reports. */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { json, makeTestApp } from "./helpers.js"

let t: Awaited<ReturnType<typeof makeTestApp>>
beforeAll(async () => {
  t = await makeTestApp({ ML_DRIFT_SCHEDULER_TICK_MS: "3600000" })
})
afterAll(() => t.close())

const request = (url: string, init?: RequestInit) => t.app.request(url, init)
let state = 11
const uniform = () => {
  state = (Math.imul(state, 1664525) + 1013904223) >>> 0
  return state / 4294967296
}
/** Probabilities spread like a fairly confident classifier's (a logistic of a wide symmetric score). */
const probabilities = (n: number, spread: number) =>
  Array.from({ length: n }, () => 1 / (1 + Math.exp(-spread * (uniform() + uniform() + uniform() - 1.5))))

const features = [
  { name: "amount", kind: "feature", type: "numeric" },
  { name: "score", kind: "prediction", type: "numeric" }
]

describe("performance estimation over HTTP", () => {
  it("refuses a setting naming no numeric prediction feature or a bad threshold, naming the field", async () => {
    // Storage files are made by the first write: compare from there.
    expect((await request("/v1/drift/monitors", json({ id: "warm", features }))).status).toBe(201)
    const before = await t.snapshot()
    const notPrediction = await request("/v1/drift/monitors", json({ features, performance: { feature: "amount" } }))
    expect(notPrediction.status).toBe(400)
    const body = (await notPrediction.json()) as { errors: Array<{ path: string; message: string }> }
    expect(body.errors.map((e) => e.path)).toEqual(["performance.feature"])
    const badThreshold = await request(
      "/v1/drift/monitors",
      json({ features, performance: { feature: "score", threshold: 1.5 } })
    )
    expect(badThreshold.status).toBe(400)
    expect(JSON.stringify(await badThreshold.json())).toContain("performance.threshold")
    expect(await t.snapshot()).toEqual(before)
  })

  it("reports CBPE's estimates with bands and alerts in each check", async () => {
    const created = await request(
      "/v1/drift/monitors",
      json({
        id: "scored",
        features,
        settings: { windowSize: 1000, minWindow: 100 },
        performance: { feature: "score", alertBelow: { accuracy: 0.75 } }
      })
    )
    expect(created.status).toBe(201)
    expect(((await created.json()) as { performance: unknown }).performance).toEqual({
      feature: "score",
      alertBelow: { accuracy: 0.75 }
    })
    await request("/v1/drift/monitors/scored/baseline", json({ score: probabilities(3000, 8) }, { method: "PUT" }))
    await request("/v1/drift/monitors/scored/observations", json({ values: { score: probabilities(1000, 8) } }))
    type Report = {
      performance: { status: string; rows: number; alert: boolean; metrics: Array<Record<string, number | null>> }
    }
    const confident = (await (await request("/v1/drift/monitors/scored/check", { method: "POST" })).json()) as Report
    expect(confident.performance).toMatchObject({ status: "estimated", rows: 1000, alert: false })
    const accuracy = confident.performance.metrics[0]!
    expect(accuracy).toMatchObject({ metric: "accuracy", realized: null, alertBelow: 0.75, alert: false })
    expect(accuracy.lower!).toBeLessThan(accuracy.estimate!)
    // The classifier turns unsure: its probabilities crowd around 0.5 and the estimate falls.
    await request("/v1/drift/monitors/scored/observations", json({ values: { score: probabilities(1000, 1) } }))
    const unsure = (await (await request("/v1/drift/monitors/scored/check", { method: "POST" })).json()) as Report
    expect(unsure.performance.alert).toBe(true)
    expect(unsure.performance.metrics[0]!.estimate!).toBeLessThan(0.75)
    const reports = (await (await request("/v1/drift/reports?monitorId=scored")).json()) as { items: Array<Report> }
    expect(reports.items.map((r) => r.performance.alert)).toEqual([false, true])
  })
})
