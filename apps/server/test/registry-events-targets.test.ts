// Webhooks subscribed to registry events follow the drift webhooks' target rules (SSRF): a private
// target is refused at registration unless ML_WEBHOOK_ALLOW_PRIVATE, and checked again before each
// delivery (a name that now resolves to loopback gets nothing, the refusal is logged and the event
// stays owed). The app runs in process over real fs storage; a delivery pass is run on demand.
import { PrometheusMetrics } from "@org/ml-adapter-prometheus"
import { RegistryEventDelivery } from "@org/ml-core"
import * as fs from "node:fs/promises"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { loadConfig, makeRuntime, makeServerApp } from "../src/index.js"
import type { Resolve } from "../src/WebhookTargets.js"
import { json, metadata } from "./helpers.js"

const secret = "a-long-enough-webhook-secret"
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const makeApp = async (env: Record<string, string>, webhookResolve?: Resolve) => {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), "ml-registry-events-targets-"))
  const config = loadConfig({ ML_MODEL_STORAGE_DIR: directory, ...env })
  const registry = PrometheusMetrics.makeRegistry()
  const runtime = makeRuntime(config, registry, { webhookResolve })
  const app = makeServerApp(config, runtime, registry, () => undefined)
  cleanups.push(async () => {
    await runtime.dispose()
    await fs.rm(directory, { recursive: true, force: true })
  })
  return {
    request: (url: string, init?: RequestInit) => app.request(url, init),
    deliverPending: () =>
      runtime.runPromise(RegistryEventDelivery.RegistryEventDelivery.use((delivery) => delivery.deliverPending()))
  }
}

const startReceiver = async () => {
  const received: Array<string> = []
  const server = http.createServer((req, res) => {
    let body = ""
    req.on("data", (c: Buffer) => (body += c.toString()))
    req.on("end", () => {
      received.push(body)
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { port: (server.address() as AddressInfo).port, received }
}

const subscribe = (
  request: (url: string, init?: RequestInit) => Response | Promise<Response>,
  url: string,
  events: unknown
) => request("/v1/drift/webhooks", json({ url, secret, events }))

const problemPaths = async (response: Response) =>
  ((await response.json()) as { errors: Array<{ path: string; message: string }> }).errors

describe("registry-event webhooks and their targets", () => {
  it("refuses a private target unless private targets are allowed, naming url", async () => {
    const { request } = await makeApp({})
    const refused = await subscribe(request, "http://10.1.2.3/hook", ["promoted"])
    expect(refused.status).toBe(400)
    expect((await problemPaths(refused)).map((e) => e.path)).toEqual(["url"])
    const allowing = await makeApp({ ML_WEBHOOK_ALLOW_PRIVATE: "true" })
    expect((await subscribe(allowing.request, "http://10.1.2.3/hook", ["promoted"])).status).toBe(201)
  })

  it("refuses an unknown event type, an empty list and too many, naming events", async () => {
    const { request } = await makeApp({ ML_WEBHOOK_ALLOW_PRIVATE: "true" })
    for (const events of [["model.deleted"], [], Array(9).fill("promoted"), "promoted"]) {
      const response = await subscribe(request, "http://127.0.0.1:9/", events)
      expect(response.status).toBe(400)
      expect((await problemPaths(response)).map((e) => e.path.split(".")[0])).toEqual(["events"])
    }
  })

  it("checks the target again before delivering: a name now resolving to loopback gets nothing", async () => {
    const receiver = await startReceiver()
    let answer = "93.184.216.34"
    const resolve: Resolve = async (hostname) => hostname === "rebind.example" ? [{ address: answer, family: 4 }] : []
    const { deliverPending, request } = await makeApp({}, resolve)
    const created = await subscribe(request, `http://rebind.example:${receiver.port}/`, ["model_version.created"])
    expect(created.status).toBe(201)
    const hookId = ((await created.json()) as { id: string }).id
    expect((await request("/v1/models", json(metadata({ name: "rebound" })))).status).toBe(201)
    answer = "127.0.0.1"
    expect(await deliverPending()).toBe(0)
    const log = ((await (await request(`/v1/drift/webhooks/${hookId}/deliveries`)).json()) as {
      items: Array<{ alertId: string; attempt: number; ok: boolean; error: string | null }>
    }).items
    expect(log.map((d) => [d.attempt, d.ok])).toEqual([[1, false]])
    expect(log[0]!.alertId).toMatch(/^evt_\d+_/)
    expect(log[0]!.error).toMatch(/^target refused: .*rebind\.example resolves to 127\.0\.0\.1/)
    expect(receiver.received).toEqual([])
  })
})
