/**
 * The drift routes (monitors, baselines, observations, checks, reports, webhooks), hand-written
 * as before the endpoint tables: a later change mounts them from a Drift table like the
 * registry's. Their OpenAPI entries are in LegacyOpenApi.ts until then.
 */
import { CreateMonitorInput, decodeInput, DriftDetector, Instant } from "@org/ml-core"
import { Effect, Schema } from "effect"
import { type Context, Hono } from "hono"
import { problem, problemResponse } from "../Problem.js"
import { type LegacyRoutes, slugId } from "./Legacy.js"
import { readJson } from "./Mount.js"

const MonitorId = slugId("monitor")
const decodeMonitorParams = decodeInput(Schema.Struct({ id: MonitorId }), "path")
const decodeCreateMonitor = decodeInput(CreateMonitorInput, "monitor")
// Per-value checks (finite numbers, strings, null) happen once, in the use case; decoding here
// only checks the envelope, so large batches are not walked twice.
const WindowValues = Schema.Unknown
const decodeBaseline = decodeInput(Schema.Record(Schema.String, WindowValues), "baseline")
const decodeObservations = decodeInput(
  Schema.Union([
    Schema.Struct({ values: Schema.Record(Schema.String, WindowValues) }),
    Schema.Struct({
      rows: Schema.Array(Schema.Record(Schema.String, Schema.Unknown)).check(
        Schema.isMaxLength(100_000, { message: "must hold at most 100000 rows" })
      )
    })
  ]),
  "observations"
)
const decodeReportsQuery = decodeInput(
  Schema.Struct({ monitorId: Schema.optionalKey(MonitorId), since: Schema.optionalKey(Instant) }),
  "query"
)
const decodeWebhook = decodeInput(
  Schema.Struct({
    url: Schema.String,
    secret: Schema.String,
    monitorId: Schema.optionalKey(Schema.NullOr(MonitorId)),
    minSeverity: Schema.optionalKey(Schema.Literals(["none", "low", "medium", "high", "critical"]))
  }),
  "webhook"
)
const decodeWebhookParams = decodeInput(Schema.Struct({ id: Schema.String.check(Schema.isMinLength(1)) }), "path")

const drift = <A, E>(f: (d: DriftDetector.DriftDetectorShape) => Effect.Effect<A, E>) =>
  DriftDetector.DriftDetector.use(f)
const withMonitor = <A, E>(c: Context, f: (id: string) => Effect.Effect<A, E, DriftDetector.DriftDetector>) =>
  Effect.flatMap(decodeMonitorParams(c.req.param()), ({ id }) => f(id))
/** Webhook secrets are write-only: never returned. */
const publicHook = (hook: { secret: string }) => ({ ...hook, secret: "***" })

/** Monitors: create, read, set baselines, record observations, check, and read reports. */
const monitorRoutes = (app: Hono, { maxJsonBytes, respond }: LegacyRoutes) => {
  app.post("/v1/drift/monitors", async (c) => {
    const body = await readJson(c.req.raw, maxJsonBytes)
    return respond(
      c,
      Effect.flatMap(decodeCreateMonitor(body), (input) => drift((d) => d.createMonitor(input))),
      (m) => Response.json(m, { status: 201, headers: { location: `/v1/drift/monitors/${m.id}` } })
    )
  })
  app.get("/v1/drift/monitors", (c) => respond(c, drift((d) => d.listMonitors()), (items) => Response.json({ items })))
  app.get(
    "/v1/drift/monitors/:id",
    (c) => respond(c, withMonitor(c, (id) => drift((d) => d.getMonitor(id))), (m) => Response.json(m))
  )
  app.put("/v1/drift/monitors/:id/baseline", async (c) => {
    const body = await readJson(c.req.raw, maxJsonBytes)
    return respond(
      c,
      Effect.flatMap(
        decodeBaseline(body),
        (values) =>
          withMonitor(
            c,
            (id) => drift((d) => d.setBaseline(id, values as never)).pipe(Effect.as({ features: Object.keys(values) }))
          )
      ),
      (r) => Response.json(r)
    )
  })
  app.post("/v1/drift/monitors/:id/observations", async (c) => {
    const body = await readJson(c.req.raw, maxJsonBytes)
    return respond(
      c,
      Effect.flatMap(decodeObservations(body), (request) =>
        withMonitor(c, (id) =>
          "values" in request
            ? drift((d) => d.recordBatch(id, request.values as never)).pipe(
              Effect.as({
                recorded: Object.values(request.values).reduce(
                  (n: number, v) => n + (Array.isArray(v) ? v.length : 0),
                  0
                )
              })
            )
            : drift((d) => d.recordRows(id, request.rows as never)).pipe(
              Effect.as({ recorded: request.rows.length })
            ))),
      (r) => Response.json(r, { status: 202 })
    )
  })
  app.post(
    "/v1/drift/monitors/:id/check",
    (c) => respond(c, withMonitor(c, (id) => drift((d) => d.check(id))), (r) => Response.json(r))
  )
  app.get(
    "/v1/drift/reports",
    (c) =>
      respond(
        c,
        Effect.flatMap(decodeReportsQuery(c.req.query()), ({ monitorId, since }) =>
          drift((d) => d.getDriftReports(monitorId, since))),
        (items) =>
          Response.json({ items })
      )
  )
}

/** Webhooks that receive drift alerts, and their delivery attempts. */
const webhookRoutes = (app: Hono, { maxJsonBytes, respond }: LegacyRoutes) => {
  app.post("/v1/drift/webhooks", async (c) => {
    const body = await readJson(c.req.raw, maxJsonBytes)
    return respond(
      c,
      Effect.flatMap(decodeWebhook(body), (input) => drift((d) => d.createWebhook(input))),
      (h) => Response.json(publicHook(h), { status: 201 })
    )
  })
  app.get(
    "/v1/drift/webhooks",
    (c) => respond(c, drift((d) => d.listWebhooks()), (items) => Response.json({ items: items.map(publicHook) }))
  )
  app.delete(
    "/v1/drift/webhooks/:id",
    (c) =>
      respond(
        c,
        Effect.flatMap(decodeWebhookParams(c.req.param()), ({ id }) => drift((d) => d.deleteWebhook(id))),
        (deleted) =>
          deleted
            ? new Response(null, { status: 204 })
            : problemResponse(problem("NotFound", "No such webhook", {}, c.req.path))
      )
  )
  app.get(
    "/v1/drift/webhooks/:id/deliveries",
    (c) =>
      respond(
        c,
        Effect.flatMap(decodeWebhookParams(c.req.param()), ({ id }) => drift((d) => d.webhookDeliveries(id))),
        (items) => Response.json({ items })
      )
  )
}

export const driftRoutes = (legacy: LegacyRoutes) => {
  const app = new Hono()
  monitorRoutes(app, legacy)
  webhookRoutes(app, legacy)
  return app
}
