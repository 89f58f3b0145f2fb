/**
 * The HTTP app: middleware (HTTP metrics, bearer auth, not-found and error answers) and the
 * routes of each resource, mounted with `app.route`, each from its endpoint table in the contract.
 */
import type { PrometheusMetrics } from "@org/ml-adapter-prometheus"
import { Effect, type ManagedRuntime } from "effect"
import { Hono } from "hono"
import { routePath } from "hono/route"
import type { DiskSpace } from "./DiskSpace.js"
import { makeOpenApi } from "./OpenApi.js"
import { problem, problemFromError, problemResponse } from "./Problem.js"
import { rateLimit, type TakeToken } from "./RateLimit.js"
import type { AppServices } from "./routes/AppServices.js"
import { driftRoutes } from "./routes/drift.js"
import { experimentRoutes } from "./routes/experiments.js"
import { modelRoutes } from "./routes/models.js"
import { makeMount } from "./routes/Mount.js"
import { operationRoutes } from "./routes/operations.js"
import { pipelineRoutes } from "./routes/pipelines.js"

type HttpMetrics = PrometheusMetrics.HttpMetrics

export interface AppOptions {
  readonly runtime: ManagedRuntime.ManagedRuntime<AppServices, unknown>
  /** Renders the Prometheus exposition after the registry gauges are refreshed. */
  readonly metrics: () => Promise<{ readonly contentType: string; readonly body: string }>
  readonly httpMetrics?: HttpMetrics | undefined
  readonly maxJsonBytes: number
  readonly maxUploadBytes: number
  readonly apiToken?: string | undefined
  readonly log?: ((line: string) => void) | undefined
  /** The data directory's free space and last write outcome, reported by /readyz. */
  readonly diskSpace?: DiskSpace | undefined
  /** Checks every JSON success body against its endpoint's schema, answering 500 on a mismatch (for tests). */
  readonly validateResponses?: boolean | undefined
  /** Per-key rate limiting of /v1 (absent: no limit). */
  readonly rateLimit?: TakeToken | undefined
}

export const makeApp = (options: AppOptions) => {
  const { runtime, maxJsonBytes } = options
  const log = options.log ?? ((line: string) => console.error(line))
  const app = new Hono()

  app.use("*", async (c, next) => {
    const started = performance.now()
    await next()
    if (options.httpMetrics) {
      // Route patterns, never raw paths, keep label cardinality bounded.
      const route = routePath(c, -1) || "unmatched"
      options.httpMetrics.observe(c.req.method, route, c.res.status, (performance.now() - started) / 1000)
    }
    // A write's outcome tells readiness whether the disk is full (507) or has room again (2xx).
    if (options.diskSpace && c.req.method !== "GET" && c.req.method !== "HEAD") {
      if (c.res.status === 507) options.diskSpace.noteWrite(true)
      else if (c.res.status < 300) options.diskSpace.noteWrite(false)
    }
  })

  app.use("/v1/*", async (c, next) => {
    if (options.apiToken !== undefined && c.req.header("authorization") !== `Bearer ${options.apiToken}`) {
      return problemResponse(problem("Unauthorized", "Send Authorization: Bearer <token>", {}, c.req.path), {
        "www-authenticate": "Bearer"
      })
    }
    return next()
  })
  app.use("/v1/*", rateLimit(options.rateLimit))

  app.onError((error, c) => {
    const typed = problemFromError(error, c.req.path)
    if (typed) return problemResponse(typed)
    log(`Unhandled error on ${c.req.method} ${c.req.path}: ${error.stack ?? String(error)}`)
    return problemResponse(
      problem("InternalError", "The server failed to handle this request; see its log.", {}, c.req.path)
    )
  })

  app.notFound((c) =>
    problemResponse(problem("NotFound", `No route for ${c.req.method} ${c.req.path}`, {}, c.req.path))
  )

  const settings = { maxJsonBytes, log, validateResponses: options.validateResponses ?? false }
  const mount = makeMount<AppServices>({ ...settings, run: (effect) => runtime.runPromiseExit(effect) })
  const mountPlain = makeMount<never>({ ...settings, run: Effect.runPromiseExit })

  app.route(
    "/",
    operationRoutes(mount, mountPlain, {
      metrics: options.metrics,
      openApi: makeOpenApi(),
      diskSpace: options.diskSpace
    })
  )
  app.route("/", modelRoutes(mount, { maxUploadBytes: options.maxUploadBytes }))
  app.route("/", experimentRoutes(mount))
  app.route("/", driftRoutes(mount))
  app.route("/", pipelineRoutes(mount))
  return app
}

export type App = ReturnType<typeof makeApp>
