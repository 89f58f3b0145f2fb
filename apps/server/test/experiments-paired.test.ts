/**
 * CUPED, ratio metrics and capping over HTTP: observations with covariates and denominators come
 * out in the results (checked against the golden values of golden/generate_paired.py), capped
 * metrics are reported, and bad covariates, denominators and caps are 400 problems naming the field
 * and the limit, with nothing stored.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import golden from "../../../packages/core/test/golden/paired.json" with { type: "json" }
import { json, makeTestApp, metadata } from "./helpers.js"

let t: Awaited<ReturnType<typeof makeTestApp>>
beforeAll(async () => {
  t = await makeTestApp({ ML_AB_MIN_SAMPLES: "50" })
})
afterAll(() => t.close())

const request = (url: string, init?: RequestInit) => t.app.request(url, init)
let models = 0
const model = async () => {
  const version = `paired-${models++}`
  const created = (await (await request("/v1/models", json(metadata({ name: "paired-model", version })))).json()) as {
    id: string
  }
  await request(`/v1/models/${created.id}/artifact`, { method: "PUT", body: new Uint8Array([1]) })
  await request(`/v1/models/${created.id}/promote`, json({ status: "testing" }))
  return created.id
}

const startedExperiment = async (extra: Record<string, unknown> = {}) => {
  const [control, treatment] = [await model(), await model()]
  const response = await request(
    "/v1/experiments",
    json({
      name: "paired",
      targetMetric: "revenue",
      variants: [
        { modelId: control, isControl: true, trafficPct: 50 },
        { modelId: treatment, isControl: false, trafficPct: 50 }
      ],
      ...extra
    })
  )
  expect(response.status).toBe(201)
  const { id } = (await response.json()) as { id: string }
  expect((await request(`/v1/experiments/${id}/start`, { method: "POST" })).status).toBe(200)
  return { id, control: control!, treatment: treatment! }
}

interface Problem {
  readonly status: number
  readonly errors: ReadonlyArray<{ readonly path: string; readonly message: string }>
}

const relativeError = (actual: number, expected: number) => Math.abs(actual - expected) / Math.abs(expected)

describe("CUPED, ratio metrics and caps over HTTP", () => {
  it("reports CUPED and ratio comparisons and the caps in the results", async () => {
    const cuped = golden.cuped[0]!
    const ratio = golden.ratios[0]!
    const e = await startedExperiment({ metricCaps: { latency: { upper: 100 } } })
    const observations = [
      ...[cuped.control, cuped.treatment].flatMap((arm, v) =>
        arm.y.map((value, i) => ({
          modelId: v === 0 ? e.control : e.treatment,
          metric: "revenue",
          value,
          covariate: arm.x[i]
        }))
      ),
      ...[ratio.control, ratio.treatment].flatMap((arm, v) =>
        arm.y.map((value, i) => ({
          modelId: v === 0 ? e.control : e.treatment,
          metric: "clicks_per_session",
          value,
          denominator: arm.x[i]
        }))
      ),
      { modelId: e.control, metric: "latency", value: 250 }
    ]
    const recorded = await request(`/v1/experiments/${e.id}/metrics`, json({ observations }))
    expect(recorded.status).toBe(202)
    const results = (await (await request(`/v1/experiments/${e.id}/results`)).json()) as {
      covariateAdjusted: Array<{ metric: string; difference: number; varianceReduction: number; pValue: number }>
      ratioMetrics: Array<{ metric: string; treatmentRatio: number; pValue: number }>
      metricCaps: Record<string, unknown>
      variants: Array<{ metrics: Record<string, { mean: number }> }>
    }
    expect(results.covariateAdjusted.map((c) => c.metric)).toEqual(["revenue"])
    expect(relativeError(results.covariateAdjusted[0]!.difference, cuped.expected.estimate)).toBeLessThan(1e-9)
    expect(relativeError(results.covariateAdjusted[0]!.varianceReduction, cuped.expected.varianceReduction))
      .toBeLessThan(1e-9)
    expect(results.ratioMetrics.map((r) => r.metric)).toEqual(["clicks_per_session"])
    expect(relativeError(results.ratioMetrics[0]!.treatmentRatio, ratio.expected.ratioTreatment)).toBeLessThan(1e-12)
    expect(relativeError(results.ratioMetrics[0]!.pValue, ratio.expected.pValue)).toBeLessThan(1e-9)
    expect(results.metricCaps).toEqual({ latency: { upper: 100 } })
    expect(results.variants[0]!.metrics.latency!.mean).toBe(100)
  })

  it("answers bad covariates and denominators with a 400 naming each, storing nothing", async () => {
    const e = await startedExperiment()
    const problem = (await (await request(
      `/v1/experiments/${e.id}/metrics`,
      json({
        observations: [
          { modelId: e.control, metric: "revenue", value: 1, covariate: 3 },
          { modelId: e.control, metric: "revenue", value: 1, denominator: -2 },
          { modelId: e.control, metric: "revenue", value: 1, denominator: 1, covariate: 1 }
        ]
      })
    )).json()) as Problem
    expect(problem.status).toBe(400)
    expect(problem.errors.map((x) => x.path)).toEqual(["1.denominator", "2.denominator"])
    expect(problem.errors[0]!.message).toMatch(/at least 0/)
    // Beyond the value bound (the body's JSON number 1e999 is Infinity): refused by the schema.
    const huge = (await (await request(
      `/v1/experiments/${e.id}/metrics`,
      json(`{"modelId":"${e.control}","metric":"revenue","value":1,"covariate":1e999}`)
    )).json()) as Problem
    expect(huge.status).toBe(400)
    expect(huge.errors.map((x) => x.path).join(" ")).toMatch(/covariate/)
    expect(huge.errors.map((x) => x.message).join(" ")).toMatch(/1e\+120/)
    const results = (await (await request(`/v1/experiments/${e.id}/results`)).json()) as {
      variants: Array<{ metrics: Record<string, unknown> }>
      covariateAdjusted: Array<unknown>
    }
    expect(results.variants.map((v) => Object.keys(v.metrics))).toEqual([[], []])
    expect(results.covariateAdjusted).toEqual([])
  })

  it("answers a bad cap with a 400 naming it, creating nothing", async () => {
    const [control, treatment] = [await model(), await model()]
    const before = ((await (await request("/v1/experiments")).json()) as { items: Array<unknown> }).items.length
    for (
      const [metricCaps, path] of [
        [{ revenue: { upper: 1, lower: 5 } }, "metricCaps.revenue.lower"],
        [{ revenue: { upper: "a lot" } }, "metricCaps.revenue.upper"],
        [{ revenue: { upper: 1e200 } }, "metricCaps.revenue.upper"]
      ] as const
    ) {
      const problem = (await (await request(
        "/v1/experiments",
        json({
          name: "capped",
          targetMetric: "revenue",
          metricCaps,
          variants: [
            { modelId: control, isControl: true, trafficPct: 50 },
            { modelId: treatment, isControl: false, trafficPct: 50 }
          ]
        })
      )).json()) as Problem
      expect(problem.status).toBe(400)
      expect(problem.errors.map((x) => x.path)).toContain(path)
    }
    expect(((await (await request("/v1/experiments")).json()) as { items: Array<unknown> }).items).toHaveLength(before)
  })
})
