/**
 * The HTTP app: middleware (HTTP metrics, the caller's principal, not-found and error answers) and the
 * routes of each resource, mounted with `app.route`, each from its endpoint table in the contract.
 */
import type { PrometheusMetrics } from "@org/ml-adapter-prometheus"
import type { Endpoint } from "@org/ml-api"
import { type Access, KeyStore } from "@org/ml-core"
import { Effect, type ManagedRuntime } from "effect"
import { type Context, Hono } from "hono"
import { routePath } from "hono/route"
import { RegExpRouter } from "hono/router/reg-exp-router"
import { SmartRouter } from "hono/router/smart-router"
import { TrieRouter } from "hono/router/trie-router"
import { type Answer, toResponse } from "./Answer.js"
import { checkPermission, makeAuthenticator } from "./Auth.js"
import { confinement } from "./Confinement.js"
import { dashboardRoutes } from "./Dashboard.js"
import type { DiskSpace } from "./DiskSpace.js"
import { type EventStreams, makeEventStreams } from "./EventStreams.js"
import { HotRoutes, makeFastPath, registerFastPath } from "./FastPath.js"
import { MemoizedRouter } from "./MemoizedRouter.js"
import { makeOpenApi } from "./OpenApi.js"
import { problem, problemAnswer, problemFromError, problemResponse, thrownErrorAnswer } from "./Problem.js"
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
import { makeSdkFeeds, sdkRoutes } from "./routes/sdk.js"
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
  /** The register of open event streams, which the server ends at shutdown (absent: the app's own). */
  readonly eventStreams?: EventStreams | undefined
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
  /** The request's metrics and, for a write, its outcome for readiness; the fast path's too (FastPath.ts). */
  const answered = (method: string, route: string, status: number, started: number): void => {
    options.httpMetrics?.observe(method, route, status, (performance.now() - started) / 1000)
    // A write's outcome tells readiness whether the disk is full (507) or has room again (2xx).
    if (options.diskSpace && method !== "GET" && method !== "HEAD") {
      if (status === 507) options.diskSpace.noteWrite(true)
      else if (status < 300) options.diskSpace.noteWrite(false)
    }
  }
  app.use("*", async (c, next) => {
    const started = performance.now()
    const preflight = security.preflight(c)
    if (preflight !== undefined) c.res = preflight
    else {
      await next()
      security.harden(c)
    }
    // Route patterns, never raw paths, keep label cardinality bounded.
    const route = options.httpMetrics ? routePath(c, -1) || "unmatched" : ""
    answered(c.req.method, route, c.res.status, started)
  })

  const unauthorizedAnswer = (path: string) =>
    problemAnswer(problem("Unauthorized", "Send Authorization: Bearer <token>", {}, path), {
      "www-authenticate": "Bearer"
    })
  const unauthorized = (c: Context) => toResponse(unauthorizedAnswer(c.req.path))

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

  /** The 401 or 403 of a caller for an endpoint; undefined when allowed (or authentication is off). */
  const refusal = (principal: Access.Principal | undefined, endpoint: Endpoint, path: string): Answer | undefined => {
    if (authenticate === undefined) return undefined
    if (principal === undefined) return unauthorizedAnswer(path)
    const denied = checkPermission(principal, endpoint)
    // Model-name confinement needs the decoded request: Mount applies it (Confinement.ts).
    return denied ? problemAnswer(problemFromError(denied, path)!) : undefined
  }

  const authorize = (c: Context, endpoint: Endpoint): Response | undefined => {
    const refused = refusal(c.get("principal"), endpoint, c.req.path)
    return refused === undefined ? undefined : toResponse(refused)
  }

  app.onError((error, c) => toResponse(thrownErrorAnswer(error, c.req.method, c.req.path, log)))

  app.notFound((c) =>
    problemResponse(problem("NotFound", `No route for ${c.req.method} ${c.req.path}`, {}, c.req.path))
  )

  // A write that may change experiment definitions makes the SDK payload read afresh, so a client
  // reads its own writes; recording routes change no definition. Other instances' writes arrive
  // through the feed's polling.
  const sdkFeeds = makeSdkFeeds(runtime, log)
  const recordingRoute = /\/(?:assignments|metrics|exposures)$/u
  const definitionWrites = async (c: Context, next: () => Promise<void>) => {
    await next()
    if (c.req.method !== "GET" && c.req.method !== "HEAD" && c.res.status < 300 && !recordingRoute.test(c.req.path)) {
      sdkFeeds.experiments.invalidate()
    }
  }
  app.use("/v1/experiments", definitionWrites)
  app.use("/v1/experiments/*", definitionWrites)

  const settings = { maxJsonBytes, log, validateResponses: options.validateResponses ?? false, authorize }
  const hotRoutes = new HotRoutes()
  const mount = makeMount<AppServices>({
    ...settings,
    confine: confinement,
    // Once the runtime's services are built, a request's Effect runs on them directly, without the
    // runtime's bookkeeping of every fiber it starts (a WeakSet entry and a scope finalizer, about
    // 2 µs and 0.5 KB per request, bench/PROFILE.md): a graceful shutdown drains the requests
    // before it disposes the runtime, so there are no request fibers for the disposal to interrupt.
    run: (effect) => {
      const context = runtime.cachedContext
      return context === undefined ? runtime.runPromiseExit(effect) : Effect.runPromiseExitWith(context)(effect)
    },
    onMounted: hotRoutes.register
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
  app.route(
    "/",
    sdkRoutes(mount, { runtime, log, feeds: sdkFeeds, streams: options.eventStreams ?? makeEventStreams() })
  )
  if (options.dashboard !== false) app.route("/", dashboardRoutes(options.dashboard ?? {}))
  // CORS answers depend on the Origin of each request: with CORS configured, Hono answers everything.
  if ((options.corsOrigins ?? []).length === 0) {
    registerFastPath(
      app,
      makeFastPath({
        routes: hotRoutes,
        authenticate,
        unauthorized: unauthorizedAnswer,
        refusal,
        rateLimit: options.rateLimit,
        answered,
        log
      })
    )
  }
  return app
}

export type App = ReturnType<typeof makeApp>
