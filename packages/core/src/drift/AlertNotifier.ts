/**
 * Port: delivering alerts to people's systems. `deliver` sends one alert to one webhook and
 * never fails: the adapter retries as it sees fit and records what happened as deliveries. The
 * use case picks the webhooks (Webhook.ts) and runs deliveries in the background, so no HTTP
 * client lives in it. Adapters: WebhookNotifier.ts (signed HTTP POSTs); the memory one below
 * only keeps what it was asked to deliver, for tests.
 */
import { Context, Effect, Layer } from "effect"
import type { DriftAlert } from "./Alert.js"
import type { Webhook } from "./Webhook.js"

export interface AlertNotifierShape {
  readonly deliver: (webhook: Webhook, alert: DriftAlert) => Effect.Effect<void>
}

export class AlertNotifier extends Context.Service<AlertNotifier, AlertNotifierShape>()(
  "@org/ml-core/AlertNotifier"
) {}

export interface MemoryNotifier extends AlertNotifierShape {
  /** Every (webhook, alert) pair asked for, in order. */
  readonly delivered: () => ReadonlyArray<{ readonly webhook: Webhook; readonly alert: DriftAlert }>
}

export const makeMemory = Effect.sync((): MemoryNotifier => {
  const delivered: Array<{ readonly webhook: Webhook; readonly alert: DriftAlert }> = []
  return {
    deliver: (webhook, alert) => Effect.sync(() => void delivered.push({ webhook, alert })),
    delivered: () => [...delivered]
  }
})

export const layerMemory: Layer.Layer<AlertNotifier> = Layer.effect(AlertNotifier, makeMemory)
