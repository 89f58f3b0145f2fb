import { createHash } from "node:crypto"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import sequentialGolden from "../../../packages/core/test/golden/sequential.json" with { type: "json" }
import { json, makeTestApp, metadata } from "./helpers.js"

let t: Awaited<ReturnType<typeof makeTestApp>>
beforeAll(async () => {
  t = await makeTestApp({ ML_AB_MIN_SAMPLES: "50" })
})
afterAll(() => t.close())

const request = (url: string, init?: RequestInit) => t.app.request(url, init)
const model = async (version: string) => {
  const created = (await (await request("/v1/models", json(metadata({ name: "ab-model", version })))).json()) as {
    id: string
  }
  await request(`/v1/models/${created.id}/artifact`, { method: "PUT", body: new Uint8Array([1]) })
  await request(`/v1/models/${created.id}/promote`, json({ status: "testing" }))
  return created.id
}

describe("experiments over HTTP", () => {
  it("runs the whole loop: create, start, assign, record, results, complete with promotion", async () => {
    const control = await model("ctl-1")
    const treatment = await model("trt-1")
    const created = await request(
      "/v1/experiments",
      json({
        name: "new ranker",
        targetMetric: "revenue",
        seed: "s1",
        variants: [{ modelId: control, isControl: true, trafficPct: 50 }, {
          modelId: treatment,
          isControl: false,
          trafficPct: 50
        }]
      })
    )
    expect(created.status).toBe(201)
    const experiment = (await created.json()) as { id: string; status: string }
    expect(experiment.status).toBe("draft")
    expect((await request(`/v1/experiments/${experiment.id}/start`, { method: "POST" })).status).toBe(200)

    const single =
      (await (await request(`/v1/experiments/${experiment.id}/assignments`, json({ userId: "alice" }))).json()) as {
        modelId: string
        sticky: boolean
      }
    expect([control, treatment]).toContain(single.modelId)
    expect(single.sticky).toBe(true)
    const batch = (await (await request(
      `/v1/experiments/${experiment.id}/assignments`,
      json({ userIds: ["alice", "bob", "carol"] })
    )).json()) as { items: Array<{ modelId: string }> }
    expect(batch.items[0]!.modelId).toBe(single.modelId)

    const observations = Array.from({ length: 200 }, (_, i) => ({
      modelId: i % 2 ? treatment : control,
      metric: "revenue",
      value: (i % 2 ? 11 : 10) + (createHash("sha256").update(String(i)).digest()[0]! / 255 - 0.5)
    }))
    const recorded = await request(`/v1/experiments/${experiment.id}/metrics`, json({ observations }))
    expect(recorded.status).toBe(202)
    const results = (await (await request(`/v1/experiments/${experiment.id}/results`)).json()) as {
      decision: { outcome: string; winnerModelId: string }
      comparisons: Array<{ pValue: number }>
    }
    expect(results.decision).toMatchObject({ outcome: "winner", winnerModelId: treatment })
    // Traffic over time: the 3 sticky users (alice once) and 5 reported exposures, on today's UTC day.
    const before = new Date().toISOString().slice(0, 10)
    await request(`/v1/experiments/${experiment.id}/exposures`, json({ exposures: [{ modelId: control, count: 5 }] }))
    const withTraffic = (await (await request(`/v1/experiments/${experiment.id}/results`)).json()) as {
      exposuresByDay: Array<{ day: string; counts: Array<number> }>
      variants: Array<{ exposures: number }>
    }
    const afterDay = new Date().toISOString().slice(0, 10)
    const daySums = withTraffic.exposuresByDay.reduce((sum, d) => sum + d.counts[0]! + d.counts[1]!, 0)
    expect(daySums).toBe(8)
    expect(withTraffic.exposuresByDay.map((d) => d.day).every((day) => day === before || day === afterDay)).toBe(true)
    expect(withTraffic.variants.map((v) => v.exposures)).toEqual(
      [0, 1].map((i) => withTraffic.exposuresByDay.reduce((sum, d) => sum + d.counts[i]!, 0))
    )

    const metrics = await (await request("/metrics")).text()
    expect(metrics).toContain("ml_experiment_active_total 1")
    expect(metrics).toContain(`ml_experiment_traffic{experiment_id="${experiment.id}",model_id="${treatment}"} 0.5`)
    expect(metrics).toContain(
      `ml_experiment_metric{experiment_id="${experiment.id}",model_id="${treatment}",metric_name="revenue"}`
    )

    const completed =
      (await (await request(`/v1/experiments/${experiment.id}/complete`, json({ promoteWinner: true }))).json()) as {
        status: string
      }
    expect(completed.status).toBe("completed")
    const promoted = (await (await request(`/v1/models/${treatment}`)).json()) as { status: string }
    expect(promoted.status).toBe("production")
    const after =
      (await (await request(`/v1/experiments/${experiment.id}/assignments`, json({ userId: "zed" }))).json()) as {
        modelId: string
        inExperiment: boolean
      }
    expect(after).toMatchObject({ modelId: treatment, inExperiment: false })
  })

  it("answers the running minimum of the always-valid p-value and the Bayesian view in the results", async () => {
    const control = await model("seq-ctl")
    const treatment = await model("seq-trt")
    const experiment = (await (await request(
      "/v1/experiments",
      json({
        name: "sequential ranker",
        targetMetric: "revenue",
        sequential: true,
        minSamplesPerVariant: 2,
        variants: [
          { modelId: control, isControl: true, trafficPct: 50 },
          { modelId: treatment, isControl: false, trafficPct: 50 }
        ]
      })
    )).json()) as { id: string }
    await request(`/v1/experiments/${experiment.id}/start`, { method: "POST" })
    type Answer = {
      comparisons: Array<{ sequentialPValue: number; relativeLift: number; bayesian: Record<string, number> }>
    }
    const answers: Array<Answer> = []
    // Golden looks (generate_sequential.py): 1/Λ falls at the second look and rises at the third.
    for (const look of sequentialGolden.looks) {
      const observations = [
        ...look.control.map((value) => ({ modelId: control, metric: "revenue", value })),
        ...look.treatment.map((value) => ({ modelId: treatment, metric: "revenue", value }))
      ]
      expect((await request(`/v1/experiments/${experiment.id}/metrics`, json({ observations }))).status).toBe(202)
      answers.push((await (await request(`/v1/experiments/${experiment.id}/results`)).json()) as Answer)
    }
    answers.forEach((answer, i) =>
      expect(answer.comparisons[0]!.sequentialPValue).toBeCloseTo(sequentialGolden.looks[i]!.runningMinimum, 12)
    )
    // Flat prior: the posterior mean of the lift is the observed relative lift.
    const last = answers.at(-1)!.comparisons[0]!
    expect(last.bayesian.expectedLift).toBeCloseTo(last.relativeLift, 12)
    expect(last.bayesian.chanceToBeatControl).toBeGreaterThan(0.5)
  })

  it("answers bad requests with problems naming the field", async () => {
    const control = await model("ctl-2")
    const bad = (await (await request(
      "/v1/experiments",
      json({ name: "x", targetMetric: "m", variants: [{ modelId: control, isControl: true, trafficPct: 100 }] })
    )).json()) as { status: number; errors: Array<{ path: string }> }
    expect(bad.status).toBe(400)
    expect(bad.errors.map((e) => e.path)).toContain("variants")
    expect((await request("/v1/experiments/nope")).status).toBe(404)
    const treatment = await model("trt-2")
    const created = (await (await request(
      "/v1/experiments",
      json({
        name: "y",
        targetMetric: "m",
        variants: [{ modelId: control, isControl: true, trafficPct: 50 }, {
          modelId: treatment,
          isControl: false,
          trafficPct: 50
        }]
      })
    )).json()) as { id: string }
    const paused = await request(`/v1/experiments/${created.id}/pause`, { method: "POST" })
    expect(paused.status).toBe(409)
    await request(`/v1/experiments/${created.id}/start`, { method: "POST" })
    const metric = (await (await request(
      `/v1/experiments/${created.id}/metrics`,
      json({ modelId: control, metric: "m", value: "high" })
    )).json()) as { status: number; errors: Array<{ path: string }> }
    expect(metric.status).toBe(400)
    const traffic =
      (await (await request(`/v1/experiments/${created.id}`, json({ trafficPct: [70, 20] }, { method: "PATCH" })))
        .json()) as { status: number }
    expect(traffic.status).toBe(400)
    expect((await request(`/v1/experiments/${created.id}`, json({ trafficPct: [70, 30] }, { method: "PATCH" }))).status)
      .toBe(200)
  })
})
