/**
 * Safe rollouts over HTTP: on the filesystem store a degraded treatment is paused at a results
 * look (control served, audited as system, a signed webhook alert verified with node:crypto and
 * logged as a delivery) and a healthy one ramps; on Redis two server instances see the pause the
 * background check of either made.
 */
import { connectOrFail, deleteKeysWithPrefix, redisUrl, uniquePrefix } from "@org/ml-adapter-redis/testing"
import { makeRandom } from "@org/ml-core"
import { createHmac } from "node:crypto"
import * as fs from "node:fs/promises"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { loadConfig, startServer } from "../src/index.js"
import { json, makeTestApp, metadata } from "./helpers.js"

type Request = (path: string, init?: RequestInit) => Promise<Response>

const draws = (seed: string, n: number, mean: number) => {
  const random = makeRandom(seed)
  return Array.from({ length: n }, () => random.normal(mean, 10))
}

interface ExperimentView {
  id: string
  status: string
  coverage: number
  variants: Array<{ modelId: string }>
  pausedByGuardrail?: { metric: string; modelId: string; pValue: number }
  rolloutHistory?: Array<{ actor: string; action: string; coverage?: number }>
}

/** Two models and a started experiment guarding latency_ms (an increase is bad), with a ramp. */
const guardedExperiment = async (request: Request, tag: string, intervalMinutes = 60) => {
  const ids: Array<string> = []
  for (const version of ["1", "2"]) {
    const model = (await (await request("/v1/models", json(metadata({ name: `guarded-${tag}`, version })))).json()) as {
      id: string
    }
    ids.push(model.id)
  }
  const created = await request(
    "/v1/experiments",
    json({
      name: `guarded ${tag}`,
      targetMetric: "revenue",
      stickyAssignment: false,
      variants: ids.map((modelId, i) => ({ modelId, isControl: i === 0, trafficPct: 50 })),
      guardrails: [{ metric: "latency_ms", direction: "increase" }],
      ramp: { steps: [0.05, 0.25, 0.5], intervalMinutes }
    })
  )
  expect(created.status).toBe(201)
  const { id } = (await created.json()) as ExperimentView
  expect((await request(`/v1/experiments/${id}/start`, { method: "POST" })).status).toBe(200)
  return (await (await request(`/v1/experiments/${id}`)).json()) as ExperimentView
}

const recordLatency = async (request: Request, e: ExperimentView, treatmentMean: number) => {
  const observations = [
    ...draws(`${e.id}-c`, 300, 100).map((value) => ({ modelId: e.variants[0]!.modelId, metric: "latency_ms", value })),
    ...draws(`${e.id}-t`, 300, treatmentMean).map((value) => ({
      modelId: e.variants[1]!.modelId,
      metric: "latency_ms",
      value
    }))
  ]
  expect((await request(`/v1/experiments/${e.id}/metrics`, json({ observations }))).status).toBe(202)
}

const modelsServed = async (request: Request, id: string) => {
  const answer = (await (await request(
    `/v1/experiments/${id}/assignments`,
    json({ userIds: Array.from({ length: 200 }, (_, i) => `user-${i}`) })
  )).json()) as { items: Array<{ modelId: string }> }
  return new Set(answer.items.map((a) => a.modelId))
}

const waitFor = async (condition: () => Promise<boolean>, millis = 10_000) => {
  for (const start = Date.now(); Date.now() - start < millis;) {
    if (await condition()) return true
    await new Promise((r) => setTimeout(r, 50))
  }
  return false
}

describe("safe rollouts on the filesystem store", () => {
  it("pauses a degraded treatment at a results look, serves the control, audits and alerts a webhook", async () => {
    const t = await makeTestApp({ ML_WEBHOOK_ALLOW_PRIVATE: "true", ML_DRIFT_SCHEDULER_TICK_MS: "3600000" })
    const request: Request = async (p, init) => await t.app.request(p, init)
    const received: Array<{ signature: string; body: string }> = []
    const receiver = http.createServer((req, res) => {
      let body = ""
      req.on("data", (c: Buffer) => (body += c.toString()))
      req.on("end", () => {
        received.push({ signature: String(req.headers["x-ml-signature"]), body })
        res.end()
      })
    })
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve))
    try {
      const secret = "a-long-enough-webhook-secret"
      const hook = (await (await request(
        "/v1/drift/webhooks",
        json({ url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`, secret })
      )).json()) as { id: string }
      const e = await guardedExperiment(request, "fs")
      expect(e.coverage).toBe(0.05)
      await recordLatency(request, e, 112)
      const results = (await (await request(`/v1/experiments/${e.id}/results`)).json()) as { status: string }
      expect(results.status).toBe("paused")
      const paused = (await (await request(`/v1/experiments/${e.id}`)).json()) as ExperimentView
      expect(paused.pausedByGuardrail).toMatchObject({ metric: "latency_ms", modelId: e.variants[1]!.modelId })
      expect(paused.rolloutHistory?.map((h) => [h.action, h.actor])).toEqual([
        ["ramp_started", "anonymous"],
        ["guardrail_paused", "system"]
      ])
      expect(await modelsServed(request, e.id)).toEqual(new Set([e.variants[0]!.modelId]))
      expect(await waitFor(async () => received.length > 0)).toBe(true)
      const [, ts, mac] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(received[0]!.signature)!
      expect(createHmac("sha256", secret).update(`${ts}.${received[0]!.body}`).digest("hex")).toBe(mac)
      const { alert } = JSON.parse(received[0]!.body) as {
        alert: { monitorId: string; feature: string; guardrail: { experimentId: string; metric: string } }
      }
      expect(alert).toMatchObject({
        monitorId: `experiment:${e.id}`,
        feature: "~guardrail",
        guardrail: { experimentId: e.id, metric: "latency_ms" }
      })
      const deliveries = async () =>
        ((await (await request(`/v1/drift/webhooks/${hook.id}/deliveries`)).json()) as {
          items: Array<{ ok: boolean }>
        }).items
      expect(await waitFor(async () => (await deliveries()).length > 0)).toBe(true)
      expect((await deliveries()).map((d) => d.ok)).toEqual([true])
    } finally {
      receiver.close()
      await t.close()
    }
  })

  it("ramps a healthy treatment 5% -> 25% -> 50% at results looks, one interval apart", async () => {
    const t = await makeTestApp()
    const request: Request = async (p, init) => await t.app.request(p, init)
    try {
      // 0.01 minutes: 0.6 s between steps.
      const e = await guardedExperiment(request, "ramp", 0.01)
      await recordLatency(request, e, 100)
      const coverage = async () => {
        await request(`/v1/experiments/${e.id}/results`)
        return ((await (await request(`/v1/experiments/${e.id}`)).json()) as ExperimentView).coverage
      }
      expect(await coverage()).toBe(0.05)
      expect(await waitFor(async () => (await coverage()) === 0.5)).toBe(true)
      const final = (await (await request(`/v1/experiments/${e.id}`)).json()) as ExperimentView
      expect(final.status).toBe("running")
      expect(final.rolloutHistory?.map((h) => [h.action, h.actor, h.coverage])).toEqual([
        ["ramp_started", "anonymous", 0.05],
        ["ramp_advanced", "system", 0.25],
        ["ramp_advanced", "system", 0.5]
      ])
    } finally {
      await t.close()
    }
  })

  it("refuses guardrails and ramps beyond their limits with 400s naming the field", async () => {
    const t = await makeTestApp()
    const request: Request = async (p, init) => await t.app.request(p, init)
    try {
      const before = await t.snapshot()
      const bad = async (extra: Record<string, unknown>) => {
        const response = await request(
          "/v1/experiments",
          json({
            name: "bad",
            targetMetric: "revenue",
            variants: [
              { modelId: "01ARZ3NDEKTSV4RRFFQ69G5FA1", isControl: true, trafficPct: 50 },
              { modelId: "01ARZ3NDEKTSV4RRFFQ69G5FA2", isControl: false, trafficPct: 50 }
            ],
            ...extra
          })
        )
        expect(response.status).toBe(400)
        return JSON.stringify(await response.json())
      }
      expect(await bad({ ramp: { steps: [0.5, 0.2], intervalMinutes: 5 } })).toContain(
        "must increase from step to step"
      )
      expect(await bad({ guardrails: [{ metric: "latency_ms", direction: "up" }] })).toContain("direction")
      expect(
        await bad({ guardrails: Array.from({ length: 21 }, () => ({ metric: "m", direction: "increase" })) })
      ).toContain("at most 20 guardrails")
      expect(await t.snapshot()).toEqual(before)
    } finally {
      await t.close()
    }
  })
})

const admin = await connectOrFail()
const prefix = uniquePrefix("safe-rollout")
afterAll(async () => {
  await deleteKeysWithPrefix(admin, prefix)
  await admin.quit()
})

describe("safe rollouts with two server instances on one Redis", () => {
  it("the background check pauses once, and both instances serve the control at once", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "ml-safe-rollout-"))
    const servers = await Promise.all([0, 1].map(() =>
      startServer(
        loadConfig({
          ML_MODEL_STORAGE_DIR: dir,
          ML_PORT: "0",
          ML_REDIS_URL: redisUrl,
          ML_REDIS_PREFIX: prefix,
          ML_AB_REWEIGHT_INTERVAL: "0",
          ML_AB_SAFE_ROLLOUT_INTERVAL: "1"
        }),
        () => undefined
      )
    ))
    const on = (i: number): Request => (p, init) => fetch(`${servers[i]!.url}${p}`, init)
    try {
      const e = await guardedExperiment(on(0), "redis")
      expect(await modelsServed(on(1), e.id)).toEqual(new Set([e.variants[0]!.modelId, e.variants[1]!.modelId]))
      await recordLatency(on(1), e, 115)
      // No results look: the background check (under its lease, on either instance) pauses it.
      const status = async (i: number) => ((await (await on(i)(`/v1/experiments/${e.id}`)).json()) as ExperimentView)
      expect(await waitFor(async () => (await status(1)).status === "paused")).toBe(true)
      expect((await status(0)).status).toBe("paused")
      expect(await modelsServed(on(0), e.id)).toEqual(new Set([e.variants[0]!.modelId]))
      expect(await modelsServed(on(1), e.id)).toEqual(new Set([e.variants[0]!.modelId]))
      // Paused once, by one instance, whatever the other looked at.
      await on(0)(`/v1/experiments/${e.id}/results`)
      await on(1)(`/v1/experiments/${e.id}/results`)
      const history = (await status(0)).rolloutHistory ?? []
      expect(history.filter((h) => h.action === "guardrail_paused").map((h) => h.actor)).toEqual(["system"])
    } finally {
      await Promise.all(servers.map((s) => s.close()))
      await fs.rm(dir, { recursive: true, force: true })
    }
  })
})
