/**
 * The storage-derived gauges of /metrics (read back from an exposition promtool accepts) after
 * lifecycle changes: exact on the instance that made the change, and on another instance of the
 * same Redis after at most ML_METRICS_MAX_AGE_MS (models per status at once).
 */
import { promtoolRemarks } from "@org/ml-adapter-prometheus/testing"
import { connectOrFail, deleteKeysWithPrefix, redisUrl, uniquePrefix } from "@org/ml-adapter-redis/testing"
import { afterAll, describe, expect, it } from "vitest"
import { json, makeTestApp, metadata } from "./helpers.js"

type TestApp = Awaited<ReturnType<typeof makeTestApp>>

/** Every sample of /metrics by series (`name{label="value",...}` as exposed), checked by promtool first. */
const scrape = async (t: TestApp) => {
  const response = await t.app.request("/metrics")
  expect(response.status).toBe(200)
  const text = await response.text()
  expect(promtoolRemarks(text)).toEqual([])
  const samples = new Map<string, number>()
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue
    const space = line.lastIndexOf(" ")
    samples.set(line.slice(0, space), Number(line.slice(space + 1)))
  }
  return samples
}

const ok = async (t: TestApp, url: string, init: RequestInit) => {
  const response = await t.app.request(url, init)
  expect(response.status, await response.clone().text()).toBeLessThan(300)
  return (await response.json()) as { id: string }
}

const modelWithArtifact = async (t: TestApp, version: string, bytes: number) => {
  const model = await ok(t, "/v1/models", json(metadata({ name: "gauged", version })))
  await ok(t, `/v1/models/${model.id}/artifact`, {
    method: "PUT",
    body: new Uint8Array(bytes),
    headers: { "content-type": "application/octet-stream" }
  })
  return model.id
}

const newExperiment = (t: TestApp, modelIds: ReadonlyArray<string>) =>
  ok(
    t,
    "/v1/experiments",
    json({
      name: "gauged",
      targetMetric: "ctr",
      variants: modelIds.map((modelId, i) => ({ modelId, isControl: i === 0, trafficPct: 50 }))
    })
  )

const post = (t: TestApp, url: string) => ok(t, url, { method: "POST" })

const traffic = (experimentId: string, modelId: string) =>
  `ml_experiment_traffic{experiment_id="${experimentId}",model_id="${modelId}"}`
const modelsIn = (status: string) => `ml_models_total{status="${status}"}`
const sizeOf = (modelId: string) => `ml_model_file_size_bytes{model_id="${modelId}"}`
const active = "ml_experiment_active_total"

describe("gauges in filesystem mode", () => {
  it("follow upload, start, traffic change, pause, complete and promotion on the next scrape", async () => {
    const t = await makeTestApp()
    try {
      // A first scrape builds the cached gauges; every change below must still show on the next one.
      await scrape(t)
      const models = [await modelWithArtifact(t, "1", 5), await modelWithArtifact(t, "2", 9)]
      let metrics = await scrape(t)
      expect([metrics.get(sizeOf(models[0]!)), metrics.get(sizeOf(models[1]!))]).toEqual([5, 9])
      expect(metrics.get(modelsIn("draft"))).toBe(2)

      const experiment = await newExperiment(t, models)
      expect((await scrape(t)).get(active)).toBe(0)
      await post(t, `/v1/experiments/${experiment.id}/start`)
      metrics = await scrape(t)
      expect(metrics.get(active)).toBe(1)
      expect([metrics.get(traffic(experiment.id, models[0]!)), metrics.get(traffic(experiment.id, models[1]!))])
        .toEqual([0.5, 0.5])

      await ok(t, `/v1/experiments/${experiment.id}`, json({ trafficPct: [80, 20] }, { method: "PATCH" }))
      metrics = await scrape(t)
      expect([metrics.get(traffic(experiment.id, models[0]!)), metrics.get(traffic(experiment.id, models[1]!))])
        .toEqual([0.8, 0.2])

      await post(t, `/v1/experiments/${experiment.id}/pause`)
      metrics = await scrape(t)
      expect(metrics.get(active)).toBe(0)
      expect(metrics.has(traffic(experiment.id, models[0]!))).toBe(false)

      await post(t, `/v1/experiments/${experiment.id}/start`)
      expect((await scrape(t)).get(active)).toBe(1)
      await post(t, `/v1/experiments/${experiment.id}/complete`)
      metrics = await scrape(t)
      expect(metrics.get(active)).toBe(0)
      expect(metrics.has(traffic(experiment.id, models[1]!))).toBe(false)

      await ok(t, `/v1/models/${models[0]}/promote`, json({ status: "testing", reason: "gauges" }))
      metrics = await scrape(t)
      expect([metrics.get(modelsIn("draft")), metrics.get(modelsIn("testing"))]).toEqual([1, 1])
    } finally {
      await t.close()
    }
  })
})

describe("gauges of two instances on one Redis", () => {
  const admin = connectOrFail()
  const prefixes: Array<string> = []
  const apps: Array<TestApp> = []
  afterAll(async () => {
    await Promise.all(apps.map((t) => t.close()))
    const redis = await admin
    for (const prefix of prefixes) await deleteKeysWithPrefix(redis, prefix)
    await redis.quit()
  })

  /** Instance B (default max age) and instance A with `maxAge`, on a prefix of their own. */
  const pair = async (maxAge: number) => {
    const prefix = uniquePrefix("gauges")
    prefixes.push(prefix)
    const env = { ML_REDIS_URL: redisUrl, ML_REDIS_PREFIX: prefix }
    const b = await makeTestApp(env)
    const a = await makeTestApp({ ...env, ML_METRICS_MAX_AGE_MS: String(maxAge) })
    apps.push(a, b)
    return { a, b }
  }

  /** Through B: two models with artifacts, an experiment started, one model promoted. */
  const changesThrough = async (b: TestApp) => {
    const models = [await modelWithArtifact(b, "1", 4), await modelWithArtifact(b, "2", 6)]
    const experiment = await newExperiment(b, models)
    await post(b, `/v1/experiments/${experiment.id}/start`)
    await ok(b, `/v1/models/${models[1]}/promote`, json({ status: "testing", reason: "gauges" }))
    return { models, experiment }
  }

  it("with max age 0, A shows every change made through B on its next scrape", async () => {
    const { a, b } = await pair(0)
    await scrape(a)
    const { experiment, models } = await changesThrough(b)
    for (const t of [a, b]) {
      const metrics = await scrape(t)
      expect(metrics.get(active)).toBe(1)
      expect(metrics.get(traffic(experiment.id, models[0]!))).toBe(0.5)
      expect([metrics.get(sizeOf(models[0]!)), metrics.get(sizeOf(models[1]!))]).toEqual([4, 6])
      expect([metrics.get(modelsIn("draft")), metrics.get(modelsIn("testing"))]).toEqual([1, 1])
    }
    await post(b, `/v1/experiments/${experiment.id}/complete`)
    expect((await scrape(a)).get(active)).toBe(0)
  })

  it("within the max age, A shows models per status at once and the rest from its last rebuild", async () => {
    const { a, b } = await pair(3_600_000)
    const before = await scrape(a)
    expect(before.get(active)).toBe(0)
    const { experiment, models } = await changesThrough(b)
    const metrics = await scrape(a)
    // Read from the store's counters on every scrape.
    expect([metrics.get(modelsIn("draft")), metrics.get(modelsIn("testing"))]).toEqual([1, 1])
    // Rebuilt at most once per max age: B's start and uploads are not visible on A yet.
    expect(metrics.get(active)).toBe(0)
    expect(metrics.has(traffic(experiment.id, models[0]!))).toBe(false)
    expect(metrics.has(sizeOf(models[0]!))).toBe(false)
    // B made the changes, so its own next scrape is exact.
    expect((await scrape(b)).get(active)).toBe(1)
  })

  it("once the max age has passed, A's next scrape shows what changed through B", async () => {
    const maxAge = 300
    const { a, b } = await pair(maxAge)
    await scrape(a)
    const { experiment, models } = await changesThrough(b)
    // Waiting longer than the max age can only make A's gauges older, never fresher than promised.
    await new Promise((resolve) => setTimeout(resolve, maxAge + 100))
    const metrics = await scrape(a)
    expect(metrics.get(active)).toBe(1)
    expect(metrics.get(traffic(experiment.id, models[1]!))).toBe(0.5)
    expect(metrics.get(sizeOf(models[1]!))).toBe(6)
  })
})
