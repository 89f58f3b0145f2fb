// Registry events end to end: a webhook subscribed through the SDK receives the registry's changes
// from a real server, each signed as the Standard Webhooks reference library verifies, and the
// SDK's onRegistryEvent handler passes them on (and refuses a forged one).
import { serve } from "@hono/node-server"
import type { AddressInfo } from "node:net"
import { Webhook as StandardWebhook } from "standardwebhooks"
import { describe, expect, it } from "vitest"
import { createClient, onRegistryEvent, type RegistryEvent } from "../src/index.js"
import { useServer } from "./serverFixture.js"

const server = useServer({ ML_WEBHOOK_ALLOW_PRIVATE: "true", ML_REGISTRY_EVENTS_TICK_MS: "50" })
const secret = "sdk-registry-events-secret-0123"

describe("registry events", () => {
  it("reach a subscribed webhook, verified by the reference library and passed on by onRegistryEvent", async () => {
    const events: Array<RegistryEvent> = []
    const referenceVerified: Array<boolean> = []
    const handler = onRegistryEvent(secret, (event) => void events.push(event))
    const receiver = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({
        fetch: async (request) => {
          const body = await request.clone().text()
          try {
            // A non-whsec_ secret is the key's UTF-8 bytes: the library takes it as whsec_ + base64.
            new StandardWebhook(`whsec_${btoa(secret)}`).verify(body, Object.fromEntries(request.headers))
            referenceVerified.push(true)
          } catch {
            referenceVerified.push(false)
          }
          return handler(request)
        },
        port: 0,
        hostname: "127.0.0.1"
      }, () => resolve(s))
    })
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`
    const ml = createClient({ baseUrl: server.url })
    try {
      const hook = await ml.drift.webhooks.create({ url, secret, events: ["model_version.created", "promoted"] })
      expect(hook.events).toEqual(["model_version.created", "promoted"])
      const model = await ml.registry.registerModel(
        { name: "sdk-events", version: "1", algorithm: "gbm", framework: "xgboost" },
        new TextEncoder().encode("weights")
      )
      await ml.registry.promoteModel(model.id, "testing", { reason: "evaluated" })
      for (let i = 0; i < 400 && events.length < 2; i++) await new Promise((r) => setTimeout(r, 25))
      expect(events.map((e) => [e.type, e.model.id, e.to])).toEqual([
        ["model_version.created", model.id, "draft"],
        ["promoted", model.id, "testing"]
      ])
      expect(events[1]).toMatchObject({ from: "draft", reason: "evaluated" })
      expect(new Set(events.map((e) => e.id)).size).toBe(2)
      expect(referenceVerified).toEqual([true, true])
      // The delivery log shows them as drift deliveries are shown.
      const log = await ml.drift.webhooks.deliveries(hook.id)
      expect(log.map((d) => [d.alertId, d.ok, d.status])).toEqual(events.map((e) => [e.id, true, 204]))
      // A forged event is refused.
      const forged = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", "x-ml-signature": `t=${Math.floor(Date.now() / 1000)},v1=00` },
        body: JSON.stringify({ event: events[0] })
      })
      expect(forged.status).toBe(401)
      expect(events).toHaveLength(2)
    } finally {
      receiver.close()
    }
  })
})
