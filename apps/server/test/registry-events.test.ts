// Registry events from the outbox, across crashes, with the real server process and a real HTTP
// receiver (filesystem, Redis and PostgreSQL+Redis modes). The first process records changes and
// never delivers (ML_REGISTRY_EVENTS_TICK_MS=0: a crash between the change and its delivery); the
// second delivers to a slow receiver and is killed with SIGKILL mid-way; the third records more
// and delivers the rest. The receiver must then hold exactly the events the audit trails record,
// of the subscribed types: none lost, none invented, a repeat only under the same id with the same
// body, every body signed with the webhook's secret.
import { freshDatabase, type TestDatabase } from "@org/ml-adapter-postgres/testing"
import { connectOrFail, deleteKeysWithPrefix, redisUrl, uniquePrefix } from "@org/ml-adapter-redis/testing"
import { type AuditEvent, registryEventTypes } from "@org/ml-core"
import { verifyStandardWebhook, verifyWebhookSignature } from "@org/ml-core/webhook-signature"
import type { Redis } from "ioredis"
import * as fs from "node:fs/promises"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { httpClient, killHard, type ListeningServer, startServer } from "./serverProcess.js"

interface Delivered {
  readonly id: string
  readonly headerId: string | undefined
  readonly body: string
  readonly signatureOk: boolean
  readonly standardOk: boolean
}

const secret = "registry-events-secret-0123456789"

/** A receiver that takes `delayMillis` to answer 200, verifying each body's signatures as it arrives. */
const startReceiver = async (delayMillis: number) => {
  const delivered: Array<Delivered> = []
  const server = http.createServer((request, response) => {
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => chunks.push(chunk))
    request.on("end", async () => {
      const body = Buffer.concat(chunks).toString("utf8")
      const headers = new Headers(request.headers as Record<string, string>)
      delivered.push({
        id: JSON.parse(body).event.id,
        headerId: request.headers["x-ml-event-id"] as string | undefined,
        body,
        signatureOk: await verifyWebhookSignature(secret, headers.get("x-ml-signature"), body),
        standardOk: await verifyStandardWebhook(secret, headers, body)
      })
      setTimeout(() => response.writeHead(200).end("ok"), delayMillis)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/registry-events`
  return { delivered, url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}

const waitFor = async (condition: () => boolean, what: string, timeoutMillis = 60_000) => {
  const deadline = Date.now() + timeoutMillis
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** The published types of the audit actions, as the docs list them (demotions are status moves). */
const typeOf = (event: AuditEvent) =>
  event.action === "registered"
    ? "model_version.created"
    : event.action === "demoted"
    ? (event.to === "archived" ? "archived" : "promoted")
    : event.action === "updated"
    ? undefined
    : event.action

let database: TestDatabase
let admin: Redis
const prefixes: Array<string> = []
const directories: Array<string> = []
const running: Array<ListeningServer> = []

beforeAll(async () => {
  database = await freshDatabase("registry_events")
  admin = await connectOrFail()
}, 60_000)
afterAll(async () => {
  await Promise.all(running.map((server) => killHard(server.child)))
  for (const prefix of prefixes) await deleteKeysWithPrefix(admin, prefix)
  await admin.quit()
  await database?.drop()
  for (const directory of directories) await fs.rm(directory, { recursive: true, force: true })
}, 60_000)

const modes: ReadonlyArray<readonly [string, () => Record<string, string>]> = [
  ["fs", () => ({})],
  ["redis", () => {
    const prefix = uniquePrefix("registry-events")
    prefixes.push(prefix)
    return { ML_REDIS_URL: redisUrl, ML_REDIS_PREFIX: prefix }
  }],
  ["postgres+redis", () => {
    const prefix = uniquePrefix("registry-events-composed")
    prefixes.push(prefix)
    return { ML_DATABASE_URL: database.url, ML_REDIS_URL: redisUrl, ML_REDIS_PREFIX: prefix }
  }]
]

describe.each(modes)("registry events across crashes: %s", (_mode, storeEnvironment) => {
  it("delivers exactly the recorded events of the subscribed types, whatever was killed when", async () => {
    const directory = await fs.mkdtemp(path.join(os.tmpdir(), "ml-registry-events-"))
    directories.push(directory)
    const receiver = await startReceiver(150)
    const environment = { ...storeEnvironment(), ML_WEBHOOK_ALLOW_PRIVATE: "true", ML_AB_REWEIGHT_INTERVAL: "0" }
    let server = await startServer(directory, { ...environment, ML_REGISTRY_EVENTS_TICK_MS: "0" })
    running.push(server)
    const call = httpClient(() => server.url)
    const subscribed = ["model_version.created", "promoted", "archived"]
    const hook = await call("POST", "/v1/drift/webhooks", { url: receiver.url, secret, events: subscribed })
    expect(hook.status).toBe(201)
    expect(hook.body.events).toEqual(subscribed)

    const models: Array<string> = []
    /** A version registered with an artifact and promoted to production (replacing the one there). */
    const release = async (version: string) => {
      const registered = await call("POST", "/v1/models", {
        name: "events-model",
        version,
        algorithm: "gbm",
        framework: "xgboost"
      })
      expect(registered.status).toBe(201)
      const id = registered.body.id as string
      models.push(id)
      const uploaded = await call("PUT", `/v1/models/${id}/artifact`, `bytes of ${version}`, {
        "content-type": "application/octet-stream"
      })
      expect(uploaded.status).toBe(200)
      for (const status of ["testing", "staging", "production"]) {
        expect((await call("POST", `/v1/models/${id}/promote`, { status, reason: `to ${status}` })).status).toBe(200)
      }
    }

    // 1. Changes recorded, nothing delivered; killed.
    await release("1")
    await release("2")
    await killHard(server.child)

    // 2. Delivering to a slow receiver; killed once some (not all) arrived.
    server = await startServer(directory, { ...environment, ML_REGISTRY_EVENTS_TICK_MS: "50" })
    running.push(server)
    await waitFor(() => new Set(receiver.delivered.map((d) => d.id)).size >= 3, "the first deliveries")
    await killHard(server.child)
    const beforeSecondKill = new Set(receiver.delivered.map((d) => d.id)).size

    // 3. More changes; every event delivered.
    server = await startServer(directory, { ...environment, ML_REGISTRY_EVENTS_TICK_MS: "50" })
    running.push(server)
    await release("3")
    const recorded: Array<AuditEvent> = []
    for (const id of models) {
      // An array answer: httpClient parses objects only.
      recorded.push(...JSON.parse((await call("GET", `/v1/models/${id}/history`)).body as string) as Array<AuditEvent>)
    }
    const expected = recorded.filter((event) => subscribed.includes(typeOf(event) ?? ""))
    // Release 1: created, 3 promotions; 2: created, 3 promotions, 1 archived (v1 replaced); 3 the same.
    expect(expected).toHaveLength(14)
    await waitFor(() => new Set(receiver.delivered.map((d) => d.id)).size >= expected.length, "every event")
    // Nothing more comes (the cursor is past everything), given a few more passes.
    await new Promise((resolve) => setTimeout(resolve, 1000))
    await killHard(server.child)
    await receiver.close()

    const byId = new Map<string, string>()
    for (const d of receiver.delivered) {
      expect(d.signatureOk && d.standardOk).toBe(true)
      expect(d.headerId).toBe(d.id)
      // A repeat carries the same id and the very same event.
      const body = JSON.stringify(JSON.parse(d.body).event)
      expect(byId.get(d.id) ?? body).toBe(body)
      byId.set(d.id, body)
    }
    const events = [...byId.values()].map((body) => JSON.parse(body))
    const key = (e: { model?: { id: string }; modelId?: string; action: string; at: string; to: unknown }) =>
      `${e.model?.id ?? e.modelId} ${e.action} ${e.at} ${String(e.to)}`
    expect(events.map(key).sort()).toEqual(expected.map(key).sort())
    expect(events.every((e) => registryEventTypes.includes(e.type) && subscribed.includes(e.type))).toBe(true)
    // In order: each model's events arrive in the order of its audit trail, and sequences only grow.
    const sequences = receiver.delivered.map((d) => JSON.parse(d.body).event.sequence as number)
    const firstSeen = sequences.filter((s, i) => sequences.indexOf(s) === i)
    expect(firstSeen).toEqual([...firstSeen].sort((a, b) => a - b))
    // The second process was killed with events of the first two releases (9) still owed.
    expect(beforeSecondKill).toBeLessThan(9)
  }, 180_000)
})
