/**
 * Hostile input over HTTP (issue 11, items 3 and 6), in filesystem and Redis mode: metric values
 * whose sums overflow, prototype names as row and feature keys, deeply nested JSON and huge
 * arrays. Each must be a 400 naming the field and the limit (or an ordinary success), never a
 * 5xx, and an experiment must stay computable afterwards.
 */
import { connectOrFail, deleteKeysWithPrefix, redisUrl, uniquePrefix } from "@org/ml-adapter-redis/testing"
import { type LearnerConfig, makeLearner } from "@org/ml-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { json, makeTestApp, metadata } from "./helpers.js"

const admin = await connectOrFail()
const prefix = uniquePrefix("hostile")
afterAll(async () => {
  await deleteKeysWithPrefix(admin, prefix)
  await admin.quit()
})

const modes = [
  { mode: "filesystem", env: {} },
  { mode: "redis", env: { ML_REDIS_URL: redisUrl, ML_REDIS_PREFIX: prefix } }
]

/** Nested `[[[...]]]` of the given depth, as raw JSON text. */
const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth)

const learnerConfig: LearnerConfig = {
  kind: "linear",
  optimizer: { type: "sgd", learningRate: 0.01 },
  features: { type: "schema", names: ["constructor", "toString"] }
}

describe.each(modes)("hostile input ($mode)", ({ env, mode }) => {
  let t: Awaited<ReturnType<typeof makeTestApp>>
  beforeAll(async () => {
    t = await makeTestApp({ ML_AB_MIN_SAMPLES: "2", ML_DRIFT_SCHEDULER_TICK_MS: "3600000", ...env })
  })
  afterAll(() => t.close())
  const request = (url: string, init?: RequestInit) => t.app.request(url, init)
  const problemOf = async (response: Response) => {
    const problem = (await response.json()) as { detail?: string; title?: string }
    return `${problem.title ?? ""} ${problem.detail ?? ""}`
  }

  const model = async (version: string, artifact: string = "1") => {
    const created = await request("/v1/models", json(metadata({ name: `hostile-${mode}`, version })))
    expect(created.status).toBe(201)
    const { id } = (await created.json()) as { id: string }
    await request(`/v1/models/${id}/artifact`, { method: "PUT", body: artifact })
    return id
  }

  const experiment = async (experimentMode: "ab" | "bandit", tag: string) => {
    const control = await model(`${tag}-control`)
    const treatment = await model(`${tag}-treatment`)
    const created = await request(
      "/v1/experiments",
      json({
        name: tag,
        targetMetric: "revenue",
        mode: experimentMode,
        variants: [{ modelId: control, isControl: true, trafficPct: 50 }, {
          modelId: treatment,
          isControl: false,
          trafficPct: 50
        }]
      })
    )
    expect(created.status).toBe(201)
    const { id } = (await created.json()) as { id: string }
    expect((await request(`/v1/experiments/${id}/start`, { method: "POST" })).status).toBe(200)
    return { id, control, treatment }
  }

  it.each(["ab", "bandit"] as const)(
    "refuses metric values beyond ±1e120 naming the field and the limit; results stay computable (%s)",
    async (experimentMode) => {
      const { control, id, treatment } = await experiment(experimentMode, `huge-${experimentMode}`)
      const huge = await request(
        `/v1/experiments/${id}/metrics`,
        json({
          observations: [{ modelId: control, metric: "revenue", value: 1e308 }, {
            modelId: treatment,
            metric: "revenue",
            value: -1e308
          }]
        })
      )
      expect(huge.status).toBe(400)
      const detail = await problemOf(huge)
      expect(detail).toContain("observations.0.value")
      expect(detail).toContain("1e+120")
      // At the limit everything is accepted and every statistic stays finite or null, never a 500.
      const extreme = [1e120, -1e120, 1e120, -1e120, 5e119].flatMap((value, i) => [
        { modelId: control, metric: "revenue", value },
        { modelId: treatment, metric: "revenue", value: i % 2 ? value : -value }
      ])
      expect((await request(`/v1/experiments/${id}/metrics`, json({ observations: extreme }))).status).toBe(202)
      const results = await request(`/v1/experiments/${id}/results`)
      expect(results.status).toBe(200)
      const body = (await results.json()) as { comparisons: Array<{ pValue: number | null }> }
      expect(body.comparisons[0]!.pValue).toEqual(expect.any(Number))
      expect((await request(`/v1/experiments/${id}/complete`, json({}))).status).toBe(200)
    }
  )

  it("computes results for tiny metric values whose variances are subnormal", async () => {
    const { control, id, treatment } = await experiment("ab", "tiny")
    const observations = [1e-160, 2e-160, 3e-160, 1e-160].flatMap((value) => [
      { modelId: control, metric: "revenue", value },
      { modelId: treatment, metric: "revenue", value: value * 2 }
    ])
    expect((await request(`/v1/experiments/${id}/metrics`, json({ observations }))).status).toBe(202)
    expect((await request(`/v1/experiments/${id}/results`)).status).toBe(200)
  })

  it("reads prototype names in drift rows as ordinary feature names, and refuses undeclared ones", async () => {
    const features = ["constructor", "toString", "hasOwnProperty", "__proto__"]
    const created = await request(
      "/v1/drift/monitors",
      json({
        id: `proto-${mode}`,
        features: features.map((name) => ({ name, kind: "feature", type: "numeric" })),
        settings: { windowSize: 100, minWindow: 10 }
      })
    )
    expect(created.status).toBe(201)
    const baseline = Object.fromEntries(features.map((f) => [f, Array.from({ length: 50 }, (_, i) => i)]))
    const baselineText = JSON.stringify(baseline).replace("\"__proto__\"", "\"__proto__\"")
    expect((await request(`/v1/drift/monitors/proto-${mode}/baseline`, json(baselineText, { method: "PUT" }))).status)
      .toBe(200)
    // JSON.stringify drops nothing here: the rows are written as text so "__proto__" is a plain key.
    const row = (i: number) => `{"constructor":${i},"toString":${i},"hasOwnProperty":${i},"__proto__":${i}}`
    const rows = `{"rows":[${Array.from({ length: 20 }, (_, i) => row(i)).join(",")}]}`
    const recorded = await request(`/v1/drift/monitors/proto-${mode}/observations`, json(rows))
    expect(recorded.status).toBe(202)
    const columns = `{"values":{"constructor":[1,2],"__proto__":[3,4]}}`
    expect((await request(`/v1/drift/monitors/proto-${mode}/observations`, json(columns))).status).toBe(202)
    const checked = await request(`/v1/drift/monitors/proto-${mode}/check`, json({}))
    expect(checked.status).toBe(200)

    // On a monitor that does not declare them, the same names are unknown features: 400 naming each.
    expect(
      (await request(
        "/v1/drift/monitors",
        json({ id: `plain-${mode}`, features: [{ name: "amount", kind: "feature", type: "numeric" }] })
      )).status
    ).toBe(201)
    for (const name of features) {
      const refused = await request(
        `/v1/drift/monitors/plain-${mode}/observations`,
        json(`{"rows":[{"amount":1,"${name}":2}]}`)
      )
      expect(refused.status).toBe(400)
      expect(await problemOf(refused)).toContain(name)
      const columnsRefused = await request(
        `/v1/drift/monitors/plain-${mode}/observations`,
        json(`{"values":{"amount":[1],"${name}":[2]}}`)
      )
      expect(columnsRefused.status).toBe(400)
      expect(await problemOf(columnsRefused)).toContain(name)
    }
  })

  it("reads prototype names in sample and predict features as ordinary feature names", async () => {
    const base = await model("proto-learner", JSON.stringify(makeLearner(learnerConfig).state()))
    const id = `proto-pipeline-${mode}`
    expect(
      (await request("/v1/pipelines", json({ id, name: "proto", modelId: base, batchSize: 1000, holdoutShare: 0 })))
        .status
    ).toBe(201)
    const samples = `{"samples":[{"sampleId":"a","features":{"constructor":1,"toString":2},"label":3}]}`
    expect((await request(`/v1/pipelines/${id}/samples`, json(samples))).status).toBe(202)
    const predicted = await request(`/v1/pipelines/${id}/predict`, json(`{"features":{"constructor":1,"toString":2}}`))
    expect(predicted.status).toBe(200)
    // Values beyond the bound are refused by field, in samples and in predictions alike.
    const hugeLabel = await request(
      `/v1/pipelines/${id}/samples`,
      json(`{"samples":[{"sampleId":"h","features":{"constructor":1},"label":1e300}]}`)
    )
    expect(hugeLabel.status).toBe(400)
    expect(await problemOf(hugeLabel)).toMatch(/0\.label: must be a finite number from -1e\+120 to 1e\+120/)
    const hugeFeature = await request(`/v1/pipelines/${id}/predict`, json(`{"features":{"constructor":1e300}}`))
    expect(hugeFeature.status).toBe(400)
    expect(await problemOf(hugeFeature)).toContain("features.constructor")
    for (const name of ["__proto__", "hasOwnProperty", "valueOf"]) {
      const unknown = await request(`/v1/pipelines/${id}/predict`, json(`{"features":{"constructor":1,"${name}":2}}`))
      expect([200, 400]).toContain(unknown.status)
      const sample = `{"samples":[{"sampleId":"b-${name}","features":{"${name}":1},"label":1}]}`
      expect([202, 400]).toContain((await request(`/v1/pipelines/${id}/samples`, json(sample))).status)
    }
  })

  it("refuses JSON nested deeper than 64 levels with a 400 naming the limit, echoing no internals", async () => {
    const targets = [
      "/v1/experiments/none/metrics",
      "/v1/drift/monitors/none/observations",
      "/v1/pipelines/none/predict",
      "/v1/models"
    ]
    for (const target of targets) {
      for (
        const body of [nested(100_000), `{"features":${nested(65)}}`, `{"a":${"{\"a\":".repeat(70)}1${"}".repeat(70)}}`]
      ) {
        const response = await request(target, json(body))
        expect(response.status).toBe(400)
        const detail = await problemOf(response)
        expect(detail).toContain("64")
        expect(detail).not.toMatch(/call stack/i)
      }
    }
    // Brackets inside strings are text, not nesting.
    const inString = await request("/v1/models", json(metadata({ description: "[".repeat(1000) })))
    expect(inString.status).toBe(201)
  })

  it("refuses over-long arrays with a 400 naming the limit, and accepts a full batch", async () => {
    const created = await request(
      "/v1/drift/monitors",
      json({ id: `big-${mode}`, features: [{ name: "x", kind: "feature", type: "numeric" }] })
    )
    expect(created.status).toBe(201)
    const tooMany = await request(
      `/v1/drift/monitors/big-${mode}/observations`,
      json({ values: { x: new Array(130_000).fill(1) } }, { headers: {} })
    )
    expect(tooMany.status).toBe(400)
    const detail = await problemOf(tooMany)
    expect(detail).toContain("values.x")
    expect(detail).toContain("100000")
    const full = await request(
      `/v1/drift/monitors/big-${mode}/observations`,
      json({ values: { x: new Array(100_000).fill(1) } })
    )
    expect(full.status).toBe(202)
  })
})
