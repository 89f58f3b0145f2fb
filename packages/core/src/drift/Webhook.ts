/**
 * Webhooks: where alerts are POSTed (signed with the webhook's secret), filtered by monitor and
 * minimum severity, and the record of every delivery attempt. Which webhooks want an alert is
 * decided here; the sending is the AlertNotifier port's job. A webhook may also subscribe to
 * registry events (`events`, RegistryEvents.ts), delivered from the registry's outbox by
 * RegistryEventDelivery.ts with the same signing, target rules and delivery log.
 */
import { Schema } from "effect"
import { Instant } from "../registry/Model.js"
import { registryEventTypes } from "../registry/RegistryEvents.js"
import type { FieldIssue } from "../shared/Errors.js"
import { SafeLabel } from "../shared/SafeText.js"
import type { DriftAlert } from "./Alert.js"
import { MonitorId } from "./Monitor.js"
import { Severity, severityRank } from "./Severity.js"
import { isValidStandardSecret } from "./WebhookSignature.js"
import { urlRefusal } from "./WebhookTargets.js"

/** What a webhook can subscribe to: drift alerts (with guardrail pauses) and each registry event type. */
export const webhookEventTypes = ["drift.alert", ...registryEventTypes] as const
export const WebhookEventType = Schema.Literals(webhookEventTypes)
export type WebhookEventType = typeof WebhookEventType.Type

/** A subscription lists each type at most once, so it is never longer than this. */
export const MAX_WEBHOOK_EVENT_TYPES = webhookEventTypes.length

export const WebhookEvents = Schema.Array(WebhookEventType).check(
  Schema.isMaxLength(MAX_WEBHOOK_EVENT_TYPES, { message: `must list at most ${MAX_WEBHOOK_EVENT_TYPES} event types` })
)

export const Webhook = Schema.Struct({
  id: Schema.String,
  url: Schema.String,
  /** HMAC-SHA256 key for the x-ml-signature and webhook-signature headers (WebhookSignature.ts). */
  secret: Schema.String,
  /** Only alerts of this monitor (null: every monitor). */
  monitorId: Schema.NullOr(Schema.String),
  /** Only alerts at or above this severity (recoveries always go out). */
  minSeverity: Severity,
  /**
   * What it receives; absent (webhooks of earlier releases, and those created without) means drift
   * alerts only. Registry events are those recorded at or after `createdAt`.
   */
  events: Schema.optionalKey(WebhookEvents),
  createdAt: Instant
})
export type Webhook = typeof Webhook.Type

/**
 * Delivery records kept per webhook (the newest ones) in every store: a receiver that keeps
 * failing would otherwise grow the record without bound (each alert retried, each retry kept).
 */
export const maxDeliveriesPerWebhook = 1000

/** One attempt to deliver one alert (or registry event) to one webhook. */
export const Delivery = Schema.Struct({
  webhookId: Schema.String,
  /** The alert's id, or the registry event's (`evt_...`, RegistryEvents.ts). */
  alertId: Schema.String,
  at: Instant,
  attempt: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
  ok: Schema.Boolean,
  /** The HTTP status, or null when no response came back. */
  status: Schema.NullOr(Schema.Int),
  error: Schema.NullOr(Schema.String)
})
export type Delivery = typeof Delivery.Type

/** The longest webhook URL: what browsers and proxies reliably carry. */
export const MAX_WEBHOOK_URL_LENGTH = 2048
export const MAX_WEBHOOK_SECRET_LENGTH = 1024

/**
 * POST /v1/drift/webhooks; the URL and secret rules are checked by `webhookIssues`. The URL refuses
 * control characters: the WHATWG parser silently drops tabs and newlines, so the URL checked and
 * shown would not be the one typed.
 */
export const CreateWebhookInput = Schema.Struct({
  url: SafeLabel(MAX_WEBHOOK_URL_LENGTH),
  // Not shown back (answers mask it), so only bounded; webhookIssues checks the minimum.
  secret: Schema.String.check(
    Schema.isMaxLength(MAX_WEBHOOK_SECRET_LENGTH, {
      message: `must be at most ${MAX_WEBHOOK_SECRET_LENGTH} characters`
    })
  ),
  monitorId: Schema.optionalKey(Schema.NullOr(MonitorId)),
  minSeverity: Schema.optionalKey(Severity),
  /** Default: ["drift.alert"]. */
  events: Schema.optionalKey(WebhookEvents)
})
export type CreateWebhookInput = typeof CreateWebhookInput.Type

/** The path parameters of a webhook's routes. */
export const WebhookParams = Schema.Struct({ id: Schema.String.check(Schema.isMinLength(1)) })

/**
 * A webhook needs an http(s) URL without credentials and a secret of at least 16 characters (a
 * `whsec_` one with valid base64); where the URL may point is the WebhookTargets port's call.
 */
export const webhookIssues = (input: CreateWebhookInput): Array<FieldIssue> => {
  const issues: Array<FieldIssue> = []
  const urlProblem = urlRefusal(input.url)
  if (urlProblem !== null) issues.push({ path: ["url"], message: urlProblem })
  if (typeof input.secret !== "string" || input.secret.length < 16) {
    issues.push({ path: ["secret"], message: "must be at least 16 characters" })
  } else if (!isValidStandardSecret(input.secret)) {
    issues.push({ path: ["secret"], message: "a whsec_ secret must carry at least 16 bytes of base64" })
  }
  if (input.minSeverity !== undefined && !(Severity.literals as ReadonlyArray<string>).includes(input.minSeverity)) {
    issues.push({ path: ["minSeverity"], message: "must be none, low, medium, high or critical" })
  }
  if (input.events !== undefined && input.events.length === 0) {
    issues.push({ path: ["events"], message: `must list at least one of ${webhookEventTypes.join(", ")}` })
  }
  return issues
}

/**
 * A webhook wants an alert when subscribed to drift alerts (the default), of its monitor (or of
 * any, when it has none) at or above its level; recoveries always.
 */
export const wantsAlert = (webhook: Webhook, alert: DriftAlert): boolean =>
  (webhook.events === undefined || webhook.events.includes("drift.alert")) &&
  (webhook.monitorId === null || webhook.monitorId === alert.monitorId) &&
  (alert.kind === "recovery" || severityRank(alert.severity) >= severityRank(webhook.minSeverity))
