/**
 * The online-learning routes (pipelines, samples, updates, rollbacks, predictions), mounted from
 * the contract's Pipelines table: each handler is one use-case call. What HTTP adds lives here:
 * the location of a new pipeline, wrapping lists and the triggered update in an object, and
 * answering one prediction for `{ features }` and a list for `{ rows }`.
 */
import { Pipelines } from "@org/ml-api"
import { OnlineLearner, type PredictRequest } from "@org/ml-core"
import { Effect } from "effect"
import { Hono } from "hono"
import type { AppServices } from "./AppServices.js"
import { type Mount, Reply } from "./Mount.js"

const learner = <A, E>(f: (l: OnlineLearner.OnlineLearnerShape) => Effect.Effect<A, E>) =>
  OnlineLearner.OnlineLearner.use(f)

/**
 * The request's schema checks only the envelope; the learner checks every feature value as it
 * predicts (naming the feature), so the rows go to it as they came.
 */
const predict = (id: string, request: PredictRequest) =>
  "rows" in request
    ? learner((l) => l.predict(id, request.rows)).pipe(Effect.map((predictions) => ({ predictions })))
    : learner((l) => l.predict(id, [request.features], "features")).pipe(
      Effect.map(([prediction]) => ({ prediction: prediction! }))
    )

export const pipelineRoutes = (mount: Mount<AppServices>) => {
  const app = new Hono()

  mount(
    app,
    Pipelines.createPipeline,
    ({ body }) =>
      learner((l) => l.createPipeline(body)).pipe(
        Effect.map((pipeline) => new Reply(pipeline, { location: `/v1/pipelines/${pipeline.id}` }))
      )
  )

  mount(app, Pipelines.listPipelines, () => learner((l) => l.listPipelines()).pipe(Effect.map((items) => ({ items }))))

  mount(app, Pipelines.getPipelineStatus, ({ params }) => learner((l) => l.getPipelineStatus(params.id)))

  mount(app, Pipelines.addSamples, ({ body, params }) => learner((l) => l.addSamples(params.id, body.samples)))

  mount(
    app,
    Pipelines.listUpdates,
    ({ params }) => learner((l) => l.listUpdates(params.id)).pipe(Effect.map((items) => ({ items })))
  )

  mount(
    app,
    Pipelines.triggerUpdate,
    ({ params }) => learner((l) => l.triggerUpdate(params.id)).pipe(Effect.map((update) => ({ update })))
  )

  mount(app, Pipelines.rollbackPipeline, ({ body, params }) => learner((l) => l.rollback(params.id, body.toModelId)))

  mount(app, Pipelines.predict, ({ body, params }) => predict(params.id, body))

  return app
}
