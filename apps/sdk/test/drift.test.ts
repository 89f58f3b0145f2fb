import { serve } from "@hono/node-server"
import type { AddressInfo } from "node:net"
import { Webhook as StandardWebhook } from "standardwebhooks"
import { describe, expect, it } from "vitest"
import {
  createClient,
  type DriftAlert,
  MonitorNotFoundError,
  NotFoundError,
  onAlert,
  ValidationError,
  verifyStandardWebhook,
  verifyWebhook,
  verifyWebhookSignature
} from "../src/index.js"
import { useServer } from "./serverFixture.js"

const server = useServer({ ML_DRIFT_SCHEDULER_TICK_MS: "3600000", ML_WEBHOOK_ALLOW_PRIVATE: "true" })

let state = 3
const uniform = () => {
  state = (Math.imul(state, 1664525) + 1013904223) >>> 0
  return state / 4294967296
}
const normalish = (loc = 0) => loc + uniform() + uniform() + uniform() + uniform() - 2

describe("drift client", () => {
  it("buffers recorded values into batches and reports drift and alerts to a verified webhook handler", async () => {
    const alerts: Array<DriftAlert> = []
    const receiver = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({
        fetch: onAlert("sdk-webhook-secret-0123", (alert) => void alerts.push(alert)),
        port: 0,
        hostname: "127.0.0.1"
      }, () => resolve(s))
    })
    const ml = createClient({ baseUrl: server.url, driftRecorder: { batchSize: 700, flushIntervalMs: 60_000 } })
    try {
      await ml.drift.createMonitor({
        id: "sdk-monitor",
        features: [{ name: "latency", kind: "feature", type: "numeric" }, {
          name: "label",
          kind: "prediction",
          type: "categorical"
        }],
        settings: { windowSize: 2000 }
      })
      await ml.drift.setBaseline("sdk-monitor", {
        latency: Array.from({ length: 5000 }, () => normalish()),
        label: Array.from({ length: 1000 }, (_, i) => (i % 4 === 0 ? "fraud" : "ok"))
      })
      await ml.drift.webhooks.create({
        url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`,
        secret: "sdk-webhook-secret-0123"
      })
      for (let i = 0; i < 1500; i++) ml.drift.recordFeature("sdk-monitor", "latency", normalish(1.5))
      for (let i = 0; i < 500; i++) ml.drift.recordRow("sdk-monitor", { label: i % 2 === 0 ? "fraud" : "ok" })
      await ml.drift.flush()
      const report = await ml.drift.check("sdk-monitor")
      expect(report.features.find((f) => f.feature === "latency")!.windowCount).toBe(1500)
      expect(report.features.find((f) => f.feature === "label")!.windowCount).toBe(500)
      // Both features drifted: the dataset too (a share of 1 at the default 0.5).
      expect(report.alerts.map((a) => a.feature).sort()).toEqual(["label", "latency", "~dataset"])
      for (let i = 0; i < 200 && alerts.length < 3; i++) await new Promise((r) => setTimeout(r, 25))
      expect(alerts.map((a) => a.feature).sort()).toEqual(["label", "latency", "~dataset"])
      expect((await ml.drift.getDriftReports({ monitorId: "sdk-monitor" })).length).toBe(1)
      expect(await ml.drift.getDriftReport(report.id)).toEqual(report)
      const page = await ml.drift.getDriftReportHtml(report.id)
      expect(page).toMatch(/^<!doctype html>/u)
      for (const f of report.features) expect(page).toContain(`<data value="${f.pValue}">`)
      await expect(ml.drift.getDriftReportHtml("check-0-0")).rejects.toBeInstanceOf(NotFoundError)
      await expect(ml.drift.check("no-such-monitor")).rejects.toBeInstanceOf(MonitorNotFoundError)
    } finally {
      await ml.drift.close()
      receiver.close()
    }
  })

  it("lists only the newest reports with a limit, oldest first, and refuses a limit out of bounds", async () => {
    const ml = createClient({ baseUrl: server.url })
    await ml.drift.createMonitor({ id: "sdk-limited", features: [{ name: "x", kind: "feature", type: "numeric" }] })
    const checked = [] as Array<string>
    for (let i = 0; i < 3; i++) checked.push((await ml.drift.check("sdk-limited")).id)
    expect((await ml.drift.getDriftReports({ monitorId: "sdk-limited" })).map((r) => r.id)).toEqual(checked)
    expect((await ml.drift.getDriftReports({ monitorId: "sdk-limited", limit: 2 })).map((r) => r.id)).toEqual(
      checked.slice(1)
    )
    expect((await ml.drift.getDriftReports({ monitorId: "sdk-limited", limit: 5 })).length).toBe(3)
    for (const limit of [0, 1001]) {
      const refused = await ml.drift.getDriftReports({ monitorId: "sdk-limited", limit }).catch((e: unknown) => e)
      expect(refused).toBeInstanceOf(ValidationError)
      expect((refused as ValidationError).status).toBe(400)
      expect((refused as ValidationError).message).toMatch(/limit.*from 1 to 1000/)
    }
  })

  it("rejects tampered or stale webhook signatures", async () => {
    const secret = "another-long-secret-value"
    const body = JSON.stringify({ alert: { feature: "x" } })
    const now = 1_900_000_000
    const key = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"]
    )
    const mac = Buffer.from(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${now}.${body}`))).toString(
      "hex"
    )
    const header = `t=${now},v1=${mac}`
    expect(await verifyWebhookSignature(secret, header, body, { nowSeconds: now })).toBe(true)
    expect(await verifyWebhookSignature(secret, header, body.replace("x", "y"), { nowSeconds: now })).toBe(false)
    expect(await verifyWebhookSignature("wrong-secret-wrong-secret", header, body, { nowSeconds: now })).toBe(false)
    expect(await verifyWebhookSignature(secret, header, body, { nowSeconds: now + 301 })).toBe(false)
    expect(await verifyWebhookSignature(secret, null, body)).toBe(false)
  })
})

describe("Standard Webhooks verification", () => {
  const secret = `whsec_${Buffer.from("a-standard-webhooks-key-32-bytes").toString("base64")}`
  const body = JSON.stringify({ alert: { feature: "x" } })

  it("accepts what the standardwebhooks library signs and rejects tampered, stale or missing headers", async () => {
    const at = new Date()
    const signature = new StandardWebhook(secret).sign("msg_1", at, body)
    const headers = new Headers({
      "webhook-id": "msg_1",
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": signature
    })
    expect(await verifyWebhook(secret, headers, body)).toBe(true)
    expect(await verifyStandardWebhook(secret, headers, body.replace("x", "y"))).toBe(false)
    expect(await verifyStandardWebhook(secret, headers, body, { nowSeconds: Math.floor(at.getTime() / 1000) + 301 }))
      .toBe(false)
    const otherSecret = `whsec_${Buffer.from("another-key-of-thirty-two-bytes!").toString("base64")}`
    expect(await verifyWebhook(otherSecret, headers, body)).toBe(false)
    // A rotation lists several signatures; one valid one is enough.
    headers.set("webhook-signature", `v1,${"A".repeat(44)} ${signature}`)
    expect(await verifyWebhook(secret, headers, body)).toBe(true)
    headers.delete("webhook-id")
    expect(await verifyWebhook(secret, headers, body)).toBe(false)
  })

  it("onAlert answers 401 to a forged Standard Webhooks signature and passes a genuine one", async () => {
    const alerts: Array<unknown> = []
    const handler = onAlert(secret, (alert) => void alerts.push(alert))
    const at = new Date()
    const headers = {
      "webhook-id": "msg_2",
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": new StandardWebhook(secret).sign("msg_2", at, body)
    }
    const post = (b: string) => handler(new Request("http://receiver/", { method: "POST", headers, body: b }))
    expect((await post(body.replace("x", "z"))).status).toBe(401)
    expect((await post(body)).status).toBe(204)
    expect(alerts).toEqual([{ feature: "x" }])
  })
})
