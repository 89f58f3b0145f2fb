import { describe, expect, it } from "vitest"
import { createClient, ExperimentStateError, ValidationError } from "../src/index.js"
import { useServer } from "./serverFixture.js"

const server = useServer({ ML_AB_MIN_SAMPLES: "20" })

const setup = async (fetchImpl?: typeof fetch, targeting: Record<string, unknown> = {}) => {
  const ml = createClient({ baseUrl: server.url, ...(fetchImpl ? { fetch: fetchImpl } : {}) })
  const name = `sdk-ab-${Math.random().toString(36).slice(2, 8)}`
  const ids: Array<string> = []
  for (const version of ["1", "2"]) {
    const model = await ml.registry.registerModel(
      { name, version, algorithm: "a", framework: "f" },
      new Uint8Array([1])
    )
    await ml.registry.promoteModel(model.id, "testing")
    ids.push(model.id)
  }
  const experiment = await ml.experiments.create({
    name,
    targetMetric: "conversion",
    variants: [{ modelId: ids[0]!, isControl: true, trafficPct: 50 }, {
      modelId: ids[1]!,
      isControl: false,
      trafficPct: 50
    }],
    ...targeting
  })
  return { ml, ids, experiment }
}

describe("experiments client", () => {
  it("creates, starts, assigns, records and reads results", async () => {
    const { ml, ids, experiment } = await setup()
    await expect(ml.experiments.pause(experiment.id)).rejects.toBeInstanceOf(ExperimentStateError)
    await ml.experiments.start(experiment.id)
    const one = await ml.experiments.getModelAssignment(experiment.id, "user-1")
    const many = await ml.experiments.getModelAssignments(experiment.id, ["user-1", "user-2"])
    expect(many[0]!.modelId).toBe(one.modelId)
    await ml.experiments.recordMetric(experiment.id, ids[0]!, "conversion", 1)
    await ml.experiments.recordMetrics(
      experiment.id,
      Array.from({ length: 60 }, (_, i) => ({ modelId: ids[i % 2]!, metric: "conversion", value: i % 3 === 0 ? 1 : 0 }))
    )
    await expect(ml.experiments.recordMetric(experiment.id, ids[0]!, "conversion", Number.NaN)).rejects.toBeInstanceOf(
      ValidationError
    )
    const results = await ml.experiments.getExperimentResults(experiment.id)
    expect(results.variants.map((v) => v.metrics.conversion?.n)).toEqual([31, 30])
    expect(["no_significant_difference", "winner", "srm_detected"]).toContain(results.decision.outcome)
    const updated = await ml.experiments.update(experiment.id, { trafficPct: [80, 20], description: "ramp down" })
    expect(updated.trafficHistory.at(-1)!.trafficPct).toEqual([80, 20])
    expect((await ml.experiments.list()).some((e) => e.id === experiment.id)).toBe(true)
    expect((await ml.experiments.complete(experiment.id)).status).toBe("completed")
  })

  it("evaluates locally like the server; reports exposures and metrics in background batches, retrying", async () => {
    let failNext = 1
    const flaky: typeof fetch = async (input, init) => {
      if (String(input).includes("/exposures") && failNext-- > 0) return new Response("unavailable", { status: 503 })
      return fetch(input, init)
    }
    const { ml, ids, experiment } = await setup(flaky)
    await ml.experiments.start(experiment.id)
    const local = ml.experiments.local({ flushIntervalMs: 60_000, refreshIntervalMs: 60_000 })
    await local.whenReady()
    const users = Array.from({ length: 200 }, (_, i) => `local-${i}`)
    const assigned = users.map((u) => local.assign(experiment.id, u))
    const fromServer = await ml.experiments.getModelAssignments(experiment.id, users.slice(0, 50))
    expect(assigned.slice(0, 50).map((a) => a.modelId)).toEqual(fromServer.map((a) => a.modelId))
    local.recordMetric(experiment.id, ids[1]!, "conversion", 1)
    await local.close()
    const results = await ml.experiments.getExperimentResults(experiment.id)
    // 200 local exposures (sent after one retried 503) plus 50 server-side first assignments.
    expect(results.variants.reduce((sum, v) => sum + v.exposures, 0)).toBe(250)
    expect(results.variants[1]!.metrics.conversion?.n).toBe(1)
  })

  it("targets locally like the server: the same users in and out, the same models", async () => {
    const condition = { country: { $in: ["DE", "AT"] }, "device.os": { $regex: "^i" } }
    const { experiment, ml } = await setup(undefined, {
      condition,
      hashAttribute: "company",
      fallbackAttribute: "deviceId",
      holdout: { id: "sdk-holdout", share: 0.2 }
    })
    await ml.experiments.start(experiment.id)
    const local = ml.experiments.local({ flushIntervalMs: 60_000, refreshIntervalMs: 60_000 })
    await local.whenReady()
    const users = Array.from({ length: 120 }, (_, i) => `target-${i}`)
    const attributesByUser = Object.fromEntries(users.map((u, i) => [u, {
      country: ["DE", "AT", "FR"][i % 3]!,
      device: { os: i % 4 === 0 ? "android" : "ios" },
      ...(i % 5 === 0 ? {} : { company: `c${i % 7}` }),
      deviceId: `d${i}`
    }]))
    const fromServer = await ml.experiments.getModelAssignments(experiment.id, users, attributesByUser)
    const locally = users.map((u) => local.assign(experiment.id, u, attributesByUser[u]))
    expect(locally.map((a) => [a.modelId, a.inExperiment])).toEqual(fromServer.map((a) => [a.modelId, a.inExperiment]))
    const inside = fromServer.filter((a) => a.inExperiment).length
    expect(inside).toBeGreaterThan(10)
    expect(inside).toBeLessThan(100)
    const single = await ml.experiments.getModelAssignment(experiment.id, users[1]!, attributesByUser[users[1]!])
    expect(single.modelId).toBe(fromServer[1]!.modelId)
    await local.close()
  })
})

describe("what served a user", () => {
  it("answers the experiment's model at an instant, and refuses an instant before its creation", async () => {
    const { experiment, ids, ml } = await setup()
    const beforeStart = new Date(Date.now() + 1)
    await new Promise((resolve) => setTimeout(resolve, 5))
    await ml.experiments.start(experiment.id)
    const assigned = await ml.experiments.getModelAssignment(experiment.id, "user-9")
    await new Promise((resolve) => setTimeout(resolve, 5))
    const now = new Date()
    expect(await ml.experiments.getServed({ userId: "user-9", at: beforeStart, experimentId: experiment.id }))
      .toMatchObject({ source: "forced-control", modelId: ids[0], variant: 0 })
    expect(await ml.experiments.getServed({ userId: "user-9", at: now, experimentId: experiment.id }))
      .toMatchObject({ source: "sticky", modelId: assigned.modelId, variant: assigned.variant })
    await expect(
      ml.experiments.getServed({ userId: "user-9", at: "2000-01-01T00:00:00Z", experimentId: experiment.id })
    )
      .rejects.toBeInstanceOf(ValidationError)
  })
})
