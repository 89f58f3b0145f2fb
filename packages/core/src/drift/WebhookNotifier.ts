/**
 * Adapter of the AlertNotifier port over HTTP, portable (the global fetch and Web Crypto): each
 * alert is POSTed as { alert } with x-ml-alert-id and x-ml-signature "t=<unix seconds>,v1=<hex
 * HMAC-SHA256(secret, t + "." + body)>", retried with the core's backoff while it fails, and
 * every attempt is recorded in the DriftStore as a delivery.
 */
import { Clock, Duration, Effect, Layer } from "effect"
import { backoff } from "../shared/Retry.js"
import type { DriftAlert } from "./Alert.js"
import { AlertNotifier } from "./AlertNotifier.js"
import { DriftStore } from "./DriftStore.js"
import type { Webhook } from "./Webhook.js"

export interface WebhookNotifierOptions {
  /** fetch for webhook deliveries (default: the global fetch). */
  readonly fetch?: typeof fetch | undefined
  /** Delivery attempts per webhook and alert (default 4), backing off from `retryDelayMillis` (default 500). */
  readonly webhookAttempts?: number | undefined
  readonly retryDelayMillis?: number | undefined
}

/** Signs a webhook body: x-ml-signature "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>". */
export const signWebhook = async (secret: string, body: string, unixSeconds: number): Promise<string> => {
  const encoder = new TextEncoder()
  const key = await globalThis.crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"]
  )
  const mac = new Uint8Array(await globalThis.crypto.subtle.sign("HMAC", key, encoder.encode(`${unixSeconds}.${body}`)))
  let hex = ""
  for (const b of mac) hex += b.toString(16).padStart(2, "0")
  return `t=${unixSeconds},v1=${hex}`
}

interface Outcome {
  readonly ok: boolean
  readonly status: number | null
  readonly error: string | null
}

export const make = (options: WebhookNotifierOptions = {}) =>
  Effect.gen(function*() {
    const store = yield* DriftStore
    const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init))
    const retries = backoff({
      base: Duration.millis(options.retryDelayMillis ?? 500),
      retries: (options.webhookAttempts ?? 4) - 1
    })

    /** One POST; the response body is drained so the connection can be reused. */
    const post = (webhook: Webhook, alertId: string, body: string, signature: string) =>
      Effect.promise((): Promise<Outcome> =>
        doFetch(webhook.url, {
          method: "POST",
          headers: { "content-type": "application/json", "x-ml-signature": signature, "x-ml-alert-id": alertId },
          body
        }).then(async (r) => {
          await r.arrayBuffer().catch(() => undefined)
          return { ok: r.ok, status: r.status, error: r.ok ? null : `HTTP ${r.status}` }
        }, (e: unknown) => ({ ok: false, status: null, error: e instanceof Error ? e.message : String(e) }))
      )

    const deliver = Effect.fn("WebhookNotifier.deliver")(function*(webhook: Webhook, alert: DriftAlert) {
      const body = JSON.stringify({ alert })
      let attempt = 0
      const once = Effect.gen(function*() {
        attempt += 1
        const millis = yield* Clock.currentTimeMillis
        const signature = yield* Effect.promise(() => signWebhook(webhook.secret, body, Math.floor(millis / 1000)))
        const outcome = yield* post(webhook, alert.id, body, signature)
        const at = new Date(millis).toISOString()
        yield* store.appendDelivery({ webhookId: webhook.id, alertId: alert.id, at, attempt, ...outcome }).pipe(
          Effect.ignore
        )
        if (!outcome.ok) return yield* Effect.fail(outcome)
      })
      yield* once.pipe(Effect.retry(retries), Effect.ignore)
    })
    return AlertNotifier.of({ deliver })
  })

export const layer = (options: WebhookNotifierOptions = {}): Layer.Layer<AlertNotifier, never, DriftStore> =>
  Layer.effect(AlertNotifier, make(options))
