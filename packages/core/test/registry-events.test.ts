// Registry events from the outbox to webhooks: what is sent (each recorded event of a subscribed type,
// in order, signed, with its stable id), when the cursor moves (only past a 2xx) and what the
// delivery log keeps. The receiver is a fetch that answers as a server would; the server tests
// deliver over real HTTP to a real receiver process.
import { Effect, Layer } from "effect"
import { describe, expect, it } from "vitest"
import { verifyStandardWebhook, verifyWebhookSignature } from "../src/drift/WebhookSignature.js"
import {
  ArtifactStore,
  DriftDetector,
  DriftStore,
  MetricsSink,
  ModelRegistry,
  ModelStore,
  registryEvent,
  RegistryEventDelivery,
  WebhookTargets
} from "../src/index.js"
import { streamOf } from "../src/testing/index.js"

interface Received {
  readonly url: string
  readonly headers: Record<string, string>
  readonly body: string
}

/** A receiver: records each request and answers `status()` (a thrown error is a connection failure). */
const receiver = (status: () => number) => {
  const received: Array<Received> = []
  const fetch = (async (url: string, init: RequestInit) => {
    received.push({ url, headers: init.headers as Record<string, string>, body: init.body as string })
    return new Response(null, { status: status() })
  }) as unknown as typeof globalThis.fetch
  return { received, fetch }
}

const secret = "0123456789abcdef-registry-secret"

/** The memory sink's read-back (the layer's service is that sink). */
type MemorySink = MetricsSink.MetricsSinkShape & { readonly snapshot: () => ReadonlyMap<string, number> }

const layerWith = (
  fetch: typeof globalThis.fetch,
  targets?: WebhookTargets.WebhookTargetsShape,
  passBudgetMillis?: number
) => {
  const stores = Layer.mergeAll(
    ModelStore.layerMemory,
    DriftStore.layerMemory,
    ArtifactStore.layerMemory,
    MetricsSink.layerMemory
  )
  const options = { fetch, retryDelayMillis: 1, webhookAttempts: 2, failureWaitMillis: 0 }
  const services = Layer.mergeAll(
    ModelRegistry.layer(),
    DriftDetector.layer(options),
    RegistryEventDelivery.layer({ ...options, passBudgetMillis })
  )
  const withTargets = targets === undefined
    ? services
    : services.pipe(Layer.provide(Layer.succeed(WebhookTargets.WebhookTargets, targets)))
  return withTargets.pipe(Layer.provideMerge(stores))
}

/** A registration with an artifact, promotions to testing, staging and production, and a metadata update between. */
const registryChanges = Effect.gen(function*() {
  const registry = yield* ModelRegistry.ModelRegistry
  const model = yield* registry.registerModel(
    { name: `fraud-${Math.random().toString(36).slice(2, 8)}`, version: "1", algorithm: "gbm", framework: "xgb" },
    streamOf([new Uint8Array([1, 2, 3])])
  )
  yield* registry.promoteModel(model.id, "testing", { actor: "alice", reason: "offline eval ok" })
  yield* registry.updateModel(model.id, { description: "not published" })
  yield* registry.promoteModel(model.id, "staging", { actor: "alice" })
  yield* registry.promoteModel(model.id, "production", { actor: "alice" })
  return model
})

const bodyOf = (r: Received) => JSON.parse(r.body).event as { id: string; type: string; sequence: number }

describe("registry events to webhooks", () => {
  it("sends each recorded event of a subscribed type once, in order, signed, and then nothing more", async () => {
    const { fetch, received } = receiver(() => 200)
    const result = await Effect.runPromise(Effect.provide(
      Effect.gen(function*() {
        const drift = yield* DriftDetector.DriftDetector
        const delivery = yield* RegistryEventDelivery.RegistryEventDelivery
        const hook = yield* drift.createWebhook({
          url: "https://hooks.example/registry",
          secret,
          events: ["promoted", "model_version.created", "artifact_uploaded", "promoted"]
        })
        const alertsOnly = yield* drift.createWebhook({ url: "https://hooks.example/alerts", secret })
        const model = yield* registryChanges
        const first = yield* delivery.deliverPending()
        const second = yield* delivery.deliverPending()
        const store = yield* ModelStore.ModelStore
        return {
          hook,
          alertsOnly,
          model,
          first,
          second,
          recorded: yield* store.eventsAfter(0, 100),
          cursor: yield* store.eventCursor(RegistryEventDelivery.cursorName(hook.id)),
          log: yield* drift.webhookDeliveries(hook.id),
          metrics: ((yield* MetricsSink.MetricsSink) as unknown as MemorySink).snapshot()
        }
      }),
      layerWith(fetch)
    ))
    const series = (type: string, outcome: string) =>
      result.metrics.get(MetricsSink.seriesKey(RegistryEventDelivery.deliveriesMetric, { type, outcome }))
    expect([series("promoted", "delivered"), series("model_version.created", "delivered")]).toEqual([3, 1])
    // Deduplicated, in the documented order.
    expect(result.hook.events).toEqual(["model_version.created", "artifact_uploaded", "promoted"])
    expect(result.alertsOnly.events).toBeUndefined()
    const expected = result.recorded.flatMap((r) => {
      const event = registryEvent(r)
      return event !== undefined && result.hook.events!.includes(event.type) ? [event] : []
    })
    expect(expected.map((e) => e.type)).toEqual([
      "model_version.created",
      "artifact_uploaded",
      "promoted",
      "promoted",
      "promoted"
    ])
    expect(result.first).toBe(5)
    expect(result.second).toBe(0)
    // Only the subscribed webhook received anything, exactly the recorded events.
    expect(received.every((r) => r.url === "https://hooks.example/registry")).toBe(true)
    expect(received.map((r) => JSON.parse(r.body).event)).toEqual(expected)
    expect(expected[2]).toMatchObject({ from: "draft", to: "testing", actor: "alice", reason: "offline eval ok" })
    expect(expected[0]!.model).toEqual({ id: result.model.id, name: result.model.name, version: "1" })
    for (const r of received) {
      const event = bodyOf(r)
      expect(event.id).toBe(`evt_${event.sequence}_${result.model.id}`)
      expect(r.headers["x-ml-event-id"]).toBe(event.id)
      expect(await verifyWebhookSignature(secret, r.headers["x-ml-signature"]!, r.body)).toBe(true)
      expect(await verifyWebhookSignature("another-secret-of-16", r.headers["x-ml-signature"]!, r.body)).toBe(false)
      const headers = new Headers(r.headers)
      expect(await verifyStandardWebhook(secret, headers, r.body)).toBe(true)
      expect(await verifyStandardWebhook(secret, headers, `${r.body} `)).toBe(false)
    }
    expect(result.cursor).toBe(result.recorded[result.recorded.length - 1]!.sequence)
    expect(result.log.map((d) => [d.alertId, d.attempt, d.ok, d.status])).toEqual(
      expected.map((e) => [e.id, 1, true, 200])
    )
  })

  it("keeps the cursor before an event the receiver refused, and delivers from it once it answers", async () => {
    let status = 503
    const { fetch, received } = receiver(() => status)
    const result = await Effect.runPromise(Effect.provide(
      Effect.gen(function*() {
        const drift = yield* DriftDetector.DriftDetector
        const delivery = yield* RegistryEventDelivery.RegistryEventDelivery
        const store = yield* ModelStore.ModelStore
        const hook = yield* drift.createWebhook({ url: "https://hooks.example/r", secret, events: ["promoted"] })
        yield* registryChanges
        const failed = yield* delivery.deliverPending()
        const cursorAfterFailure = yield* store.eventCursor(RegistryEventDelivery.cursorName(hook.id))
        const failedLog = yield* drift.webhookDeliveries(hook.id)
        const attempts = received.length
        status = 204
        const delivered = yield* delivery.deliverPending()
        return {
          failed,
          cursorAfterFailure,
          failedLog,
          attempts,
          delivered,
          recorded: yield* store.eventsAfter(0, 100)
        }
      }),
      layerWith(fetch)
    ))
    const promotions = result.recorded.filter((r) => r.event.action === "promoted")
    expect(result.failed).toBe(0)
    // The registration and upload before it were passed over (not subscribed); the promotion was not.
    expect(result.cursorAfterFailure).toBe(promotions[0]!.sequence - 1)
    expect(result.attempts).toBe(2)
    expect(result.failedLog.map((d) => [d.alertId, d.attempt, d.ok, d.status, d.error])).toEqual([
      [`evt_${promotions[0]!.sequence}_${promotions[0]!.event.modelId}`, 1, false, 503, "HTTP 503"],
      [`evt_${promotions[0]!.sequence}_${promotions[0]!.event.modelId}`, 2, false, 503, "HTTP 503"]
    ])
    expect(result.delivered).toBe(3)
    // The refused event again (same id: a receiver drops a repeat it had taken), then the next ones.
    const ids = received.map((r) => bodyOf(r).id)
    expect(ids).toEqual([ids[0], ids[0], ...promotions.map((p) => `evt_${p.sequence}_${p.event.modelId}`)])
  })

  it("leaves what a pass had no time for to the next passes, in order", async () => {
    const { fetch, received } = receiver(() => 200)
    const perPass = await Effect.runPromise(Effect.provide(
      Effect.gen(function*() {
        const drift = yield* DriftDetector.DriftDetector
        yield* drift.createWebhook({ url: "https://hooks.example/slow", secret, events: ["promoted"] })
        yield* registryChanges
        const delivery = yield* RegistryEventDelivery.RegistryEventDelivery
        const counts: Array<number> = []
        for (let i = 0; i < 4; i++) counts.push(yield* delivery.deliverPending())
        return counts
      }),
      layerWith(fetch, undefined, 0)
    ))
    // No time at all: one event per pass (a pass always makes progress), none twice, none skipped.
    expect(perPass).toEqual([1, 1, 1, 0])
    const events = received.map(bodyOf)
    expect(events.map((e) => e.type)).toEqual(["promoted", "promoted", "promoted"])
    expect(events.map((e) => e.sequence)).toEqual([...events.map((e) => e.sequence)].sort((a, b) => a - b))
    expect(new Set(events.map((e) => e.id)).size).toBe(3)
  })

  it("sends nothing recorded before the webhook existed", async () => {
    const { fetch, received } = receiver(() => 200)
    const delivered = await Effect.runPromise(Effect.provide(
      Effect.gen(function*() {
        yield* registryChanges
        // Events carry millisecond times: a webhook created in the same millisecond would still get them.
        yield* Effect.sleep(5)
        const drift = yield* DriftDetector.DriftDetector
        yield* drift.createWebhook({ url: "https://hooks.example/late", secret, events: ["promoted"] })
        const delivery = yield* RegistryEventDelivery.RegistryEventDelivery
        return (yield* delivery.deliverPending()) + (yield* delivery.deliverPending())
      }),
      layerWith(fetch)
    ))
    expect(delivered).toBe(0)
    expect(received).toEqual([])
  })

  it("sends nothing to a refused target, records why, and keeps the event", async () => {
    const { fetch, received } = receiver(() => 200)
    let refuse = false
    const targets: WebhookTargets.WebhookTargetsShape = {
      refusal: () => Effect.succeed(refuse ? "must not point at a private address (10.0.0.7)" : null)
    }
    const result = await Effect.runPromise(Effect.provide(
      Effect.gen(function*() {
        const drift = yield* DriftDetector.DriftDetector
        const hook = yield* drift.createWebhook({ url: "https://rebinds.example/", secret, events: ["promoted"] })
        yield* registryChanges
        // The name now resolves to a private address (DNS rebinding): checked again before each attempt.
        refuse = true
        const delivered = yield* (yield* RegistryEventDelivery.RegistryEventDelivery).deliverPending()
        const store = yield* ModelStore.ModelStore
        return {
          delivered,
          cursor: yield* store.eventCursor(RegistryEventDelivery.cursorName(hook.id)),
          log: yield* drift.webhookDeliveries(hook.id)
        }
      }),
      layerWith(fetch, targets)
    ))
    expect(result.delivered).toBe(0)
    expect(received).toEqual([])
    // One attempt (a refusal is not retried), recorded with the reason.
    expect(result.log.map((d) => [d.attempt, d.ok, d.status, d.error])).toEqual([
      [1, false, null, "target refused: must not point at a private address (10.0.0.7)"]
    ])
    expect(result.cursor).toBe(2)
  })

  it("refuses an empty subscription, naming the field", async () => {
    const { fetch } = receiver(() => 200)
    const exit = await Effect.runPromise(Effect.provide(
      Effect.exit(
        DriftDetector.DriftDetector.use((drift) =>
          drift.createWebhook({ url: "https://h.example/", secret, events: [] })
        )
      ),
      layerWith(fetch)
    ))
    expect(exit._tag).toBe("Failure")
    expect(JSON.stringify(exit)).toContain("must list at least one of drift.alert, model_version.created")
  })
})
