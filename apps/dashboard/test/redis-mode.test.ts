/**
 * The dashboard over Redis storage: the same pages read what a Redis-backed server stores (a model
 * version, an experiment with results, a drift monitor; the pipeline list), with no console errors. The
 * server writes under a unique key prefix, and only those keys are deleted afterwards.
 */
import { connectOrFail, prefixPool, redisUrl } from "@org/ml-adapter-redis/testing"
import { createClient } from "@org/ml-sdk"
import type { Redis } from "ioredis"
import type { Browser } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { killHard, launchBrowser, openPage, startServer, temporaryDirectory } from "./browser.js"

let browser: Browser
let redis: Redis
let prefixes: ReturnType<typeof prefixPool>

beforeAll(async () => {
  redis = await connectOrFail()
  prefixes = prefixPool(redis)
  browser = await launchBrowser()
})
afterAll(async () => {
  await browser?.close()
  await prefixes?.deleteAll()
  redis?.disconnect()
})

describe("in Redis mode", () => {
  it("shows models, experiments, drift monitors and pipelines stored in Redis", async () => {
    const server = await startServer(temporaryDirectory("redis"), {
      ML_REDIS_URL: redisUrl,
      ML_REDIS_PREFIX: prefixes.fresh("dashboard")
    })
    try {
      const ml = createClient({ baseUrl: server.url })
      const base = { name: "redis-ranker", algorithm: "logreg", framework: "sklearn" }
      const control = await ml.registry.registerModel({ ...base, version: "1.0.0", metrics: { auc: 0.81 } })
      const treatment = await ml.registry.registerModel({ ...base, version: "1.1.0", metrics: { auc: 0.84 } })
      const experiment = await ml.experiments.create({
        name: "redis ranker test",
        targetMetric: "ctr",
        variants: [
          { modelId: control.id, isControl: true, trafficPct: 50 },
          { modelId: treatment.id, isControl: false, trafficPct: 50 }
        ]
      })
      await ml.experiments.start(experiment.id)
      const monitor = await ml.drift.createMonitor({
        id: "redis-inputs",
        modelId: control.id,
        features: [{ name: "amount", kind: "feature", type: "numeric" }]
      })

      const { page, errors } = await openPage(browser, server.url)
      await page.goto(`/models/redis-ranker/${control.id}`)
      await page.getByRole("heading", { name: "redis-ranker 1.0.0" }).waitFor()
      await page.goto("/models")
      await expect.poll(() => page.getByTestId("model-versions").textContent()).toContain("1.1.0")
      await page.goto(`/experiments/${experiment.id}`)
      await page.getByRole("heading", { name: /redis ranker test/ }).waitFor()
      await page.goto(`/drift/${monitor.id}`)
      await page.getByRole("heading", { name: `Monitor ${monitor.id}` }).waitFor()
      await page.goto("/pipelines")
      await page.getByRole("heading", { name: "Pipelines" }).waitFor()
      expect(errors).toEqual([])
    } finally {
      await killHard(server.child)
    }
  })
})
