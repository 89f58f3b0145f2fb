/**
 * The A/B-test and bandit routes, hand-written as before the endpoint tables: a later change
 * mounts them from an Experiments table like the registry's. Their OpenAPI entries are in
 * LegacyOpenApi.ts until then.
 */
import { AbTests, CreateExperimentInput, decodeInput, ExperimentId, ModelId } from "@org/ml-core"
import { Effect, Schema } from "effect"
import { type Context, Hono } from "hono"
import { actorOf, type LegacyRoutes } from "./Legacy.js"
import { readJson } from "./Mount.js"

const decodeExperimentParams = decodeInput(Schema.Struct({ id: ExperimentId }), "path")
const decodeCreateExperiment = decodeInput(CreateExperimentInput, "experiment")
const decodeExperimentUpdate = decodeInput(
  Schema.Struct({
    trafficPct: Schema.optionalKey(Schema.Array(Schema.Finite)),
    description: Schema.optionalKey(Schema.String.check(Schema.isMaxLength(4096))),
    actor: Schema.optionalKey(Schema.String)
  }),
  "experiment update"
)
const decodeComplete = decodeInput(
  Schema.Struct({ promoteWinner: Schema.optionalKey(Schema.Boolean), actor: Schema.optionalKey(Schema.String) }),
  "completion"
)
const UserId = Schema.String.check(
  Schema.isMinLength(1, { message: "must not be empty" }),
  Schema.isMaxLength(256, { message: "must be at most 256 characters" })
)
const decodeAssignmentRequest = decodeInput(
  Schema.Union([
    Schema.Struct({ userId: UserId }),
    Schema.Struct({
      userIds: Schema.Array(UserId).check(Schema.isMaxLength(10_000, { message: "must hold at most 10000 users" }))
    })
  ]),
  "assignment request"
)
const decodeExposures = decodeInput(
  Schema.Struct({
    exposures: Schema.Array(
      Schema.Struct({
        modelId: ModelId,
        count: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0, { message: "must be >= 0" }))
      })
    )
  }),
  "exposures"
)
const Observation = Schema.Struct({ modelId: ModelId, metric: Schema.String, value: Schema.Number })
const decodeMetrics = decodeInput(
  Schema.Union([
    Observation,
    Schema.Struct({
      observations: Schema.Array(Observation).check(
        Schema.isMaxLength(100_000, { message: "must hold at most 100000 observations" })
      )
    })
  ]),
  "metrics"
)

const ab = <A, E>(f: (t: AbTests.AbTestsShape) => Effect.Effect<A, E>) => AbTests.AbTests.use(f)
const withExperiment = <A, E>(c: Context, f: (id: string) => Effect.Effect<A, E, AbTests.AbTests>) =>
  Effect.flatMap(decodeExperimentParams(c.req.param()), ({ id }) => f(id))

/** Create, read, change and move experiments through their lifecycle. */
const lifecycleRoutes = (app: Hono, { maxJsonBytes, respond }: LegacyRoutes) => {
  app.post("/v1/experiments", async (c) => {
    const body = await readJson(c.req.raw, maxJsonBytes)
    return respond(
      c,
      Effect.flatMap(decodeCreateExperiment(body), (input) => ab((t) => t.createExperiment(input, actorOf(c)))),
      (experiment) =>
        Response.json(experiment, { status: 201, headers: { location: `/v1/experiments/${experiment.id}` } })
    )
  })
  app.get("/v1/experiments", (c) => respond(c, ab((t) => t.listExperiments()), (items) => Response.json({ items })))
  app.get(
    "/v1/experiments/:id",
    (c) => respond(c, withExperiment(c, (id) => ab((t) => t.getExperiment(id))), (e) => Response.json(e))
  )
  app.patch("/v1/experiments/:id", async (c) => {
    const body = await readJson(c.req.raw, maxJsonBytes)
    return respond(
      c,
      Effect.flatMap(
        decodeExperimentUpdate(body),
        (change) => withExperiment(c, (id) => ab((t) => t.updateExperiment(id, change, change.actor ?? actorOf(c))))
      ),
      (e) => Response.json(e)
    )
  })
  app.post(
    "/v1/experiments/:id/start",
    (c) => respond(c, withExperiment(c, (id) => ab((t) => t.startExperiment(id, actorOf(c)))), (e) => Response.json(e))
  )
  app.post(
    "/v1/experiments/:id/pause",
    (c) => respond(c, withExperiment(c, (id) => ab((t) => t.pauseExperiment(id, actorOf(c)))), (e) => Response.json(e))
  )
  app.post("/v1/experiments/:id/complete", async (c) => {
    const body = c.req.header("content-length") === "0" || !c.req.raw.body
      ? {}
      : await readJson(c.req.raw, maxJsonBytes)
    return respond(
      c,
      Effect.flatMap(
        decodeComplete(body),
        (o) =>
          withExperiment(
            c,
            (id) =>
              ab((t) =>
                t.completeExperiment(id, { promoteWinner: o.promoteWinner ?? false, actor: o.actor ?? actorOf(c) })
              )
          )
      ),
      (e) => Response.json(e)
    )
  })
  app.post(
    "/v1/experiments/:id/reweight",
    (c) => respond(c, withExperiment(c, (id) => ab((t) => t.reweight(id))), (e) => Response.json(e))
  )
}

/** Assign users, take in what they did (metrics, exposures) and read the results. */
const trafficRoutes = (app: Hono, { maxJsonBytes, respond }: LegacyRoutes) => {
  app.post("/v1/experiments/:id/assignments", async (c) => {
    const body = await readJson(c.req.raw, maxJsonBytes)
    return respond(
      c,
      Effect.flatMap(
        decodeAssignmentRequest(body),
        (request) =>
          withExperiment(c, (id): Effect.Effect<unknown, unknown, AbTests.AbTests> =>
            "userId" in request
              ? ab((t) => t.getModelAssignment(id, request.userId))
              : ab((t) => t.getModelAssignments(id, request.userIds)).pipe(Effect.map((items) => ({ items }))))
      ),
      (a) => Response.json(a)
    )
  })
  app.post("/v1/experiments/:id/metrics", async (c) => {
    const body = await readJson(c.req.raw, maxJsonBytes)
    return respond(
      c,
      Effect.flatMap(decodeMetrics(body), (request) =>
        withExperiment(c, (id) => {
          const observations = "observations" in request ? request.observations : [request]
          return ab((t) => t.recordMetrics(id, observations)).pipe(Effect.as({ recorded: observations.length }))
        })),
      (r) => Response.json(r, { status: 202 })
    )
  })
  app.post("/v1/experiments/:id/exposures", async (c) => {
    const body = await readJson(c.req.raw, maxJsonBytes)
    return respond(
      c,
      Effect.flatMap(
        decodeExposures(body),
        ({ exposures }) =>
          withExperiment(
            c,
            (id) => ab((t) => t.recordExposures(id, exposures)).pipe(Effect.as({ recorded: exposures.length }))
          )
      ),
      (r) => Response.json(r, { status: 202 })
    )
  })
  app.get(
    "/v1/experiments/:id/results",
    (c) => respond(c, withExperiment(c, (id) => ab((t) => t.getExperimentResults(id))), (r) => Response.json(r))
  )
}

export const experimentRoutes = (legacy: LegacyRoutes) => {
  const app = new Hono()
  lifecycleRoutes(app, legacy)
  trafficRoutes(app, legacy)
  return app
}
