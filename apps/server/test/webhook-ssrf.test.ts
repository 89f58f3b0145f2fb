import { PrometheusMetrics } from "@org/ml-adapter-prometheus"
import * as fs from "node:fs/promises"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { Webhook as StandardWebhook } from "standardwebhooks"
import { afterEach, describe, expect, it } from "vitest"
import { loadConfig, makeRuntime, makeServerApp } from "../src/index.js"
import type { Resolve } from "../src/WebhookTargets.js"
import { json } from "./helpers.js"

const secret = "a-long-enough-webhook-secret"
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** The app over real fs storage, with the given env and (optionally) a steered resolver. */
const makeApp = async (env: Record<string, string>, webhookResolve?: Resolve) => {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), "ml-webhook-ssrf-"))
  const config = loadConfig({ ML_MODEL_STORAGE_DIR: directory, ML_DRIFT_SCHEDULER_TICK_MS: "3600000", ...env })
  const registry = PrometheusMetrics.makeRegistry()
  const runtime = makeRuntime(config, registry, { webhookResolve })
  const app = makeServerApp(config, runtime, registry, () => undefined)
  cleanups.push(async () => {
    await runtime.dispose()
    await fs.rm(directory, { recursive: true, force: true })
  })
  return (url: string, init?: RequestInit) => app.request(url, init)
}

interface Received {
  readonly headers: http.IncomingHttpHeaders
  readonly body: string
}

/** A real receiver on 127.0.0.1 answering every request with `status` (and a body it must not be echoed). */
const startReceiver = async (status: number, headers: Record<string, string> = {}) => {
  const received: Array<Received> = []
  const server = http.createServer((req, res) => {
    let body = ""
    req.on("data", (c: Buffer) => (body += c.toString()))
    req.on("end", () => {
      received.push({ headers: req.headers, body })
      res.writeHead(status, headers)
      res.end("internal details of the receiver")
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { port: (server.address() as AddressInfo).port, received }
}

type Request = Awaited<ReturnType<typeof makeApp>>

/** A monitor whose first check raises an alert (a shifted window against its baseline). */
const raiseAlert = async (request: Request, monitorId: string) => {
  const values = (n: number, shift: number) => Array.from({ length: n }, (_, i) => ((i * 7919) % 1000) / 1000 + shift)
  expect(
    (await request(
      "/v1/drift/monitors",
      json({
        id: monitorId,
        features: [{ name: "amount", kind: "feature", type: "numeric" }],
        settings: { windowSize: 1000, minWindow: 100 }
      })
    )).status
  ).toBe(201)
  await request(`/v1/drift/monitors/${monitorId}/baseline`, json({ amount: values(2000, 0) }, { method: "PUT" }))
  await request(`/v1/drift/monitors/${monitorId}/observations`, json({ values: { amount: values(500, 2) } }))
  const report = (await (await request(`/v1/drift/monitors/${monitorId}/check`, { method: "POST" })).json()) as {
    alerts: Array<unknown>
  }
  expect(report.alerts.length).toBeGreaterThan(0)
}

interface DeliveryRecord {
  readonly attempt: number
  readonly ok: boolean
  readonly status: number | null
  readonly error: string | null
}

/** The deliveries of a webhook once `count` are recorded (they run in the background). */
const deliveriesOf = async (request: Request, webhookId: string, count: number) => {
  const read = async () =>
    ((await (await request(`/v1/drift/webhooks/${webhookId}/deliveries`)).json()) as {
      items: Array<DeliveryRecord>
    }).items
  for (let i = 0; i < 400 && (await read()).length < count; i++) await new Promise((r) => setTimeout(r, 25))
  return read()
}

const register = (request: Request, url: string, monitorId?: string) =>
  request("/v1/drift/webhooks", json({ url, secret, ...(monitorId ? { monitorId } : {}) }))

describe("webhook registration refuses private targets (SSRF)", () => {
  const refused = [
    "http://127.0.0.1/",
    "http://2130706433/",
    "http://0x7f.1/",
    "http://127.1/",
    "http://0177.0.0.1/",
    "http://0x7f000001/",
    "http://0/",
    "http://0.0.0.0:8080/",
    "http://[::1]/",
    "http://[::]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[0:0:0:0:0:ffff:7f00:1]/",
    "http://10.1.2.3/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/",
    "http://[fc00::1]/",
    "http://[fe80::1]/",
    "http://224.0.0.1/",
    "http://[ff02::1]/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://localhost:8080/hook",
    "http://LOCALHOST./hook",
    "http://user:pass@93.184.216.34/",
    "ftp://93.184.216.34/",
    "file:///etc/passwd"
  ]
  it.each(refused)("refuses %s with a 400 naming url", async (url) => {
    const request = await makeApp({})
    const response = await register(request, url)
    expect(response.status).toBe(400)
    const problem = (await response.json()) as { errors: Array<{ path: string; message: string }> }
    expect(problem.errors.map((e) => e.path)).toContain("url")
    expect((await (await request("/v1/drift/webhooks")).json()) as { items: Array<unknown> }).toEqual({ items: [] })
  })

  it("accepts a public address, and private ones with ML_WEBHOOK_ALLOW_PRIVATE=true", async () => {
    expect((await register(await makeApp({}), "https://93.184.216.34/hook")).status).toBe(201)
    const allowing = await makeApp({ ML_WEBHOOK_ALLOW_PRIVATE: "true" })
    expect((await register(allowing, "http://127.0.0.1:9/hook")).status).toBe(201)
    // Credentials stay refused even then.
    expect((await register(allowing, "http://user:pass@127.0.0.1:9/")).status).toBe(400)
  })
})

describe("webhook delivery", () => {
  it("refuses a name that resolved publicly at registration but resolves to loopback at delivery", async () => {
    const receiver = await startReceiver(200)
    let answer = "93.184.216.34"
    const resolve: Resolve = async (hostname) => hostname === "rebind.example" ? [{ address: answer, family: 4 }] : []
    const request = await makeApp({}, resolve)
    const created = await register(request, `http://rebind.example:${receiver.port}/`, "rebound")
    expect(created.status).toBe(201)
    answer = "127.0.0.1"
    await raiseAlert(request, "rebound")
    const [delivery, ...more] = await deliveriesOf(request, ((await created.json()) as { id: string }).id, 1)
    expect(more).toEqual([])
    expect(delivery).toMatchObject({ attempt: 1, ok: false, status: null })
    expect(delivery!.error).toMatch(/^target refused: .*rebind\.example resolves to 127\.0\.0\.1/)
    expect(receiver.received).toEqual([])
  })

  it("connects only to the address it checked: a lookup answering loopback at connect time is refused", async () => {
    const receiver = await startReceiver(200)
    let calls = 0
    // Public for registration and the first pre-delivery check, loopback from the connection's own lookup on.
    const resolve: Resolve = async () => [{ address: ++calls <= 2 ? "93.184.216.34" : "127.0.0.1", family: 4 }]
    const request = await makeApp({}, resolve)
    const created = await register(request, `http://flip.example:${receiver.port}/`, "flipped")
    expect(created.status).toBe(201)
    await raiseAlert(request, "flipped")
    const deliveries = await deliveriesOf(request, ((await created.json()) as { id: string }).id, 2)
    expect(deliveries.map((d) => [d.attempt, d.ok, d.status])).toEqual([[1, false, null], [2, false, null]])
    expect(deliveries.every((d) => d.error!.startsWith("target refused: "))).toBe(true)
    expect(receiver.received).toEqual([])
  })

  it("does not follow redirects and records the status, not the receiver's answer", async () => {
    const redirectTarget = await startReceiver(200)
    const receiver = await startReceiver(302, { location: `http://127.0.0.1:${redirectTarget.port}/` })
    const request = await makeApp({ ML_WEBHOOK_ALLOW_PRIVATE: "true" })
    const created = await register(request, `http://127.0.0.1:${receiver.port}/`, "redirected")
    await raiseAlert(request, "redirected")
    const id = ((await created.json()) as { id: string }).id
    const deliveries = await deliveriesOf(request, id, 4)
    expect(deliveries.map((d) => [d.ok, d.status, d.error])).toEqual(Array(4).fill([false, 302, "HTTP 302"]))
    expect(JSON.stringify(deliveries)).not.toContain("internal details")
    expect(redirectTarget.received).toEqual([])
  })

  it("sends Standard Webhooks headers the standardwebhooks library verifies", async () => {
    const receiver = await startReceiver(204)
    const request = await makeApp({ ML_WEBHOOK_ALLOW_PRIVATE: "true" })
    await register(request, `http://127.0.0.1:${receiver.port}/`, "standard")
    await raiseAlert(request, "standard")
    for (let i = 0; i < 400 && receiver.received.length === 0; i++) await new Promise((r) => setTimeout(r, 25))
    const [{ body, headers }] = receiver.received as [Received]
    // A secret not in whsec_ form is used as its UTF-8 bytes, which the library takes base64-encoded.
    const verifier = new StandardWebhook(Buffer.from(secret).toString("base64"))
    const alert = verifier.verify(body, headers as Record<string, string>) as { alert: { monitorId: string } }
    expect(alert.alert.monitorId).toBe("standard")
    expect(headers["webhook-id"]).toMatch(/^msg_/)
    expect(() => verifier.verify(body.replace("standard", "forged!!"), headers as Record<string, string>)).toThrow()
  })
})
