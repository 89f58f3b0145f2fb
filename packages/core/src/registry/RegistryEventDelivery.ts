/**
 * Delivers registry events from the store's outbox (the audit trail, ModelStore `eventsAfter`) to
 * the webhooks subscribed to them, at least once and in order: each webhook has a durable cursor
 * in the ModelStore (`webhook:<id>`) that moves past an event only once the receiver answered 2xx
 * (or the webhook does not want it), so a crash between the change and its delivery, or a
 * receiver that is down, delays events but loses none, and nothing is sent that was not recorded.
 * A repeat (a crash after the 2xx, before the cursor moved; two instances in one pass) carries the
 * same event id, the idempotency key. Sending is the drift webhooks' (WebhookNotifier.makeSender):
 * the same signatures, target rules before every attempt, retries and delivery log.
 */
import { Clock, Context, Effect, Layer } from "effect"
import { DriftStore } from "../drift/DriftStore.js"
import type { Webhook } from "../drift/Webhook.js"
import * as WebhookNotifier from "../drift/WebhookNotifier.js"
import type { StorageError } from "../shared/Errors.js"
import { MetricsSink } from "../shared/MetricsSink.js"
import { ModelStore } from "./ModelStore.js"
import { type RegistryEvent, registryEvent } from "./RegistryEvents.js"

export interface RegistryEventDeliveryShape {
  /**
   * One pass: every subscribed webhook (not waiting after a failure) gets the events after its
   * cursor, in order, until it is caught up or a delivery fails; answers how many were delivered.
   */
  readonly deliverPending: () => Effect.Effect<number, StorageError>
}

export class RegistryEventDelivery extends Context.Service<RegistryEventDelivery, RegistryEventDeliveryShape>()(
  "@org/ml-core/RegistryEventDelivery"
) {}

export interface RegistryEventDeliveryOptions extends WebhookNotifier.WebhookNotifierOptions {
  /** Events read from the outbox at a time (default 100). */
  readonly pageSize?: number | undefined
  /** The first wait of a webhook whose delivery failed, doubled per failure up to `maxWaitMillis` (5 s, 5 min). */
  readonly failureWaitMillis?: number | undefined
  readonly maxWaitMillis?: number | undefined
  /**
   * How long one pass keeps sending to a webhook before leaving the rest to the next pass (default
   * 10 s): passes stay within the deliverer's lease, so instances rarely overlap (and repeat events).
   */
  readonly passBudgetMillis?: number | undefined
}

/** Registry events sent, by type and outcome (delivered, or failed after the retries: sent again later). */
export const deliveriesMetric = "ml_registry_event_deliveries_total"

/** Webhooks served at once in a pass: each may wait on a slow receiver for its retries. */
const webhooksAtOnce = 16

/** The outbox consumer name of a webhook's cursor. */
export const cursorName = (webhookId: string) => `webhook:${webhookId}`

/** A webhook wants a registry event of a type it subscribed to, recorded at or after its creation. */
export const wantsEvent = (webhook: Webhook, event: RegistryEvent): boolean =>
  webhook.events !== undefined && webhook.events.includes(event.type) && event.at >= webhook.createdAt

const subscribed = (webhook: Webhook) =>
  webhook.events !== undefined && webhook.events.some((type) => type !== "drift.alert")

export const make = (options: RegistryEventDeliveryOptions = {}) =>
  Effect.gen(function*() {
    const models = yield* ModelStore
    const drift = yield* DriftStore
    const metrics = yield* MetricsSink
    const { send } = yield* WebhookNotifier.makeSender(options)
    const pageSize = options.pageSize ?? 100
    const firstWait = options.failureWaitMillis ?? 5_000
    const maxWait = options.maxWaitMillis ?? 300_000
    const budget = options.passBudgetMillis ?? 10_000
    // In memory: a restarted process tries every webhook at once, which is what a restart is for.
    const waiting = new Map<string, { readonly until: number; readonly millis: number }>()

    /**
     * Delivers what `webhook` is owed, until caught up or out of time (`passBudgetMillis` after
     * `started`); ok is false when a delivery failed (the cursor stays before that event).
     */
    const catchUp = (webhook: Webhook, started: number) =>
      Effect.gen(function*() {
        const consumer = cursorName(webhook.id)
        let cursor = yield* models.eventCursor(consumer)
        let delivered = 0
        for (;;) {
          const page = yield* models.eventsAfter(cursor, pageSize)
          let handled = cursor
          for (const recorded of page) {
            const event = registryEvent(recorded)
            if (event !== undefined && wantsEvent(webhook, event)) {
              const ok = yield* send(webhook, {
                id: event.id,
                body: JSON.stringify({ event }),
                headers: { "x-ml-event-id": event.id }
              })
              yield* metrics.increment(deliveriesMetric, { type: event.type, outcome: ok ? "delivered" : "failed" })
              if (!ok) {
                // The events skipped before it are handled: the next pass starts at the failed one.
                if (handled > cursor) yield* models.advanceEventCursor(consumer, handled)
                return { ok: false, delivered }
              }
              delivered += 1
              yield* models.advanceEventCursor(consumer, recorded.sequence)
              cursor = recorded.sequence
              if ((yield* Clock.currentTimeMillis) - started >= budget) return { ok: true, delivered }
            }
            handled = recorded.sequence
          }
          if (handled > cursor) {
            yield* models.advanceEventCursor(consumer, handled)
            cursor = handled
          }
          if (page.length < pageSize) return { ok: true, delivered }
        }
      })

    const deliverTo = (webhook: Webhook, now: number) =>
      Effect.gen(function*() {
        const wait = waiting.get(webhook.id)
        if (wait !== undefined && now < wait.until) return 0
        const { delivered, ok } = yield* catchUp(webhook, now)
        if (ok) waiting.delete(webhook.id)
        else {
          const millis = wait === undefined ? firstWait : Math.min(maxWait, wait.millis * 2)
          waiting.set(webhook.id, { until: (yield* Clock.currentTimeMillis) + millis, millis })
        }
        return delivered
      })

    const deliverPending = Effect.fn("RegistryEventDelivery.deliverPending")(function*() {
      const now = yield* Clock.currentTimeMillis
      const hooks = (yield* drift.listWebhooks()).filter(subscribed)
      const present = new Set(hooks.map((hook) => hook.id))
      for (const id of waiting.keys()) if (!present.has(id)) waiting.delete(id)
      // Side by side (a bounded number at once): a slow or failing receiver does not hold back the others.
      const counts = yield* Effect.forEach(hooks, (hook) => deliverTo(hook, now), { concurrency: webhooksAtOnce })
      return counts.reduce((sum, n) => sum + n, 0)
    })
    return RegistryEventDelivery.of({ deliverPending })
  })

export const layer = (
  options: RegistryEventDeliveryOptions = {}
): Layer.Layer<RegistryEventDelivery, never, ModelStore | DriftStore | MetricsSink> =>
  Layer.effect(RegistryEventDelivery, make(options))
