/**
 * Response bodies of the drift endpoints besides the monitor and the report themselves
 * (Monitor.ts, Report.ts): lists, the features a baseline was frozen for, and the public view of
 * a webhook. A webhook's secret is write-only: every answer masks it, so the public view's
 * schema admits only the mask.
 */
import { Schema } from "effect"
import { Monitor } from "./Monitor.js"
import { DriftReport } from "./Report.js"
import { Delivery, Webhook } from "./Webhook.js"

export const MonitorList = Schema.Struct({ items: Schema.Array(Monitor) })
export type MonitorList = typeof MonitorList.Type

export const DriftReportList = Schema.Struct({ items: Schema.Array(DriftReport) })
export type DriftReportList = typeof DriftReportList.Type

/** The features a new baseline version was frozen for, in the order sent. */
export const FrozenBaselines = Schema.Struct({ features: Schema.Array(Schema.String) })
export type FrozenBaselines = typeof FrozenBaselines.Type

/** What stands for a webhook's secret in every answer. */
export const maskedSecret = "***"

/** A webhook as the API shows it: the secret masked. */
export const PublicWebhook = Schema.Struct({ ...Webhook.fields, secret: Schema.Literal(maskedSecret) })
export type PublicWebhook = typeof PublicWebhook.Type

export const publicWebhook = (webhook: Webhook): PublicWebhook => ({ ...webhook, secret: maskedSecret })

export const PublicWebhookList = Schema.Struct({ items: Schema.Array(PublicWebhook) })
export type PublicWebhookList = typeof PublicWebhookList.Type

export const DeliveryList = Schema.Struct({ items: Schema.Array(Delivery) })
export type DeliveryList = typeof DeliveryList.Type
