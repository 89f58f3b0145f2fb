/**
 * The HTTP app: middleware (HTTP metrics, the caller's principal, not-found and error answers) and the
 * routes of each resource, mounted with `app.route`, each from its endpoint table in the contract.
 */
import type { PrometheusMetrics } from "@org/ml-adapter-prometheus"
import type { Endpoint } from "@org/ml-api"
import { KeyStore } from "@org/ml-core"
import { Effect, type ManagedRuntime } from "effect"
import { type Context, Hono } from "hono"
import { routePath } from "hono/route"
import { RegExpRouter } from "hono/router/reg-exp-router"
import { SmartRouter } from "hono/router/smart-router"
import { TrieRouter } from "hono/router/trie-router"
import { checkPermission, makeAuthenticator } from "./Auth.js"
import { confinement } from "./Confinement.js"
import { dashboardRoutes } from "./Dashboard.js"
import type { DiskSpace } from "./DiskSpace.js"
import { MemoizedRouter } from "./MemoizedRouter.js"
import { makeOpenApi } from "./OpenApi.js"
import { problem, problemFromError, problemResponse } from "./Problem.js"
import { rateLimit, type TakeToken } from "./RateLimit.js"
import { requestHeader } from "./RequestHeaders.js"
import type { AppServices } from "./routes/AppServices.js"
import { driftRoutes } from "./routes/drift.js"
import { experimentRoutes } from "./routes/experiments.js"
import { keyRoutes } from "./routes/keys.js"
import { modelRoutes } from "./routes/models.js"
import { makeMount } from "./routes/Mount.js"
import { operationRoutes } from "./routes/operations.js"
import { pipelineRoutes } from "./routes/pipelines.js"
import { sdkRoutes } from "./routes/sdk.js"
import { makeSecurityHeaders } from "./SecurityHeaders.js"

type HttpMetrics = PrometheusMetrics.HttpMetrics

export interface AppOptions {
  readonly runtime: ManagedRuntime.ManagedRuntime<AppServices, unknown>
  /** Renders the Prometheus exposition after the registry gauges are refreshed. */
  readonly metrics: () => Promise<{ readonly contentType: string; readonly body: string }>
  readonly httpMetrics?: HttpMetrics | undefined
  readonly maxJsonBytes: number
  readonly maxUploadBytes: number
  /** The bootstrap admin token; undefined: authentication off, every caller is Access.anonymous. */
  readonly apiToken?: string | undefined
  readonly log?: ((line: string) => void) | undefined
  /** The data directory's free space and last write outcome, reported by /readyz. */
  readonly diskSpace?: DiskSpace | undefined
  /** Checks every JSON success body against its endpoint's schema, answering 500 on a mismatch (for tests). */
  readonly validateResponses?: boolean | undefined
  /** Browser origins allowed by CORS (ML_CORS_ORIGINS); absent or empty: CORS off. */
  readonly corsOrigins?: ReadonlyArray<string> | undefined
  /** Per-key rate limiting of /v1 (absent: no limit). */
  readonly rateLimit?: TakeToken | undefined
  /** Where the built dashboard is (default: the @org/ml-dashboard package); false: no dashboard. */
  readonly dashboard?: { readonly directory?: string } | false | undefined
}

export const makeApp = (options: AppOptions) => {
  const { runtime, maxJsonBytes } = options
  const log = options.log ?? ((line: string) => console.error(line))
  // Hono's default router, its answers kept per path (MemoizedRouter.ts).
  const app = new Hono({
    router: new MemoizedRouter(new SmartRouter({ routers: [new RegExpRouter(), new TrieRouter()] }))
  })

  // The outermost step of every request: security headers and CORS (a preflight is answered here,
  // before authentication, as it carries no token), then the request's metrics.
  const security = makeSecurityHeaders(options.corsOrigins ?? [])
  app.use("*", async (c, next) => {
    const started = performance.now()
    const preflight = security.preflight(c)
    if (preflight !== undefined) c.res = preflight
    else {
      await next()
      security.harden(c)
    }
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

  const unauthorized = (c: Context) =>
    problemResponse(problem("Unauthorized", "Send Authorization: Bearer <token>", {}, c.req.path), {
      "www-authenticate": "Bearer"
    })

  const { apiToken } = options
  const authenticate = apiToken === undefined ? undefined : makeAuthenticator(
    apiToken,
    // Read per request, never cached: a revoked key is refused at once on every instance.
    (tokenHash) => runtime.runPromise(KeyStore.KeyStore.use((keys) => keys.findByHash(tokenHash)))
  )

  // With authentication off nobody sets the principal: principalOf reads it as Access.anonymous.
  if (authenticate !== undefined) {
    app.use("*", async (c, next) => {
      const principal = await authenticate(requestHeader(c, "authorization"))
      if (principal !== undefined) c.set("principal", principal)
      // Unknown /v1 routes answer 401 too, so they reveal nothing to a caller without a token.
      else if (c.req.path.startsWith("/v1/")) return unauthorized(c)
      return next()
    })
  }
  // Each middleware is a step of every request: one that would let everything through is left out.
  if (options.rateLimit !== undefined) app.use("/v1/*", rateLimit(options.rateLimit))

  const refuse = (c: Context, error: Parameters<typeof problemFromError>[0]) =>
    problemResponse(problemFromError(error, c.req.path)!)

  const authorize = (c: Context, endpoint: Endpoint): Response | undefined => {
    if (authenticate === undefined) return undefined
    const principal = c.get("principal")
    if (principal === undefined) return unauthorized(c)
    const denied = checkPermission(principal, endpoint)
    // Model-name confinement needs the decoded request: Mount applies it (Confinement.ts).
    return denied ? refuse(c, denied) : undefined
  }

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

  const settings = { maxJsonBytes, log, validateResponses: options.validateResponses ?? false, authorize }
  const mount = makeMount<AppServices>({
    ...settings,
    confine: confinement,
    run: (effect) => runtime.runPromiseExit(effect)
  })
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
  app.route("/", keyRoutes(mount))
  app.route("/", sdkRoutes(mount, { runtime, log }))
  if (options.dashboard !== false) app.route("/", dashboardRoutes(options.dashboard ?? {}))
  return app
}

export type App = ReturnType<typeof makeApp>
