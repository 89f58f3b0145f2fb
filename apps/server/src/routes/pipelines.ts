/**
 * The online-learning routes (pipelines, samples, updates, rollbacks, predictions), hand-written
 * as before the endpoint tables: a later change mounts them from a Pipelines table like the
 * registry's. Their OpenAPI entries are in LegacyOpenApi.ts until then.
 */
import { CreatePipelineInput, decodeInput, ModelId, OnlineLearner } from "@org/ml-core"
import { Effect, Schema } from "effect"
import { type Context, Hono } from "hono"
import { type LegacyRoutes, slugId } from "./Legacy.js"
import { readJson } from "./Mount.js"

const decodePipelineParams = decodeInput(Schema.Struct({ id: slugId("pipeline") }), "path")
const decodeCreatePipeline = decodeInput(CreatePipelineInput, "pipeline")
// The envelope only: each sample's values are checked once, in the use case, naming the field.
const decodeSamples = decodeInput(
  Schema.Struct({
    samples: Schema.Array(
      Schema.Struct({
        sampleId: Schema.Unknown,
        features: Schema.Unknown,
        label: Schema.Unknown,
        weight: Schema.optionalKey(Schema.Unknown)
      })
    )
      .check(Schema.isMaxLength(100_000, { message: "must hold at most 100000 samples" }))
  }),
  "samples"
)
const decodePredict = decodeInput(
  Schema.Union([
    Schema.Struct({ features: Schema.Record(Schema.String, Schema.Unknown) }),
    Schema.Struct({
      rows: Schema.Array(Schema.Record(Schema.String, Schema.Unknown)).check(
        Schema.isMaxLength(100_000, { message: "must hold at most 100000 rows" })
      )
    })
  ]),
  "prediction request"
)
const decodeRollback = decodeInput(Schema.Struct({ toModelId: Schema.optionalKey(ModelId) }), "rollback")

const learner = <A, E>(f: (l: OnlineLearner.OnlineLearnerShape) => Effect.Effect<A, E>) =>
  OnlineLearner.OnlineLearner.use(f)
const withPipeline = <A, E>(c: Context, f: (id: string) => Effect.Effect<A, E, OnlineLearner.OnlineLearner>) =>
  Effect.flatMap(decodePipelineParams(c.req.param()), ({ id }) => f(id))

export const pipelineRoutes = ({ maxJsonBytes, respond }: LegacyRoutes) => {
  const app = new Hono()
  app.post("/v1/pipelines", async (c) => {
    const body = await readJson(c.req.raw, maxJsonBytes)
    return respond(
      c,
      Effect.flatMap(decodeCreatePipeline(body), (input) => learner((l) => l.createPipeline(input))),
      (p) => Response.json(p, { status: 201, headers: { location: `/v1/pipelines/${p.id}` } })
    )
  })
  app.get("/v1/pipelines", (c) => respond(c, learner((l) => l.listPipelines()), (items) => Response.json({ items })))
  app.get(
    "/v1/pipelines/:id",
    (c) => respond(c, withPipeline(c, (id) => learner((l) => l.getPipelineStatus(id))), (s) => Response.json(s))
  )
  app.post("/v1/pipelines/:id/samples", async (c) => {
    const body = await readJson(c.req.raw, maxJsonBytes)
    return respond(
      c,
      Effect.flatMap(
        decodeSamples(body),
        ({ samples }) =>
          withPipeline(c, (id) => learner((l) => l.addSamples(id, samples as ReadonlyArray<OnlineLearner.SampleInput>)))
      ),
      (r) => Response.json(r, { status: 202 })
    )
  })
  app.get(
    "/v1/pipelines/:id/updates",
    (c) => respond(c, withPipeline(c, (id) => learner((l) => l.listUpdates(id))), (items) => Response.json({ items }))
  )
  app.post(
    "/v1/pipelines/:id/update",
    (c) =>
      respond(c, withPipeline(c, (id) => learner((l) => l.triggerUpdate(id))), (update) => Response.json({ update }))
  )
  app.post("/v1/pipelines/:id/rollback", async (c) => {
    // The body is optional: without one, roll back to the live version's parent.
    const body = c.req.header("content-type") === undefined ? {} : await readJson(c.req.raw, maxJsonBytes)
    return respond(
      c,
      Effect.flatMap(
        decodeRollback(body),
        ({ toModelId }) => withPipeline(c, (id) => learner((l) => l.rollback(id, toModelId)))
      ),
      (r) => Response.json(r)
    )
  })
  app.post("/v1/pipelines/:id/predict", async (c) => {
    const body = await readJson(c.req.raw, maxJsonBytes)
    return respond(
      c,
      Effect.flatMap(decodePredict(body), (request) =>
        withPipeline(c, (id) =>
          learner((
            l
          ): Effect.Effect<{ predictions: ReadonlyArray<number> } | { prediction: number | undefined }, unknown> =>
            "rows" in request
              ? l.predict(id, request.rows as ReadonlyArray<Record<string, number>>).pipe(
                Effect.map((predictions) => ({ predictions }))
              )
              : l.predict(id, [request.features as Record<string, number>]).pipe(
                Effect.map(([prediction]) => ({ prediction }))
              )
          ))),
      (r) => Response.json(r)
    )
  })
  return app
}
