/** Where drift alerts go: the AlertNotifier port (chosen webhooks), the webhook adapter's retries, DriftAlerts. */
import { Effect, Layer, PubSub } from "effect"
import { describe, expect, it } from "vitest"
import { AlertNotifier, DriftAlerts, DriftDetector, DriftStore, MetricsSink, WebhookNotifier } from "../src/index.js"
import { makeSample } from "./golden/samples.js"

const normalish = (seed: number, n: number, loc = 0) =>
  Array.from(makeSample({ seed, n, kind: "irwin", loc, scale: 1, levels: 0 }))

/** A monitor whose amount feature drifts at its first check (its window moved by `shift`). */
const driftingMonitor = (id: string, shift = 1.5) =>
  Effect.gen(function*() {
    const d = yield* DriftDetector.DriftDetector
    yield* d.createMonitor({ id, features: [{ name: "amount", kind: "feature", type: "numeric" }] })
    yield* d.setBaseline(id, { amount: normalish(1, 5000) })
    yield* d.recordBatch(id, { amount: normalish(2, 1000, shift) })
  })

describe("AlertNotifier port", () => {
  it("gets each alert for the webhooks that want it, and none for the others", async () => {
    const notifier = Effect.runSync(AlertNotifier.makeMemory)
    const layer = DriftDetector.layerFromPorts().pipe(
      Layer.provideMerge(Layer.mergeAll(
        DriftStore.layerMemory,
        MetricsSink.layerMemory,
        DriftAlerts.layer,
        Layer.succeed(AlertNotifier.AlertNotifier, notifier)
      ))
    )
    const hooks = await Effect.runPromise(Effect.provide(
      Effect.gen(function*() {
        const d = yield* DriftDetector.DriftDetector
        const secret = "0123456789abcdef"
        const all = yield* d.createWebhook({ url: "https://a.example", secret })
        const mine = yield* d.createWebhook({ url: "https://b.example", secret, monitorId: "payments" })
        yield* d.createWebhook({ url: "https://c.example", secret, monitorId: "other" })
        yield* d.createWebhook({ url: "https://d.example", secret, minSeverity: "critical" })
        yield* driftingMonitor("payments", 0.5)
        const report = yield* d.check("payments")
        expect(report.alerts.map((a) => a.severity)).toEqual(["high"])
        // Deliveries are forked: let them run (a bounded wait).
        for (let i = 0; i < 100 && notifier.delivered().length < 2; i++) yield* Effect.sleep(1)
        return [all.id, mine.id]
      }),
      layer
    ))
    expect(notifier.delivered().map((d) => d.webhook.id).sort()).toEqual([...hooks].sort())
    expect(notifier.delivered().every((d) => d.alert.monitorId === "payments")).toBe(true)
  })
})

describe("webhook adapter", () => {
  it("stops after the configured attempts, recording each failed one", async () => {
    let calls = 0
    const failing = (async () => {
      calls++
      throw new Error("connection refused")
    }) as unknown as typeof fetch
    const deliveries = await Effect.runPromise(Effect.provide(
      Effect.gen(function*() {
        const notifier = yield* AlertNotifier.AlertNotifier
        const hook = {
          id: "hook-1",
          url: "https://down.example",
          secret: "0123456789abcdef",
          monitorId: null,
          minSeverity: "low" as const,
          createdAt: "2030-01-01T00:00:00.000Z"
        }
        yield* notifier.deliver(hook, { id: "alert-1" } as never)
        return yield* (yield* DriftStore.DriftStore).deliveries("hook-1")
      }),
      WebhookNotifier.layer({ fetch: failing, webhookAttempts: 3, retryDelayMillis: 1 }).pipe(
        Layer.provideMerge(DriftStore.layerMemory)
      )
    ))
    expect(calls).toBe(3)
    expect(deliveries.map((d) => [d.attempt, d.ok, d.status, d.error])).toEqual([
      [1, false, null, "connection refused"],
      [2, false, null, "connection refused"],
      [3, false, null, "connection refused"]
    ])
  })
})

describe("DriftAlerts", () => {
  it("gives every subscriber each alert of a check, in order", async () => {
    const received = await Effect.runPromise(Effect.provide(
      Effect.scoped(Effect.gen(function*() {
        const alerts = yield* DriftAlerts.DriftAlerts
        const first = yield* alerts.subscribe
        const second = yield* alerts.subscribe
        yield* driftingMonitor("shared")
        const report = yield* (yield* DriftDetector.DriftDetector).check("shared")
        return {
          report: report.alerts.map((a) => a.id),
          first: (yield* PubSub.takeAll(first)).map((a) => a.id),
          second: (yield* PubSub.takeAll(second)).map((a) => a.id)
        }
      })),
      DriftDetector.layerMemory()
    ))
    expect(received.report.length).toBeGreaterThan(0)
    expect(received.first).toEqual(received.report)
    expect(received.second).toEqual(received.report)
  })

  it("does not hold a check up when nobody subscribes", async () => {
    const report = await Effect.runPromise(Effect.provide(
      driftingMonitor("alone").pipe(Effect.andThen(DriftDetector.DriftDetector.use((d) => d.check("alone")))),
      DriftDetector.layerMemory()
    ))
    expect(report.alerts.length).toBeGreaterThan(0)
  })
})
