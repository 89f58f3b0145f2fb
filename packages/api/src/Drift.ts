/**
 * The drift endpoints: monitors (create, read, list), baselines, observations, checks and the
 * reports they keep, and the webhooks that receive alerts with their delivery attempts. Bodies,
 * answers and path and query parameters are the core's drift schemas. Baseline and observation
 * bodies check only their envelope here: each value is checked once, by the use case, so a
 * large batch is not walked twice.
 */
import {
  BaselineBody,
  CreateMonitorInput,
  CreateWebhookInput,
  defaultMonitorSettings,
  type Delivery,
  DeliveryList,
  type DriftAlert,
  DriftReport,
  DriftReportList,
  FalseAlarmFigures,
  falseAlarmFigures,
  type FeatureCheck,
  FrozenBaselines,
  isRowsBodyAsIs,
  MAX_REPORTS_LIMIT,
  Monitor,
  MonitorList,
  MonitorParams,
  ObservationsBody,
  PublicWebhook,
  PublicWebhookList,
  RecordedCount,
  ReportsQuery,
  WebhookParams
} from "@org/ml-core"
import { Schema, SchemaTransformation } from "effect"
import { endpoint } from "./Endpoint.js"

const exampleAt = "2025-06-02T08:30:00.000Z"

const exampleMonitorInput: typeof CreateMonitorInput.Encoded = {
  id: "fraud-inputs",
  modelId: "01J9Z8K2W4X6Y8A0B2C4D6E8FG",
  features: [
    { name: "amount", kind: "feature", type: "numeric" },
    { name: "country", kind: "feature", type: "categorical" },
    { name: "score", kind: "prediction", type: "numeric" }
  ],
  settings: { windowSize: 5000, psiBins: 4 }
}

const exampleMonitor: Monitor = {
  id: "fraud-inputs",
  modelId: "01J9Z8K2W4X6Y8A0B2C4D6E8FG",
  features: exampleMonitorInput.features!,
  settings: { ...defaultMonitorSettings, windowSize: 5000, psiBins: 4 },
  createdAt: "2025-06-01T10:00:00.000Z"
}

const exampleCheck: FeatureCheck = {
  feature: "amount",
  type: "numeric",
  windowCount: 5000,
  missingShare: 0.002,
  psi: 0.61,
  ksStatistic: 0.31,
  pValue: 1.2e-40,
  adjustedPValue: 3.6e-40,
  severity: "high",
  baselineVersion: 2,
  edges: [12.5, 40, 95.75],
  categories: null,
  baselineShares: [0.25, 0.25, 0.25, 0.25],
  currentShares: [0.08, 0.17, 0.3, 0.45],
  unseenCategories: [],
  statistics: {
    ks: { statistic: 0.31, pValue: 1.2e-40 },
    psi: { statistic: 0.61 },
    "jensen-shannon": { statistic: 0.25 },
    "kl-divergence": { statistic: 0.19 },
    hellinger: { statistic: 0.21 }
  }
}

const exampleAlert: DriftAlert = {
  id: "alert-m0q3x1k0-4f9k2a1z",
  monitorId: "fraud-inputs",
  feature: "amount",
  at: exampleAt,
  kind: "alert",
  severity: "high",
  previousSeverity: "none",
  recommendation: "Retrain on recent data now; the model sees amount values unlike its training data.",
  check: exampleCheck
}

const exampleReport: DriftReport = {
  id: "check-m0q3x1k0-8h2j5c0p",
  monitorId: "fraud-inputs",
  at: exampleAt,
  features: [exampleCheck],
  alerts: [exampleAlert],
  falseAlarms: falseAlarmFigures(exampleMonitor.settings, [{ kind: "p-value", threshold: 0.05 }])
}

const exampleFalseAlarms: FalseAlarmFigures = falseAlarmFigures(
  { ...exampleMonitor.settings, falseAlarms: { targetMeanDaysBetween: 30 } },
  exampleMonitor.features.map(() => ({ kind: "p-value", threshold: 0.05 }))
)

const exampleWebhook: PublicWebhook = {
  id: "hook-m0q2a9b0-1x7c3d5e",
  url: "https://alerts.example.com/ml-drift",
  secret: "***",
  monitorId: "fraud-inputs",
  minSeverity: "medium",
  createdAt: "2025-06-01T10:05:00.000Z"
}

const exampleDelivery: Delivery = {
  webhookId: exampleWebhook.id,
  alertId: exampleAlert.id,
  at: exampleAt,
  attempt: 1,
  ok: true,
  status: 200,
  error: null
}

/** Query values arrive as strings: `limit` must be digits, decoded to the core's bounded integer. */
const ReportsLimitFromDigits = Schema.String.check(
  Schema.isPattern(/^\d+$/u, { message: `must be an integer from 1 to ${MAX_REPORTS_LIMIT}` })
).pipe(
  Schema.decodeTo(ReportsQuery.fields.limit.schema, SchemaTransformation.transform({ decode: Number, encode: String }))
)
/** The core's reports query as it arrives in a URL. */
export const ReportsParams = Schema.Struct({
  ...ReportsQuery.fields,
  limit: Schema.optionalKey(ReportsLimitFromDigits)
})

/** A drift report's id (as a check creates it: `check-<time>-<random>`, base 36). */
export const DriftReportId = Schema.String.check(
  Schema.isPattern(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/u, { message: "must be a drift report id" })
)
export const DriftReportParams = Schema.Struct({ id: DriftReportId })

/** The last segment of the page's path, `<id>.html`, decoded to the id (the route keeps the suffix). */
const DriftReportIdFromPageName = Schema.String.check(
  Schema.isPattern(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\.html$/u, {
    message: "must be a drift report id followed by .html"
  })
).pipe(
  Schema.decodeTo(
    DriftReportId,
    SchemaTransformation.transform({ decode: (name) => name.slice(0, -".html".length), encode: (id) => `${id}.html` })
  )
)
export const DriftReportPageParams = Schema.Struct({ id: DriftReportIdFromPageName })

export const createMonitor = endpoint({
  operationId: "createMonitor",
  method: "POST",
  path: "/v1/drift/monitors",
  resource: "Drift",
  summary: "Create a drift monitor for a model's features and predictions",
  permission: "drift:write",
  body: { schema: CreateMonitorInput, description: "monitor", example: exampleMonitorInput },
  success: {
    status: 201,
    description: "Created (settings not given are the server's defaults)",
    schema: Monitor,
    example: exampleMonitor,
    headers: [{ name: "location", description: "Path of the monitor: /v1/drift/monitors/{id}", schema: Schema.String }]
  },
  errors: ["MonitorConflictError", "StorageError"]
})

export const listMonitors = endpoint({
  operationId: "listMonitors",
  method: "GET",
  path: "/v1/drift/monitors",
  resource: "Drift",
  summary: "List monitors",
  permission: "drift:read",
  success: { status: 200, description: "Every monitor", schema: MonitorList, example: { items: [exampleMonitor] } },
  errors: ["StorageError"]
})

export const getMonitor = endpoint({
  operationId: "getMonitor",
  method: "GET",
  path: "/v1/drift/monitors/{id}",
  resource: "Drift",
  summary: "Get a monitor",
  permission: "drift:read",
  params: MonitorParams,
  success: { status: 200, description: "The monitor", schema: Monitor, example: exampleMonitor },
  errors: ["MonitorNotFoundError", "StorageError"]
})

export const getMonitorFalseAlarms = endpoint({
  operationId: "getMonitorFalseAlarms",
  method: "GET",
  path: "/v1/drift/monitors/{id}/false-alarms",
  resource: "Drift",
  summary: "How often the monitor's checks alarm with no drift: per check, and the mean time between false alarms",
  description: "For every feature tested at the monitor's threshold and correction (after settings.falseAlarms): " +
    "the probability that one check flags at least one feature under no drift (independent features; and an " +
    "upper bound for any dependence) and check interval / probability in days. Checks on a sliding window " +
    "overlap, so false alarms come in runs: the mean time between false alerts is at least this.",
  permission: "drift:read",
  params: MonitorParams,
  success: {
    status: 200,
    description: "The monitor's false-alarm figures",
    schema: FalseAlarmFigures,
    example: exampleFalseAlarms
  },
  errors: ["MonitorNotFoundError", "StorageError"]
})

export const setBaseline = endpoint({
  operationId: "setBaseline",
  method: "PUT",
  path: "/v1/drift/monitors/{id}/baseline",
  resource: "Drift",
  summary: "Freeze a new baseline version per feature",
  description: "The body is { feature: values[] }: numbers for numeric features, strings for categorical ones, " +
    "null for a missing value. Each feature given gets a new baseline version; earlier versions are kept.",
  permission: "drift:write",
  params: MonitorParams,
  body: {
    schema: BaselineBody,
    description: "baseline",
    example: { amount: [12.5, 80, null, 43.1], country: ["de", "fr", "de", null] }
  },
  success: {
    status: 200,
    description: "The features whose baseline was frozen",
    schema: FrozenBaselines,
    example: { features: ["amount", "country"] }
  },
  errors: ["MonitorNotFoundError", "ValidationError", "StorageError"]
})

export const recordObservations = endpoint({
  operationId: "recordObservations",
  method: "POST",
  path: "/v1/drift/monitors/{id}/observations",
  resource: "Drift",
  summary: "Record values into the monitor's windows, as columns or as rows",
  description: "Columns: { values: { feature: values[] } }. Rows: { rows: [{ feature: value, ... }] } (at most " +
    "100000), e.g. one model request and its prediction each. Values follow the baseline's rules.",
  permission: "drift:record",
  params: MonitorParams,
  body: {
    schema: ObservationsBody,
    acceptsAsIs: isRowsBodyAsIs,
    description: "observations",
    example: { values: { amount: [17.2, 230, null], score: [0.12, 0.91, 0.4] } }
  },
  success: { status: 202, description: "Recorded", schema: RecordedCount, example: { recorded: 6 } },
  errors: ["MonitorNotFoundError", "ValidationError", "StorageError"]
})

export const checkMonitor = endpoint({
  operationId: "checkMonitor",
  method: "POST",
  path: "/v1/drift/monitors/{id}/check",
  resource: "Drift",
  summary: "Check now: KS/chi-square and PSI per feature, severities, alerts",
  permission: "drift:write",
  params: MonitorParams,
  success: { status: 200, description: "The report of this check", schema: DriftReport, example: exampleReport },
  errors: ["MonitorNotFoundError", "StorageError"]
})

export const getDriftReports = endpoint({
  operationId: "getDriftReports",
  method: "GET",
  path: "/v1/drift/reports",
  resource: "Drift",
  summary: "Checks and alerts kept, with statistics and both distributions",
  description: `With limit (1 to ${MAX_REPORTS_LIMIT}), only the newest that many reports, still oldest first.`,
  permission: "drift:read",
  query: ReportsParams,
  success: {
    status: 200,
    description: "Reports, oldest first",
    schema: DriftReportList,
    example: { items: [exampleReport] }
  },
  errors: ["StorageError"]
})

export const getDriftReportPage = endpoint({
  operationId: "getDriftReportPage",
  method: "GET",
  path: "/v1/drift/reports/{id}.html",
  resource: "Drift",
  summary: "One report as a self-contained HTML page to share: distributions, statistics and verdicts",
  description: "Inline CSS and SVG charts, no scripts and no external assets, so the page can be saved and " +
    "opened offline. Per feature: baseline and current shares per bin side by side (categorical features show " +
    "their 12 largest categories and one bar for the rest), every statistic with its p-value, and the severity.",
  permission: "drift:read",
  params: DriftReportPageParams,
  success: {
    status: 200,
    description: "An HTML page",
    contentType: "text/html",
    example: "<!doctype html><html lang=\"en\">...</html>"
  },
  errors: ["NotFound", "StorageError"]
})

export const getDriftReport = endpoint({
  operationId: "getDriftReport",
  method: "GET",
  path: "/v1/drift/reports/{id}",
  resource: "Drift",
  summary: "One report kept, by id",
  permission: "drift:read",
  params: DriftReportParams,
  success: { status: 200, description: "The report", schema: DriftReport, example: exampleReport },
  errors: ["NotFound", "StorageError"]
})

export const createWebhook = endpoint({
  operationId: "createWebhook",
  method: "POST",
  path: "/v1/drift/webhooks",
  resource: "Drift",
  summary: "Register a webhook for drift alerts and registry events (the secret is never returned)",
  description: "Alerts are POSTed as { alert }, signed x-ml-signature: t=<unix>,v1=<hex HMAC-SHA256(secret, " +
    "t.body)>. The URL must be http(s), the secret at least 16 characters; minSeverity defaults to low. " +
    "`events` picks what it receives (default [\"drift.alert\"]): registry events (model_version.created, " +
    "artifact_uploaded, promoted, archived, alias.set, alias.deleted, tag.set) are POSTed as { event } from the " +
    "registry's outbox, at least once and in order, with the idempotency key in event.id and x-ml-event-id.",
  permission: "webhooks:manage",
  body: {
    schema: CreateWebhookInput,
    description: "webhook",
    example: {
      url: "https://alerts.example.com/ml-drift",
      secret: "a-long-enough-webhook-secret",
      monitorId: "fraud-inputs",
      minSeverity: "medium"
    }
  },
  success: { status: 201, description: "Registered (secret masked)", schema: PublicWebhook, example: exampleWebhook },
  errors: ["StorageError"]
})

export const listWebhooks = endpoint({
  operationId: "listWebhooks",
  method: "GET",
  path: "/v1/drift/webhooks",
  resource: "Drift",
  summary: "List webhooks (secrets masked)",
  permission: "drift:read",
  success: {
    status: 200,
    description: "Every webhook",
    schema: PublicWebhookList,
    example: { items: [exampleWebhook] }
  },
  errors: ["StorageError"]
})

export const deleteWebhook = endpoint({
  operationId: "deleteWebhook",
  method: "DELETE",
  path: "/v1/drift/webhooks/{id}",
  resource: "Drift",
  summary: "Delete a webhook",
  permission: "webhooks:manage",
  params: WebhookParams,
  success: { status: 204, description: "Deleted" },
  errors: ["NotFound", "StorageError"]
})

export const listWebhookDeliveries = endpoint({
  operationId: "listWebhookDeliveries",
  method: "GET",
  path: "/v1/drift/webhooks/{id}/deliveries",
  resource: "Drift",
  summary: "Every delivery attempt of a webhook, oldest first",
  permission: "drift:read",
  params: WebhookParams,
  success: {
    status: 200,
    description: "Delivery attempts (none for an unknown webhook)",
    schema: DeliveryList,
    example: { items: [exampleDelivery] }
  },
  errors: ["StorageError"]
})

/** Every drift endpoint, in the order the docs list them. */
export const endpoints = [
  createMonitor,
  listMonitors,
  getMonitor,
  getMonitorFalseAlarms,
  setBaseline,
  recordObservations,
  checkMonitor,
  getDriftReports,
  // The page first: the report's `{id}` route would otherwise take `<id>.html` as an id.
  getDriftReportPage,
  getDriftReport,
  createWebhook,
  listWebhooks,
  deleteWebhook,
  listWebhookDeliveries
] as const
