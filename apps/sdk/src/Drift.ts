/**
 * The drift part of the client: monitors, baselines, checks and reports (as JSON or as a
 * shareable HTML page); a recorder that buffers values client-side and sends them in batches (on
 * size, on a timer, or on `flush()`), retried with backoff; and the receiving side of webhooks:
 * signature verification and `onAlert` / `onRegistryEvent` fetch handlers usable in any runtime. Request and
 * response types come from the contract's Drift table (types only: nothing of Effect is loaded at
 * run time).
 */
import type { BodyJsonOf, Drift, QueryOf, SuccessJsonOf } from "@org/ml-api"
import type { RegistryEvent } from "@org/ml-core"
import { type VerifyOptions, verifyStandardWebhook, verifyWebhookSignature } from "@org/ml-core/webhook-signature"
import { makeBatcher, type RecorderOptions } from "./Batcher.js"

// One implementation of both signature schemes, shared with the server (Web Crypto, no Effect).
export { type VerifyOptions, verifyStandardWebhook, verifyWebhookSignature }

export type Monitor = SuccessJsonOf<typeof Drift.getMonitor>
export type CreateMonitorInput = BodyJsonOf<typeof Drift.createMonitor>
export type DriftReport = SuccessJsonOf<typeof Drift.checkMonitor>
export type DriftAlert = DriftReport["alerts"][number]
export type FeatureCheck = DriftReport["features"][number]
export type FeatureSpec = Monitor["features"][number]
export type MonitorSettings = Monitor["settings"]
export type Severity = FeatureCheck["severity"]
export type FrozenBaselines = SuccessJsonOf<typeof Drift.setBaseline>
/** A webhook as the API shows it: its secret is never returned ("***"). */
export type DriftWebhook = SuccessJsonOf<typeof Drift.createWebhook>
export type CreateWebhookInput = BodyJsonOf<typeof Drift.createWebhook>
/**
 * A registry event as a subscribed webhook receives it (`{ event }`); `id` is its idempotency key
 * (also the x-ml-event-id header): delivery is at least once, so a receiver drops ids it has seen.
 */
export type { RegistryEvent }
export type WebhookDelivery = SuccessJsonOf<typeof Drift.listWebhookDeliveries>["items"][number]
/**
 * Which reports to list: of one monitor or all, at or after `since` (a Date or an ISO string); with
 * `limit`, only the newest that many (still oldest first).
 */
export type DriftReportsQuery = Omit<NonNullable<QueryOf<typeof Drift.getDriftReports>>, "since"> & {
  readonly since?: Date | string
}

type Value = number | string | null
/** { feature: values[] }: numbers for numeric features, strings for categorical ones, null for missing. */
type BaselineValues = Readonly<Record<string, ReadonlyArray<Value>>>

interface Transport {
  readonly sendJson: <A>(path: string, method?: string, body?: unknown) => Promise<A>
  /** A GET answered with text (an HTML page); errors are thrown as for JSON calls. */
  readonly sendText: (path: string) => Promise<string>
}

/**
 * Verifies a webhook POST by either scheme the server sends: Standard Webhooks (webhook-id,
 * webhook-timestamp, webhook-signature) when those headers are present, else x-ml-signature;
 * both reject timestamps more than `toleranceSeconds` (default 300) from now.
 */
export const verifyWebhook = (
  secret: string,
  headers: { readonly get: (name: string) => string | null },
  body: string,
  options: VerifyOptions = {}
): Promise<boolean> =>
  headers.get("webhook-signature") !== null
    ? verifyStandardWebhook(secret, headers, body, options)
    : verifyWebhookSignature(secret, headers.get("x-ml-signature"), body, options)

/** A fetch handler for webhook POSTs: verifies the signature (401 if wrong), then calls `handler` with the alert. */
export const onAlert =
  (secret: string, handler: (alert: DriftAlert) => void | Promise<void>, options: VerifyOptions = {}) =>
  async (request: Request): Promise<Response> => {
    const body = await request.text()
    if (!(await verifyWebhook(secret, request.headers, body, options))) {
      return new Response("bad signature", { status: 401 })
    }
    await handler((JSON.parse(body) as { alert: DriftAlert }).alert)
    return new Response(null, { status: 204 })
  }

/**
 * A fetch handler for registry-event POSTs: verifies the signature (401 if wrong), then calls
 * `handler` with the event; answer 2xx only once it is handled, since a failure is sent again.
 */
export const onRegistryEvent =
  (secret: string, handler: (event: RegistryEvent) => void | Promise<void>, options: VerifyOptions = {}) =>
  async (request: Request): Promise<Response> => {
    const body = await request.text()
    if (!(await verifyWebhook(secret, request.headers, body, options))) {
      return new Response("bad signature", { status: 401 })
    }
    await handler((JSON.parse(body) as { event: RegistryEvent }).event)
    return new Response(null, { status: 204 })
  }

export const makeDriftClient = (transport: Transport, recorderOptions: RecorderOptions = {}) => {
  const { sendJson, sendText } = transport
  const monitorPath = (id: string) => `/v1/drift/monitors/${encodeURIComponent(id)}`
  const reportPath = (id: string) => `/v1/drift/reports/${encodeURIComponent(id)}`
  const webhookPath = (id: string) => `/v1/drift/webhooks/${encodeURIComponent(id)}`

  // ---- buffered recording: (feature, value) pairs per monitor, grouped by feature when sent
  const recorder = makeBatcher<readonly [string, Value]>(
    (monitorId, pairs) => {
      const values: Record<string, Array<Value>> = {}
      for (const [feature, value] of pairs) (values[feature] ??= []).push(value)
      return sendJson(`${monitorPath(monitorId)}/observations`, "POST", { values })
    },
    recorderOptions,
    10_000
  )
  const buffer = (monitorId: string, feature: string, value: Value) => recorder.add(monitorId, [feature, value])

  return {
    createMonitor: (input: CreateMonitorInput): Promise<Monitor> =>
      sendJson<Monitor>("/v1/drift/monitors", "POST", input),
    getMonitor: (id: string): Promise<Monitor> => sendJson<Monitor>(monitorPath(id)),
    /** The chance a check alarms with no drift and the mean days between false alarms at the monitor's interval. */
    getFalseAlarms: (id: string): Promise<SuccessJsonOf<typeof Drift.getMonitorFalseAlarms>> =>
      sendJson(`${monitorPath(id)}/false-alarms`),
    listMonitors: async (): Promise<ReadonlyArray<Monitor>> =>
      (await sendJson<SuccessJsonOf<typeof Drift.listMonitors>>("/v1/drift/monitors")).items,
    /** Freezes a new baseline version per feature. */
    setBaseline: (id: string, values: BaselineValues): Promise<void> =>
      sendJson(`${monitorPath(id)}/baseline`, "PUT", values).then(() => undefined),
    /** Buffered: sent with the next batch. Call `flush()` to send now. */
    recordFeature: (id: string, feature: string, value: Value): void => buffer(id, feature, value),
    /** Buffered row form: one record of many features (a request and its prediction). */
    recordRow: (id: string, row: Readonly<Record<string, Value>>): void => {
      for (const [feature, value] of Object.entries(row)) buffer(id, feature, value)
    },
    flush: recorder.flush,
    /** Stops the background timer after a final flush. */
    close: recorder.close,
    check: (id: string): Promise<DriftReport> => sendJson<DriftReport>(`${monitorPath(id)}/check`, "POST"),
    getDriftReports: async (options: DriftReportsQuery = {}): Promise<ReadonlyArray<DriftReport>> => {
      const params = new URLSearchParams()
      if (options.monitorId) params.set("monitorId", options.monitorId)
      if (options.since) {
        params.set("since", options.since instanceof Date ? options.since.toISOString() : options.since)
      }
      if (options.limit !== undefined) params.set("limit", String(options.limit))
      const search = params.toString()
      const path = `/v1/drift/reports${search ? `?${search}` : ""}`
      return (await sendJson<SuccessJsonOf<typeof Drift.getDriftReports>>(path)).items
    },
    /** One kept report by id (NotFoundError when none has it, e.g. past the retention). */
    getDriftReport: (id: string): Promise<DriftReport> => sendJson<DriftReport>(reportPath(id)),
    /**
     * One kept report as a self-contained HTML page (inline CSS and SVG charts, no scripts, no
     * external assets): save it to share or archive the report.
     */
    getDriftReportHtml: (id: string): Promise<string> => sendText(`${reportPath(id)}.html`),
    webhooks: {
      /** Registers a webhook; the answer masks its secret ("***"). */
      create: (input: CreateWebhookInput): Promise<DriftWebhook> =>
        sendJson<DriftWebhook>("/v1/drift/webhooks", "POST", input),
      list: async (): Promise<ReadonlyArray<DriftWebhook>> =>
        (await sendJson<SuccessJsonOf<typeof Drift.listWebhooks>>("/v1/drift/webhooks")).items,
      remove: (id: string): Promise<void> =>
        sendJson<void>(webhookPath(id), "DELETE").catch((e: { status?: number }) => {
          if (e.status !== undefined) throw e
        }),
      deliveries: async (id: string): Promise<ReadonlyArray<WebhookDelivery>> =>
        (await sendJson<SuccessJsonOf<typeof Drift.listWebhookDeliveries>>(`${webhookPath(id)}/deliveries`)).items
    },
    onAlert,
    onRegistryEvent,
    verifyWebhook,
    verifyWebhookSignature
  }
}
