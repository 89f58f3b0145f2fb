/**
 * The A/B test and bandit routes, mounted from the Experiments endpoint table: each handler is
 * one use-case call. What HTTP adds lives here: the location of a created experiment, the
 * authenticated principal as the actor, and the two shapes (one or many) of the assignment and metric
 * requests.
 */
import { Experiments, hasPermission } from "@org/ml-api"
import { AbTests, ValidationError } from "@org/ml-core"
import { Effect } from "effect"
import { Hono } from "hono"
import { forbidden } from "../Auth.js"
import type { AppServices } from "./AppServices.js"
import { type Mount, Reply } from "./Mount.js"

const abTests = <A, E>(f: (t: AbTests.AbTestsShape) => Effect.Effect<A, E>) => AbTests.AbTests.use(f)

/** Create, read, change and move experiments through their lifecycle. */
const mountLifecycle = (mount: Mount<AppServices>, app: Hono) => {
  mount(
    app,
    Experiments.createExperiment,
    ({ actor, body, onBehalfOf }) =>
      abTests((t) => t.createExperiment(body, actor, onBehalfOf)).pipe(
        // Variants missing from the registry are reported as input issues (400), never as a 404.
        Effect.catchTag("ModelNotFoundError", Effect.die),
        Effect.map((experiment) => new Reply(experiment, { location: `/v1/experiments/${experiment.id}` }))
      )
  )

  mount(
    app,
    Experiments.listExperiments,
    () => abTests((t) => t.listExperiments()).pipe(Effect.map((items) => ({ items })))
  )

  mount(app, Experiments.getExperiment, ({ params }) => abTests((t) => t.getExperiment(params.id)))

  mount(
    app,
    Experiments.updateExperiment,
    ({ actor, body, onBehalfOf, params }) =>
      abTests((t) => t.updateExperiment(params.id, body, actor, body.onBehalfOf ?? body.actor ?? onBehalfOf))
  )

  mount(app, Experiments.startExperiment, ({ actor, params }) => abTests((t) => t.startExperiment(params.id, actor)))

  mount(app, Experiments.pauseExperiment, ({ actor, params }) => abTests((t) => t.pauseExperiment(params.id, actor)))

  mount(
    app,
    Experiments.completeExperiment,
    ({ actor, body, onBehalfOf, params }) =>
      abTests((t) =>
        t.completeExperiment(params.id, {
          promoteWinner: body.promoteWinner ?? false,
          actor,
          onBehalfOf: body.onBehalfOf ?? body.actor ?? onBehalfOf
        })
      )
  )

  mount(app, Experiments.reweightExperiment, ({ params }) => abTests((t) => t.reweight(params.id)))
}

/** Assign users, take in what they did (metrics, exposures) and read the results. */
const mountTraffic = (mount: Mount<AppServices>, app: Hono) => {
  mount(app, Experiments.getModelAssignments, ({ body, params }) =>
    "userId" in body
      ? abTests((t) => t.getModelAssignment(params.id, body.userId, body.attributes))
      : abTests((t) => t.getModelAssignments(params.id, body.userIds, body.attributesByUser)).pipe(
        Effect.map((items) => ({ items }))
      ))

  mount(app, Experiments.recordMetrics, ({ body, params }) => {
    const observations = "observations" in body ? body.observations : [body]
    return abTests((t) => t.recordMetrics(params.id, observations)).pipe(Effect.as({ recorded: observations.length }))
  })

  mount(
    app,
    Experiments.recordExposures,
    ({ body: { exposures }, params }) =>
      abTests((t) => t.recordExposures(params.id, exposures)).pipe(
        // Exposures are accepted in any status, so the state error of the use case's type cannot happen.
        Effect.catchTag("ExperimentStateError", Effect.die),
        Effect.as({ recorded: exposures.length })
      )
  )

  mount(app, Experiments.getExperimentResults, ({ params }) => abTests((t) => t.getExperimentResults(params.id)))

  mount(
    app,
    Experiments.getDimensionResults,
    ({ params, query }) =>
      query.dimension === undefined
        ? Effect.fail(
          new ValidationError({
            message: "Invalid query: dimension is required",
            issues: [{ path: ["dimension"], message: "is required (the dimension to break the results down by)" }]
          })
        )
        : abTests((t) => t.getDimensionResults(params.id, query.dimension!))
  )
}

/** What served a user at a past instant: the answer reads experiments and the registry, so it needs both reads. */
const mountServed = (mount: Mount<AppServices>, app: Hono) => {
  mount(
    app,
    Experiments.getServed,
    ({ principal, query }) =>
      hasPermission(principal.role, "models:read")
        ? abTests((t) => t.getServed(query))
        : Effect.fail(forbidden(principal, "models:read"))
  )
}

export const experimentRoutes = (mount: Mount<AppServices>) => {
  const app = new Hono()
  mountLifecycle(mount, app)
  mountTraffic(mount, app)
  mountServed(mount, app)
  return app
}
