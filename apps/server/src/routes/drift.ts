/**
 * The drift routes (monitors, baselines, observations, checks, reports, webhooks), mounted from
 * the contract's Drift table: each handler is one use-case call. What HTTP adds lives here: the
 * location of a new monitor, the count an observation request recorded, masking webhook secrets
 * in every answer, a 404 for deleting a webhook or reading a report that does not exist, and a
 * report as a shareable HTML page with its own strict Content-Security-Policy.
 */
import { Drift, NotFound } from "@org/ml-api"
import { DriftDetector, type ObservationsBody, publicWebhook, type WindowValue } from "@org/ml-core"
import { Effect } from "effect"
import { Hono } from "hono"
import { driftReportPagePolicy, renderDriftReportPage } from "../DriftReportPage.js"
import type { AppServices } from "./AppServices.js"
import { type Mount, Reply } from "./Mount.js"

const drift = <A, E>(f: (d: DriftDetector.DriftDetectorShape) => Effect.Effect<A, E>) =>
  DriftDetector.DriftDetector.use(f)

/**
 * The bodies' schemas check only the envelope; the use case checks every value against its
 * feature (and names the bad ones) in one pass, hence these casts.
 */
type ValuesByFeature = Readonly<Record<string, ReadonlyArray<WindowValue>>>
type Rows = ReadonlyArray<Readonly<Record<string, WindowValue>>>

/** Values in a columns body (a non-array is refused by the use case before this counts). */
const valueCount = (values: Readonly<Record<string, unknown>>): number => {
  let n = 0
  for (const list of Object.values(values)) n += Array.isArray(list) ? list.length : 0
  return n
}

const recordObservations = (id: string, body: ObservationsBody) =>
  "values" in body
    ? drift((d) => d.recordBatch(id, body.values as ValuesByFeature)).pipe(
      Effect.as({ recorded: valueCount(body.values) })
    )
    : drift((d) => d.recordRows(id, body.rows as Rows)).pipe(Effect.as({ recorded: body.rows.length }))

/** A kept report, or a 404 naming the id (never stored, or past its monitor's retention). */
const findReport = (id: string) =>
  drift((d) => d.getDriftReport(id)).pipe(
    Effect.flatMap((report) =>
      report === undefined
        ? Effect.fail(new NotFound({ message: `Drift report ${id} does not exist (or is past its retention)` }))
        : Effect.succeed(report)
    )
  )

export const driftRoutes = (mount: Mount<AppServices>) => {
  const app = new Hono()

  mount(
    app,
    Drift.createMonitor,
    ({ body }) =>
      drift((d) => d.createMonitor(body)).pipe(
        Effect.map((monitor) => new Reply(monitor, { location: `/v1/drift/monitors/${monitor.id}` }))
      )
  )

  mount(app, Drift.listMonitors, () => drift((d) => d.listMonitors()).pipe(Effect.map((items) => ({ items }))))

  mount(app, Drift.getMonitor, ({ params }) => drift((d) => d.getMonitor(params.id)))

  mount(app, Drift.getMonitorFalseAlarms, ({ params }) => drift((d) => d.falseAlarms(params.id)))

  mount(
    app,
    Drift.setBaseline,
    ({ body, params }) =>
      drift((d) => d.setBaseline(params.id, body as ValuesByFeature)).pipe(
        Effect.as({ features: Object.keys(body) })
      )
  )

  mount(app, Drift.recordObservations, ({ body, params }) => recordObservations(params.id, body))

  mount(app, Drift.checkMonitor, ({ params }) => drift((d) => d.check(params.id)))

  mount(
    app,
    Drift.getDriftReports,
    ({ query: { limit, monitorId, since } }) =>
      drift((d) => d.getDriftReports(monitorId, since, limit)).pipe(Effect.map((items) => ({ items })))
  )

  // Before getDriftReport: its `{id}` would also match `<id>.html`.
  mount(
    app,
    Drift.getDriftReportPage,
    ({ params }) =>
      findReport(params.id).pipe(Effect.map((report) =>
        new Response(renderDriftReportPage(report), {
          headers: {
            "content-type": "text/html; charset=UTF-8",
            "content-security-policy": driftReportPagePolicy,
            "content-disposition": `inline; filename="drift-report-${report.id}.html"`
          }
        })
      ))
  )

  mount(app, Drift.getDriftReport, ({ params }) => findReport(params.id))

  mount(app, Drift.createWebhook, ({ body }) => drift((d) => d.createWebhook(body)).pipe(Effect.map(publicWebhook)))

  mount(
    app,
    Drift.listWebhooks,
    () => drift((d) => d.listWebhooks()).pipe(Effect.map((hooks) => ({ items: hooks.map(publicWebhook) })))
  )

  mount(
    app,
    Drift.deleteWebhook,
    ({ params }) =>
      drift((d) => d.deleteWebhook(params.id)).pipe(
        Effect.flatMap((deleted) =>
          deleted ? Effect.succeed(undefined) : Effect.fail(new NotFound({ message: "No such webhook" }))
        )
      )
  )

  mount(
    app,
    Drift.listWebhookDeliveries,
    ({ params }) => drift((d) => d.webhookDeliveries(params.id)).pipe(Effect.map((items) => ({ items })))
  )

  return app
}
