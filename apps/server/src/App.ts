/**
 * HTTP routes of the registry. Handlers stay thin: decode the request with the domain schemas,
 * run one use case through the shared ManagedRuntime, and map typed errors to problem+json.
 */
import type { PrometheusMetrics } from "@org/ml-adapter-prometheus"
import {
  AbTests,
  ArtifactStore,
  CreateExperimentInput,
  CreateMonitorInput,
  CreatePipelineInput,
  decodeInput,
  DriftDetector,
  ExperimentId,
  immutableModelFields,
  Instant,
  ListModelsQuery,
  ModelId,
  ModelName,
  ModelRegistry,
  OnlineLearner,
  PromoteModelInput,
  RegisterModelInput,
  Sha256Hex,
  UpdateModelInput,
  ValidationError
} from "@org/ml-core"
import { Effect, Exit, type ManagedRuntime, Schema } from "effect"
import { type Context, Hono } from "hono"
import { routePath } from "hono/route"
import { docsPage } from "./Docs.js"
import { makeOpenApi } from "./OpenApi.js"
import { problem, problemFromCause, problemFromError, problemResponse } from "./Problem.js"

type HttpMetrics = PrometheusMetrics.HttpMetrics

type AppServices =
  | ModelRegistry.ModelRegistry
  | AbTests.AbTests
  | DriftDetector.DriftDetector
  | OnlineLearner.OnlineLearner

export interface AppOptions {
  readonly runtime: ManagedRuntime.ManagedRuntime<AppServices, unknown>
  /** Renders the Prometheus exposition after the registry gauges are refreshed. */
  readonly metrics: () => Promise<{ readonly contentType: string; readonly body: string }>
  readonly httpMetrics?: HttpMetrics | undefined
  readonly maxJsonBytes: number
  readonly maxUploadBytes: number
  readonly apiToken?: string | undefined
  readonly log?: ((line: string) => void) | undefined
}

class RequestProblem extends Error {
  constructor(readonly code: string, detail: string, readonly extensions: Record<string, unknown> = {}) {
    super(detail)
  }
}

const IdParams = Schema.Struct({ id: ModelId })
const decodeIdParams = decodeInput(IdParams, "path")
const decodeNameParams = decodeInput(Schema.Struct({ name: ModelName }), "path")
const decodeProductionQuery = decodeInput(Schema.Struct({ at: Schema.optionalKey(Instant) }), "query")
const decodeRegister = decodeInput(RegisterModelInput, "model metadata")
const decodeUpdate = decodeInput(UpdateModelInput, "model update")
const decodePromote = decodeInput(PromoteModelInput, "promotion")
const decodeList = decodeInput(ListModelsQuery, "query")
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
const slugId = (what: string) =>
  Schema.String.check(Schema.isPattern(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/u, { message: `must be a ${what} id` }))
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

const isSha256Hex = Schema.is(Sha256Hex)

/** Reads a JSON body with a size cap, so a huge or endless body cannot exhaust memory. */
const readJson = async (request: Request, maxBytes: number): Promise<unknown> => {
  const type = request.headers.get("content-type") ?? ""
  if (!/^application\/(.+\+)?json\b/i.test(type)) {
    throw new RequestProblem("UnsupportedMediaType", `Expected content-type application/json, got ${type || "none"}`)
  }
  const declared = Number(request.headers.get("content-length") ?? "0")
  if (declared > maxBytes) {
    throw new RequestProblem("PayloadTooLarge", `JSON body exceeds ${maxBytes} bytes`, { limitBytes: maxBytes })
  }
  const bytes = request.body ? await ArtifactStore.collectBytes(request.body, maxBytes) : new Uint8Array(0)
  if (bytes === undefined) {
    throw new RequestProblem("PayloadTooLarge", `JSON body exceeds ${maxBytes} bytes`, { limitBytes: maxBytes })
  }
  const text = new TextDecoder().decode(bytes)
  try {
    return JSON.parse(text)
  } catch (cause) {
    throw new ValidationError({
      message: `Request body is not valid JSON: ${(cause as Error).message}`,
      issues: [{ path: [], message: "is not valid JSON" }]
    })
  }
}

/** The expected digest from `x-artifact-sha256` (hex) or RFC 9530 `content-digest: sha-256=:base64:`. */
const expectedDigest = (headers: Headers): string | undefined => {
  const hex = headers.get("x-artifact-sha256")
  if (hex !== null) {
    const value = hex.trim().toLowerCase()
    if (!isSha256Hex(value)) {
      throw new ValidationError({
        message: "Header x-artifact-sha256 must be 64 hex characters",
        issues: [{ path: ["x-artifact-sha256"], message: "must be 64 hex characters" }]
      })
    }
    return value
  }
  const digest = headers.get("content-digest")
  if (digest !== null) {
    const match = /sha-256=:([A-Za-z0-9+/=]+):/.exec(digest)
    const bytes = match ? Buffer.from(match[1]!, "base64") : undefined
    if (!bytes || bytes.length !== 32) {
      throw new ValidationError({
        message: "Header content-digest must carry sha-256=:<base64 of 32 bytes>:",
        issues: [{ path: ["content-digest"], message: "must be sha-256=:<base64>:" }]
      })
    }
    return bytes.toString("hex")
  }
  return undefined
}

export const makeApp = (options: AppOptions) => {
  const { runtime } = options
  const log = options.log ?? ((line: string) => console.error(line))
  const app = new Hono()

  /** Runs a use case and answers with its result, or with the problem for its typed error. */
  const respond = async <A>(
    c: Context,
    program: Effect.Effect<A, unknown, AppServices>,
    ok: (value: A) => Response
  ) => {
    const exit = await runtime.runPromiseExit(program)
    if (Exit.isSuccess(exit)) return ok(exit.value)
    const { problem: body, defect } = problemFromCause(exit.cause, c.req.path)
    if (defect !== undefined) {
      log(
        `Unhandled failure on ${c.req.method} ${c.req.path}: ${defect instanceof Error ? defect.stack : String(defect)}`
      )
    }
    return problemResponse(body)
  }

  const registry = <A, E>(f: (r: ModelRegistry.ModelRegistryShape) => Effect.Effect<A, E>) =>
    ModelRegistry.ModelRegistry.use(f)

  const actorOf = (c: Context, body?: { actor?: string }) => body?.actor ?? c.req.header("x-actor") ?? "anonymous"

  app.use("*", async (c, next) => {
    const started = performance.now()
    await next()
    if (options.httpMetrics) {
      // Route patterns, never raw paths, keep label cardinality bounded.
      const route = routePath(c, -1) || "unmatched"
      options.httpMetrics.observe(c.req.method, route, c.res.status, (performance.now() - started) / 1000)
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

  app.onError((error, c) => {
    if (error instanceof RequestProblem) {
      return problemResponse(problem(error.code, error.message, error.extensions, c.req.path))
    }
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

  app.get("/healthz", (c) => c.json({ status: "ok" }))

  app.get("/readyz", (c) => respond(c, registry((r) => r.ping()), () => Response.json({ status: "ready" })))

  app.get("/metrics", async () => {
    const { contentType, body } = await options.metrics()
    return new Response(body, { headers: { "content-type": contentType } })
  })

  app.get("/openapi.json", (c) => c.json(makeOpenApi()))
  app.get("/docs", (c) => c.html(docsPage(makeOpenApi())))

  app.post("/v1/models", async (c) => {
    const body = await readJson(c.req.raw, options.maxJsonBytes)
    return respond(
      c,
      Effect.flatMap(
        decodeRegister(body),
        (input) => registry((r) => r.registerModel(input, undefined, { actor: actorOf(c) }))
      ),
      (model) => Response.json(model, { status: 201, headers: { location: `/v1/models/${model.id}` } })
    )
  })

  app.get("/v1/models", (c) => {
    const raw: Record<string, unknown> = { ...c.req.query() }
    if (typeof raw.limit === "string" && /^\d+$/.test(raw.limit)) raw.limit = Number(raw.limit)
    return respond(
      c,
      Effect.flatMap(decodeList(raw), (query) => registry((r) => r.listModels(query))),
      (page) => Response.json(page)
    )
  })

  app.get(
    "/v1/models/:id",
    (c) =>
      respond(
        c,
        Effect.flatMap(decodeIdParams(c.req.param()), ({ id }) => registry((r) => r.getModel(id))),
        (model) => Response.json(model)
      )
  )

  app.patch("/v1/models/:id", async (c) => {
    const body = await readJson(c.req.raw, options.maxJsonBytes)
    const immutable = typeof body === "object" && body !== null
      ? immutableModelFields.filter((field) => field in body)
      : []
    if (immutable.length > 0) {
      throw new ValidationError({
        message: `Fields ${immutable.join(", ")} cannot be changed after registration; register a new version instead`,
        issues: immutable.map((field) => ({ path: [field], message: "is immutable once registered" }))
      })
    }
    return respond(
      c,
      Effect.flatMap(
        Effect.all([decodeIdParams(c.req.param()), decodeUpdate(body)]),
        ([{ id }, patch]) => registry((r) => r.updateModel(id, { ...patch, actor: patch.actor ?? actorOf(c) }))
      ),
      (model) => Response.json(model)
    )
  })

  app.put("/v1/models/:id/artifact", (c) => {
    const declared = c.req.header("content-length")
    if (declared !== undefined && Number(declared) > options.maxUploadBytes) {
      throw new RequestProblem(
        "ArtifactTooLargeError",
        `Artifact exceeds the upload limit of ${options.maxUploadBytes} bytes`,
        { limitBytes: options.maxUploadBytes }
      )
    }
    const expectedSha256 = expectedDigest(c.req.raw.headers)
    const body = c.req.raw.body ?? new Blob([]).stream()
    return respond(
      c,
      Effect.flatMap(
        decodeIdParams(c.req.param()),
        ({ id }) => registry((r) => r.uploadArtifact(id, body, { expectedSha256, actor: actorOf(c) }))
      ),
      (model) => Response.json(model)
    )
  })

  app.get(
    "/v1/models/:id/artifact",
    (c) =>
      respond(
        c,
        Effect.flatMap(decodeIdParams(c.req.param()), ({ id }) => registry((r) => r.readArtifact(id))),
        ({ model, stream }) => {
          const artifact = model.artifact!
          return new Response(stream, {
            headers: {
              "content-type": "application/octet-stream",
              "content-length": String(artifact.sizeBytes),
              "content-disposition": `attachment; filename="${model.name}-${model.version}.bin"`,
              "x-artifact-sha256": artifact.sha256,
              "content-digest": `sha-256=:${Buffer.from(artifact.sha256, "hex").toString("base64")}:`,
              etag: `"${artifact.sha256}"`
            }
          })
        }
      )
  )

  app.post("/v1/models/:id/promote", async (c) => {
    const body = await readJson(c.req.raw, options.maxJsonBytes)
    return respond(
      c,
      Effect.flatMap(
        Effect.all([decodeIdParams(c.req.param()), decodePromote(body)]),
        ([{ id }, input]) =>
          registry((r) => r.promoteModel(id, input.status, { reason: input.reason, actor: input.actor ?? actorOf(c) }))
      ),
      (model) => Response.json(model)
    )
  })

  app.get(
    "/v1/models/:id/history",
    (c) =>
      respond(
        c,
        Effect.flatMap(decodeIdParams(c.req.param()), ({ id }) => registry((r) => r.getHistory(id))),
        (events) => Response.json(events)
      )
  )

  app.get(
    "/v1/registry/:name/production",
    (c) =>
      respond(
        c,
        Effect.flatMap(
          Effect.all([decodeNameParams(c.req.param()), decodeProductionQuery(c.req.query())]),
          ([{ name }, { at }]) =>
            registry((r) => r.getProduction(name, at)).pipe(Effect.map((model) => ({ model, name, at })))
        ),
        ({ model, name, at }) =>
          model
            ? Response.json(model)
            : problemResponse(
              problem("NotFound", `No version of ${name} was in production${at ? ` at ${at}` : ""}`, {
                name,
                ...(at ? { at } : {})
              }, c.req.path)
            )
      )
  )

  // ---------------------------------------------------------------- A/B tests
  const ab = <A, E>(f: (t: AbTests.AbTestsShape) => Effect.Effect<A, E>) => AbTests.AbTests.use(f)
  const withExperiment = <A, E>(c: Context, f: (id: string) => Effect.Effect<A, E, AbTests.AbTests>) =>
    Effect.flatMap(decodeExperimentParams(c.req.param()), ({ id }) => f(id))

  app.post("/v1/experiments", async (c) => {
    const body = await readJson(c.req.raw, options.maxJsonBytes)
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
    const body = await readJson(c.req.raw, options.maxJsonBytes)
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
      : await readJson(c.req.raw, options.maxJsonBytes)
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
  app.post("/v1/experiments/:id/assignments", async (c) => {
    const body = await readJson(c.req.raw, options.maxJsonBytes)
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
    const body = await readJson(c.req.raw, options.maxJsonBytes)
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
    const body = await readJson(c.req.raw, options.maxJsonBytes)
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

  // ---------------------------------------------------------------- drift
  const drift = <A, E>(f: (d: DriftDetector.DriftDetectorShape) => Effect.Effect<A, E>) =>
    DriftDetector.DriftDetector.use(f)
  const withMonitor = <A, E>(c: Context, f: (id: string) => Effect.Effect<A, E, DriftDetector.DriftDetector>) =>
    Effect.flatMap(decodeMonitorParams(c.req.param()), ({ id }) => f(id))
  /** Webhook secrets are write-only: never returned. */
  const publicHook = (hook: { secret: string }) => ({ ...hook, secret: "***" })

  app.post("/v1/drift/monitors", async (c) => {
    const body = await readJson(c.req.raw, options.maxJsonBytes)
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
    const body = await readJson(c.req.raw, options.maxJsonBytes)
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
    const body = await readJson(c.req.raw, options.maxJsonBytes)
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
  app.post("/v1/drift/webhooks", async (c) => {
    const body = await readJson(c.req.raw, options.maxJsonBytes)
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

  // ---------------------------------------------------------------- online learning
  const learner = <A, E>(f: (l: OnlineLearner.OnlineLearnerShape) => Effect.Effect<A, E>) =>
    OnlineLearner.OnlineLearner.use(f)
  const withPipeline = <A, E>(c: Context, f: (id: string) => Effect.Effect<A, E, OnlineLearner.OnlineLearner>) =>
    Effect.flatMap(decodePipelineParams(c.req.param()), ({ id }) => f(id))
  app.post("/v1/pipelines", async (c) => {
    const body = await readJson(c.req.raw, options.maxJsonBytes)
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
    const body = await readJson(c.req.raw, options.maxJsonBytes)
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
    const body = c.req.header("content-type") === undefined ? {} : await readJson(c.req.raw, options.maxJsonBytes)
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
    const body = await readJson(c.req.raw, options.maxJsonBytes)
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

export type App = ReturnType<typeof makeApp>
