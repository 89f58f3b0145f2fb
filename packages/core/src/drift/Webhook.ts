/**
 * Webhooks: where alerts are POSTed (signed with the webhook's secret), filtered by monitor and
 * minimum severity, and the record of every delivery attempt. Which webhooks want an alert is
 * decided here; the sending is the AlertNotifier port's job.
 */
import { Schema } from "effect"
import { Instant } from "../registry/Model.js"
import type { FieldIssue } from "../shared/Errors.js"
import { SafeLabel } from "../shared/SafeText.js"
import type { DriftAlert } from "./Alert.js"
import { MonitorId } from "./Monitor.js"
import { Severity, severityRank } from "./Severity.js"
import { isValidStandardSecret } from "./WebhookSignature.js"
import { urlRefusal } from "./WebhookTargets.js"

export const Webhook = Schema.Struct({
  id: Schema.String,
  url: Schema.String,
  /** HMAC-SHA256 key for the x-ml-signature and webhook-signature headers (WebhookSignature.ts). */
  secret: Schema.String,
  /** Only alerts of this monitor (null: every monitor). */
  monitorId: Schema.NullOr(Schema.String),
  /** Only alerts at or above this severity (recoveries always go out). */
  minSeverity: Severity,
  createdAt: Instant
})
export type Webhook = typeof Webhook.Type

/**
 * Delivery records kept per webhook (the newest ones) in every store: a receiver that keeps
 * failing would otherwise grow the record without bound (each alert retried, each retry kept).
 */
export const maxDeliveriesPerWebhook = 1000

/** One attempt to deliver one alert to one webhook. */
export const Delivery = Schema.Struct({
  webhookId: Schema.String,
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
  minSeverity: Schema.optionalKey(Severity)
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
  return issues
}

/** A webhook wants an alert of its monitor (or of any, when it has none) at or above its level; recoveries always. */
export const wantsAlert = (webhook: Webhook, alert: DriftAlert): boolean =>
  (webhook.monitorId === null || webhook.monitorId === alert.monitorId) &&
  (alert.kind === "recovery" || severityRank(alert.severity) >= severityRank(webhook.minSeverity))
