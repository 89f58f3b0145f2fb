/**
 * /metrics stays bounded however many names users choose: metric names per experiment and
 * feature names per monitor become Prometheus label values, at most `maxNamesPerScope` of them
 * each, the rest aggregated under `_other`. Measured as series counts and bytes of /metrics.
 */
import { MetricsSink } from "@org/ml-core"
import { afterAll, describe, expect, it } from "vitest"
import { json, makeTestApp, metadata } from "./helpers.js"

const t = await makeTestApp()
afterAll(t.close)

const scrape = async () => {
  const text = await (await t.app.request("/metrics")).text()
  const series = (name: string) => text.split("\n").filter((line) => line.startsWith(`${name}{`))
  return { bytes: Buffer.byteLength(text), series }
}

const created = async (url: string, init: RequestInit) => {
  const response = await t.app.request(url, init)
  expect(response.status, await response.clone().text()).toBeLessThan(300)
  return (await response.json()) as { id: string }
}

describe("Prometheus label cardinality", () => {
  it("keeps 20,000 metric names of one experiment to the cap plus _other, with _other their mean", async () => {
    const before = await scrape()
    const models = [
      await created("/v1/models", json(metadata({ name: "cardinality", version: "1" }))),
      await created("/v1/models", json(metadata({ name: "cardinality", version: "2" })))
    ]
    const experiment = await created(
      "/v1/experiments",
      json({
        name: "many metrics",
        targetMetric: "conversion",
        variants: [
          { modelId: models[0]!.id, isControl: true, trafficPct: 50 },
          { modelId: models[1]!.id, isControl: false, trafficPct: 50 }
        ]
      })
    )
    await created(`/v1/experiments/${experiment.id}/start`, { method: "POST" })
    const names = Array.from({ length: 20_000 }, (_, i) => `metric_${String(i).padStart(5, "0")}_with_a_long_name`)
    // Every name once on the control model with value 2, plus the target metric (value 1).
    const observations = [
      { modelId: models[0]!.id, metric: "conversion", value: 1 },
      ...names.map((metric) => ({ modelId: models[0]!.id, metric, value: 2 }))
    ]
    // In batches under the 1 MiB body limit.
    for (let start = 0; start < observations.length; start += 5000) {
      const batch = observations.slice(start, start + 5000)
      expect((await t.app.request(`/v1/experiments/${experiment.id}/metrics`, json({ observations: batch }))).status)
        .toBe(202)
    }

    const after = await scrape()
    const series = after.series("ml_experiment_metric").filter((line) => line.includes(experiment.id))
    console.info(
      `/metrics: ${before.bytes} -> ${after.bytes} bytes; ml_experiment_metric series: ${series.length}`
    )
    expect(series).toHaveLength(MetricsSink.maxNamesPerScope + 1)
    // The target metric keeps its own series; the names beyond the cap share one, holding their mean.
    expect(series.some((line) => line.includes(`metric_name="conversion"`))).toBe(true)
    expect(series.find((line) => line.includes(`metric_name="${MetricsSink.otherNames}"`))).toMatch(/ 2$/)
    expect(after.bytes - before.bytes).toBeLessThan(64 * 1024)
  })

  it("keeps a monitor's 300 features to the cap plus _other in ml_drift_score", async () => {
    const features = Array.from({ length: 300 }, (_, i) => `feature_${i}`)
    const monitor = await created(
      "/v1/drift/monitors",
      json({
        features: features.map((name) => ({ name, kind: "feature", type: "numeric" })),
        settings: { minWindow: 10 }
      })
    )
    const column = (shift: number) => Array.from({ length: 20 }, (_, i) => i + shift)
    const values = (shift: number) => Object.fromEntries(features.map((f, i) => [f, column(i === 299 ? shift : 0)]))
    expect(
      (await t.app.request(`/v1/drift/monitors/${monitor.id}/baseline`, json(values(0), { method: "PUT" }))).status
    )
      .toBe(200)
    // Only the last feature (beyond the cap) drifts: _other must show it, as the worst of those it stands for.
    expect(
      (await t.app.request(`/v1/drift/monitors/${monitor.id}/observations`, json({ values: values(100) })))
        .status
    ).toBe(202)
    expect((await t.app.request(`/v1/drift/monitors/${monitor.id}/check`, { method: "POST" })).status).toBe(200)
    const series = (await scrape()).series("ml_drift_score")
    const ks = series.filter((line) => line.includes(`type="ks"`))
    expect(ks).toHaveLength(MetricsSink.maxNamesPerScope + 1)
    expect(ks.find((line) => line.includes(`feature_name="${MetricsSink.otherNames}"`))).toMatch(/ 1$/)
  })
})
