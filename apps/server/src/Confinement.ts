/**
 * Model-name confinement of API keys, in one place: a key with `modelNames` may touch only the
 * resources tied to models its globs match. Each resource says here which models a request
 * touches (a model by id or name; an experiment through its variants' models, all of which must
 * be inside; a pipeline through its base and live models; a drift monitor through its `modelId`;
 * a webhook or a report through its monitor). Mount runs `check` after decoding and before the
 * handler (403 naming `models:name`), and `filter` on list answers, which keep only what the key
 * may see.
 *
 * What is tied to no model is outside every confinement, so only unconfined keys touch it: a
 * monitor without a (known) `modelId`, a webhook for every monitor, and key management (a
 * confined admin could otherwise mint an unconfined key). A model id that does not resolve is
 * outside too: a confined key cannot tie a monitor to a model it cannot name.
 */
import type { Endpoint } from "@org/ml-api"
import {
  AbTests,
  type Access,
  DriftDetector,
  type Experiment,
  type Monitor,
  type Pipeline,
  type StorageError,
  type Webhook
} from "@org/ml-core"
import { ModelRegistry, OnlineLearner } from "@org/ml-core"
import { Effect } from "effect"
import { type forbidden, mayTouchModel, outsideModels } from "./Auth.js"
import type { AppServices } from "./routes/AppServices.js"

/** A model a request touches: by name, or something that names no model the key could hold. */
type Touched = { readonly name: string } | { readonly outside: string }

/** The decoded request, as Mount hands it over. */
export interface ConfinedInput {
  readonly params: unknown
  readonly query: unknown
  readonly body: unknown
}

export interface Confine<R> {
  /** Fails with a 403 when the request touches a model outside the principal's patterns. */
  readonly check: (
    principal: Access.Principal,
    endpoint: Endpoint,
    input: ConfinedInput
  ) => Effect.Effect<void, ReturnType<typeof forbidden> | StorageError, R>
  /** A list answer with only what the principal may see; other answers unchanged. */
  readonly filter: (
    principal: Access.Principal,
    endpoint: Endpoint,
    value: unknown
  ) => Effect.Effect<unknown, StorageError, R>
}

type Lookup<A> = Effect.Effect<A, StorageError, AppServices>

/** Lookups memoized for one request (a list of experiments names the same models many times). */
const makeLookups = () => {
  const modelNames = new Map<string, string | undefined>()
  const monitors = new Map<string, Monitor | undefined>()
  const modelName = (id: string): Lookup<string | undefined> =>
    modelNames.has(id) ? Effect.succeed(modelNames.get(id)) : ModelRegistry.ModelRegistry.use((r) => r.getModel(id))
      .pipe(
        Effect.map((model): string | undefined => model.name),
        Effect.catchTag("ModelNotFoundError", () => Effect.succeed(undefined)),
        Effect.tap((name) => Effect.sync(() => modelNames.set(id, name)))
      )
  const monitor = (id: string): Lookup<Monitor | undefined> =>
    monitors.has(id) ? Effect.succeed(monitors.get(id)) : DriftDetector.DriftDetector.use((d) => d.getMonitor(id))
      .pipe(
        Effect.map((found): Monitor | undefined => found),
        Effect.catchTag("MonitorNotFoundError", () => Effect.succeed(undefined)),
        Effect.tap((found) => Effect.sync(() => monitors.set(id, found)))
      )
  /** The model a stored id names; an id that resolves to nothing is outside. */
  const model = (id: string, what: string): Lookup<Touched> =>
    Effect.map(modelName(id), (name) => name === undefined ? { outside: `${what} ${id} (no such model)` } : { name })
  const models = (ids: ReadonlyArray<string>, what: string) =>
    Effect.forEach([...new Set(ids)], (id) => model(id, what))

  const ofExperiment = (experiment: Experiment) =>
    models(experiment.variants.map((v) => v.modelId), `variant model of experiment ${experiment.id}`)
  const ofPipeline = (pipeline: Pipeline) =>
    models([pipeline.baseModelId, pipeline.liveModelId], `model of pipeline ${pipeline.id}`)
  const ofMonitor = (found: Monitor): Lookup<ReadonlyArray<Touched>> =>
    found.modelId === null
      ? Effect.succeed([{ outside: `monitor ${found.id}, tied to no model` }])
      : Effect.map(model(found.modelId, `model of monitor ${found.id}`), (t) => [t])
  /** A webhook or report of a monitor; one for every monitor (null) is outside. */
  const ofMonitorId = (monitorId: string | null, what: string): Lookup<ReadonlyArray<Touched>> =>
    monitorId === null
      ? Effect.succeed([{ outside: `${what} for every monitor` }])
      : Effect.flatMap(
        monitor(monitorId),
        (found) =>
          found === undefined
            ? Effect.succeed([{ outside: `${what} of unknown monitor ${monitorId}` }])
            : ofMonitor(found)
      )
  return { model, models, ofExperiment, ofPipeline, ofMonitor, ofMonitorId, monitor }
}
type Lookups = ReturnType<typeof makeLookups>

const notFoundAsUntouched = <A>(effect: Effect.Effect<A, StorageError | { readonly _tag: string }, AppServices>) =>
  // An unknown id touches nothing: the handler answers its 404.
  effect.pipe(Effect.catchIf((e) => e._tag !== "StorageError", () => Effect.succeed(undefined))) as Lookup<
    A | undefined
  >

type Fields = { readonly [key: string]: unknown }
const fields = (value: unknown): Fields => (typeof value === "object" && value !== null ? value as Fields : {})

/** The models a request touches, by resource; undefined: it touches none (or answers a list, filtered later). */
const touchedBy = (
  endpoint: Endpoint,
  input: ConfinedInput,
  lookups: Lookups
): Lookup<ReadonlyArray<Touched> | undefined> => {
  const params = fields(input.params)
  const query = fields(input.query)
  const body = fields(input.body)
  const id = params.id as string | undefined
  const none = Effect.succeed(undefined)
  switch (endpoint.resource) {
    case "Models": {
      if (endpoint.operationId === "registerModel" || endpoint.operationId === "createRegisteredModel") {
        return Effect.succeed([{ name: body.name as string }])
      }
      // A search names no model up front: its answer is filtered to the key's models instead.
      if (endpoint.operationId === "searchModels") return none
      if (params.name !== undefined) return Effect.succeed([{ name: params.name as string }])
      if (id !== undefined) {
        return notFoundAsUntouched(ModelRegistry.ModelRegistry.use((r) => r.getModel(id))).pipe(
          Effect.map((model) => model === undefined ? undefined : [{ name: model.name }])
        )
      }
      // The model list is paginated by the store: a confined key lists by ?name= inside its patterns.
      return Effect.succeed([{ name: (query.name as string | undefined) ?? "*" }])
    }
    case "Experiments": {
      if (endpoint.operationId === "createExperiment") {
        const variants = (body.variants ?? []) as ReadonlyArray<{ readonly modelId: string }>
        return lookups.models(variants.map((v) => v.modelId), "variant model")
      }
      if (endpoint.operationId === "getServed") {
        // What served a user names an experiment (its variants' models) or a model name.
        if (query.model !== undefined) return Effect.succeed([{ name: query.model as string }])
        const experimentId = query.experimentId as string | undefined
        return experimentId === undefined ? none : notFoundAsUntouched(
          AbTests.AbTests.use((t) => t.getExperiment(experimentId))
        ).pipe(Effect.flatMap((experiment) => experiment === undefined ? none : lookups.ofExperiment(experiment)))
      }
      if (id === undefined) return none
      return notFoundAsUntouched(AbTests.AbTests.use((t) => t.getExperiment(id))).pipe(
        Effect.flatMap((experiment) => experiment === undefined ? none : lookups.ofExperiment(experiment))
      )
    }
    case "Pipelines": {
      if (endpoint.operationId === "createPipeline") {
        return Effect.map(lookups.model(body.modelId as string, "model"), (t) => [t])
      }
      if (id === undefined) return none
      return notFoundAsUntouched(OnlineLearner.OnlineLearner.use((l) => l.getPipeline(id))).pipe(
        Effect.flatMap((pipeline) => pipeline === undefined ? none : lookups.ofPipeline(pipeline))
      )
    }
    case "Drift": {
      if (endpoint.operationId === "createMonitor") {
        const modelId = (body.modelId ?? null) as string | null
        return modelId === null
          ? Effect.succeed([{ outside: "a monitor tied to no model" }])
          : Effect.map(lookups.model(modelId, "model"), (t) => [t])
      }
      if (endpoint.operationId === "createWebhook") {
        return lookups.ofMonitorId((body.monitorId ?? null) as string | null, "a webhook")
      }
      if (endpoint.operationId === "getDriftReports") {
        const monitorId = query.monitorId as string | undefined
        return monitorId === undefined ? none : lookups.ofMonitorId(monitorId, "reports")
      }
      if (id === undefined) return none
      if (endpoint.path.startsWith("/v1/drift/reports/")) {
        // A report touches what its monitor touches; an unknown one touches nothing (the handler's 404).
        return DriftDetector.DriftDetector.use((d) => d.getDriftReport(id)).pipe(
          Effect.flatMap((report) => report === undefined ? none : lookups.ofMonitorId(report.monitorId, "reports"))
        )
      }
      if (endpoint.path.startsWith("/v1/drift/webhooks/")) {
        return DriftDetector.DriftDetector.use((d) => d.listWebhooks()).pipe(
          Effect.flatMap((hooks) => {
            const hook = hooks.find((h) => h.id === id)
            return hook === undefined ? none : lookups.ofMonitorId(hook.monitorId, `webhook ${id}`)
          })
        )
      }
      return Effect.flatMap(
        lookups.monitor(id),
        (monitor) => monitor === undefined ? none : lookups.ofMonitor(monitor)
      )
    }
    case "Access":
      return Effect.succeed(endpoint.permission === "keys:manage" ? [{ outside: "key management" }] : undefined)
    case "Operations":
      return none
  }
}

const refusal = (principal: Access.Principal, touched: ReadonlyArray<Touched>) => {
  for (const t of touched) {
    const what = "outside" in t ? t.outside : mayTouchModel(principal, t.name) ? undefined : `model ${t.name}`
    if (what !== undefined) return outsideModels(principal, what)
  }
  return undefined
}

const inside = (principal: Access.Principal) => (touched: ReadonlyArray<Touched>) =>
  refusal(principal, touched) === undefined

/** Keeps the items of `{ items }` whose touched models are all inside. */
const filterItems = <A>(
  value: unknown,
  principal: Access.Principal,
  touchedOf: (item: A) => Lookup<ReadonlyArray<Touched>>
): Lookup<unknown> => {
  const items = fields(value).items as ReadonlyArray<A>
  return Effect.filter(items, (item) => Effect.map(touchedOf(item), inside(principal))).pipe(
    Effect.map((kept) => ({ ...fields(value), items: kept }))
  )
}

export const confinement: Confine<AppServices> = {
  check: (principal, endpoint, input) =>
    Effect.flatMap(touchedBy(endpoint, input, makeLookups()), (touched) => {
      const denied = touched === undefined ? undefined : refusal(principal, touched)
      return denied === undefined ? Effect.void : Effect.fail(denied)
    }),
  filter: (principal, endpoint, value) => {
    const lookups = makeLookups()
    switch (endpoint.operationId) {
      case "searchModels":
        return filterItems<{ readonly name: string }>(
          value,
          principal,
          (model) => Effect.succeed([{ name: model.name }])
        )
      case "listExperiments":
        return filterItems(value, principal, lookups.ofExperiment)
      case "listPipelines":
        return filterItems(value, principal, lookups.ofPipeline)
      case "listMonitors":
        return filterItems(value, principal, lookups.ofMonitor)
      case "listWebhooks":
        return filterItems<Webhook>(value, principal, (hook) => lookups.ofMonitorId(hook.monitorId, "a webhook"))
      case "getDriftReports":
        return filterItems<{ readonly monitorId: string }>(
          value,
          principal,
          (report) => lookups.ofMonitorId(report.monitorId, "reports")
        )
      default:
        return Effect.succeed(value)
    }
  }
}
