/**
 * Drift methods and dataset drift over HTTP: a monitor's per-feature and per-type method
 * choices are stored and decide each feature's verdict, bad choices are a 400 naming the field
 * (nothing stored), and a check with most features drifted reports dataset drift, raises a
 * `~dataset` alert, exposes the two gauges and shows it on the report page.
 */
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
const normalish = (n: number, loc = 0) =>
  Array.from({ length: n }, () => loc + uniform() + uniform() + uniform() + uniform() - 2)

interface Report {
  readonly id: string
  readonly features: ReadonlyArray<{
    feature: string
    severity: string
    drift?: { method: string; chosenBy: string; threshold: number; statistic: number; drifted: boolean }
  }>
  readonly alerts: ReadonlyArray<{ feature: string; kind: string; severity: string; datasetDrift?: unknown }>
  readonly datasetDrift?: {
    share: number
    threshold: number
    drifted: boolean
    driftedFeatures: Array<string>
    testedFeatures: number
    severity: string
  }
}

const problemPaths = async (response: Response) =>
  ((await response.json()) as { errors: Array<{ path: string; message: string }> }).errors

describe("drift methods and dataset drift over HTTP", () => {
  it("chooses per feature (table, feature, monitor), reports dataset drift, alerts, gauges and the page", async () => {
    const created = await request(
      "/v1/drift/monitors",
      json({
        id: "auto-methods",
        features: [
          { name: "a", kind: "feature", type: "numeric" },
          { name: "b", kind: "feature", type: "numeric", drift: { method: "ks", threshold: 0.01 } },
          { name: "c", kind: "feature", type: "numeric" },
          { name: "plan", kind: "feature", type: "categorical" }
        ],
        settings: { windowSize: 2000, drift: { categorical: { method: "psi", threshold: 0.2 } } }
      })
    )
    expect(created.status).toBe(201)
    const monitor = (await created.json()) as { settings: { drift: unknown }; features: Array<{ drift?: unknown }> }
    expect(monitor.settings.drift).toEqual({ categorical: { method: "psi", threshold: 0.2 } })
    expect(monitor.features[1]!.drift).toEqual({ method: "ks", threshold: 0.01 })

    const plans = (n: number) => Array.from({ length: n }, (_, i) => ["free", "pro", "team"][i % 3])
    const baseline = await request(
      "/v1/drift/monitors/auto-methods/baseline",
      json({ a: normalish(2000), b: normalish(2000), c: normalish(2000), plan: plans(2000) }, { method: "PUT" })
    )
    expect(baseline.status).toBe(200)
    await request(
      "/v1/drift/monitors/auto-methods/observations",
      json({ values: { a: normalish(1500, 0.5), b: normalish(1500, 0.5), c: normalish(1500), plan: plans(1500) } })
    )
    const checked = await request("/v1/drift/monitors/auto-methods/check", { method: "POST" })
    const report = (await checked.json()) as Report
    const drift = Object.fromEntries(report.features.map((f) => [f.feature, f.drift!]))
    // Baselines of 2,000 values and windows of 1,500: the table takes Wasserstein (numeric) at 0.1.
    expect(drift["a"]).toMatchObject({ method: "wasserstein", chosenBy: "auto", threshold: 0.1, drifted: true })
    expect(drift["c"]).toMatchObject({ method: "wasserstein", chosenBy: "auto", drifted: false })
    expect(drift["b"]).toMatchObject({ method: "ks", chosenBy: "feature", threshold: 0.01, drifted: true })
    expect(drift["plan"]).toMatchObject({ method: "psi", chosenBy: "monitor", threshold: 0.2, drifted: false })
    expect(report.features.find((f) => f.feature === "c")!.severity).toBe("none")
    // The false-alarm figures count every decided feature, the Wasserstein ones by resampling their baselines.
    const falseAlarms = (report as unknown as { falseAlarms: { features: number; perCheckProbability: number } })
      .falseAlarms
    expect(falseAlarms.features).toBe(4)
    expect(falseAlarms.perCheckProbability).toBeGreaterThan(0)

    expect(report.datasetDrift).toEqual({
      share: 0.5,
      threshold: 0.5,
      drifted: true,
      driftedFeatures: ["a", "b"],
      testedFeatures: 4,
      severity: "medium"
    })
    const alert = report.alerts.find((a) => a.feature === "~dataset")
    expect(alert).toMatchObject({ kind: "alert", severity: "medium", datasetDrift: report.datasetDrift })

    const metrics = await (await request("/metrics")).text()
    expect(metrics).toContain("ml_drift_dataset_share{monitor_id=\"auto-methods\"} 0.5\n")
    expect(metrics).toContain("ml_drift_dataset_drifted{monitor_id=\"auto-methods\"} 1\n")

    const page = await (await request(`/v1/drift/reports/${report.id}.html`)).text()
    expect(page).toContain("<dt>Dataset drift</dt>")
    expect(page).toContain("dataset drift: weighted share")
    expect(page).toContain("<code>wasserstein</code> (auto): drifted")
  })

  it("rejects unknown methods, methods of the other type and thresholds that do not fit, storing nothing", async () => {
    const before = await t.snapshot()
    const response = await request(
      "/v1/drift/monitors",
      json({
        id: "bad-methods",
        features: [
          { name: "a", kind: "feature", type: "numeric", drift: { method: "mmd" } },
          { name: "b", kind: "feature", type: "categorical", drift: { method: "wasserstein" } },
          { name: "c", kind: "feature", type: "numeric", drift: { method: "ks", threshold: 1.5 } }
        ],
        settings: { drift: { numeric: { threshold: 0.2 } } }
      })
    )
    expect(response.status).toBe(400)
    const errors = await problemPaths(response)
    expect(errors.map((e) => e.path)).toEqual([
      "features.0.drift.method",
      "features.1.drift.method",
      "features.2.drift.threshold",
      "settings.drift.numeric.threshold"
    ])
    expect(errors[1]!.message).toMatch(/must be a categorical drift method: one of chi-square, psi/)
    expect(errors[2]!.message).toMatch(/must be below 1/)
    expect(await t.snapshot()).toEqual(before)

    for (
      const [body, path] of [
        [{ settings: { drift: { datasetShare: 0 } } }, "settings.drift.datasetShare"],
        [
          { settings: { drift: { categorical: { method: "psi", threshold: -1 } } } },
          "settings.drift.categorical.threshold"
        ],
        [{ weight: -2 }, "features.0.drift.weight"]
      ] as const
    ) {
      const feature = { name: "a", kind: "feature", type: "numeric", ...("weight" in body ? { drift: body } : {}) }
      const bad = await request(
        "/v1/drift/monitors",
        json({ id: "bad-schema", features: [feature], ...("settings" in body ? body : {}) })
      )
      expect(bad.status).toBe(400)
      expect((await problemPaths(bad)).map((e) => e.path)).toContain(path)
    }
    expect(await t.snapshot()).toEqual(before)
  })
})
