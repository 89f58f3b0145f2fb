/**
 * Adapter of the AlertNotifier port over HTTP, portable (the global fetch and Web Crypto): each
 * alert is POSTed as { alert } with x-ml-alert-id, x-ml-signature and the Standard Webhooks
 * headers (WebhookSignature.ts), retried with the core's backoff while it fails, and every
 * attempt is recorded in the DriftStore as a delivery: the status only, never the receiver's
 * body. Before each attempt the WebhookTargets port checks the URL again (DNS rebinding); a
 * refused target is recorded as a failed delivery and nothing is sent. Redirects are not
 * followed (a 3xx is a failed delivery): they could lead to a target that was never checked.
 */
import { Clock, Duration, Effect, Layer } from "effect"
import { backoff } from "../shared/Retry.js"
import type { DriftAlert } from "./Alert.js"
import { AlertNotifier } from "./AlertNotifier.js"
import { DriftStore } from "./DriftStore.js"
import type { Webhook } from "./Webhook.js"
import { signWebhook, standardWebhookHeaders } from "./WebhookSignature.js"
import * as WebhookTargets from "./WebhookTargets.js"

export interface WebhookNotifierOptions {
  /** fetch for webhook deliveries (default: the global fetch). */
  readonly fetch?: typeof fetch | undefined
  /** Delivery attempts per webhook and alert (default 4), backing off from `retryDelayMillis` (default 500). */
  readonly webhookAttempts?: number | undefined
  readonly retryDelayMillis?: number | undefined
}

/** Signs a webhook body (x-ml-signature); kept here too, where it was before WebhookSignature.ts. */
export { signWebhook } from "./WebhookSignature.js"

interface Outcome {
  readonly ok: boolean
  readonly status: number | null
  readonly error: string | null
}

/** One signed message for one webhook: what the delivery log records it as, and its own headers. */
export interface SignedMessage {
  /** The id the delivery log records (the alert's, or the registry event's) and the Standard Webhooks id's suffix. */
  readonly id: string
  readonly body: string
  /** Headers naming what is sent (x-ml-alert-id, x-ml-event-id). */
  readonly headers: Readonly<Record<string, string>>
}

/**
 * Sends signed messages to webhooks: each attempt checked against the target rules, signed,
 * POSTed and recorded as a delivery, retried with backoff while it fails. `send` answers whether
 * the receiver acknowledged it (a 2xx) within the attempts; it never fails.
 */
export const makeSender = (options: WebhookNotifierOptions = {}) =>
  Effect.gen(function*() {
    const store = yield* DriftStore
    const targets = yield* WebhookTargets.current
    const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init))
    const retries = backoff({
      base: Duration.millis(options.retryDelayMillis ?? 500),
      retries: (options.webhookAttempts ?? 4) - 1
    })

    /** One POST; the response body is drained so the connection can be reused. */
    const post = (webhook: Webhook, body: string, headers: Record<string, string>) =>
      Effect.promise((): Promise<Outcome> =>
        doFetch(webhook.url, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body,
          redirect: "manual"
        }).then(async (r) => {
          await r.arrayBuffer().catch(() => undefined)
          return { ok: r.ok, status: r.status, error: r.ok ? null : `HTTP ${r.status}` }
        }, (e: unknown) => ({ ok: false, status: null, error: e instanceof Error ? e.message : String(e) }))
      )

    const send = (webhook: Webhook, message: SignedMessage): Effect.Effect<boolean> => {
      const { body } = message
      // One message id for every attempt, so receivers can drop the duplicates of a retry.
      const messageId = `msg_${webhook.id}_${message.id}`
      let attempt = 0
      let refused = false
      const once = Effect.gen(function*() {
        attempt += 1
        const millis = yield* Clock.currentTimeMillis
        const seconds = Math.floor(millis / 1000)
        const refusal = yield* targets.refusal(webhook.url)
        refused = refusal !== null
        const outcome: Outcome = refusal !== null
          ? { ok: false, status: null, error: `target refused: ${refusal}` }
          : yield* post(webhook, body, {
            ...message.headers,
            "x-ml-signature": yield* Effect.promise(() => signWebhook(webhook.secret, body, seconds)),
            ...(yield* Effect.promise(() => standardWebhookHeaders(webhook.secret, messageId, body, seconds)))
          })
        const at = new Date(millis).toISOString()
        yield* store.appendDelivery({ webhookId: webhook.id, alertId: message.id, at, attempt, ...outcome }).pipe(
          Effect.ignore
        )
        if (!outcome.ok) return yield* Effect.fail(outcome)
      })
      // A refused target is not retried: only its DNS answer could change that, not waiting a bit.
      return once.pipe(
        Effect.retry({ schedule: retries, while: () => !refused }),
        Effect.as(true),
        Effect.orElseSucceed(() => false)
      )
    }
    return { send }
  })

export const make = (options: WebhookNotifierOptions = {}) =>
  Effect.gen(function*() {
    const { send } = yield* makeSender(options)
    const deliver = Effect.fn("WebhookNotifier.deliver")(function*(webhook: Webhook, alert: DriftAlert) {
      yield* send(webhook, { id: alert.id, body: JSON.stringify({ alert }), headers: { "x-ml-alert-id": alert.id } })
    })
    return AlertNotifier.of({ deliver })
  })

export const layer = (options: WebhookNotifierOptions = {}): Layer.Layer<AlertNotifier, never, DriftStore> =>
  Layer.effect(AlertNotifier, make(options))
