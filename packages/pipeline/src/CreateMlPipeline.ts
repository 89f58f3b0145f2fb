/**
 * The Promise entry for services that do not use Effect: `createMlPipeline(config)` builds the
 * layers of MlPipeline.ts once and hands back the four use cases with every method returning a
 * Promise. A typed failure is thrown as the SDK's error class for its tag (the same classes and
 * problem fields a client of the server sees); a defect is thrown as InternalError with the
 * defect as `cause`. `start()` runs the background work, `close()` stops it and releases what the
 * pipeline opened (never a Redis client the host passed in).
 */
import { problem, problemFromError } from "@org/ml-api"
import {
  AbTests,
  CreateExperimentInput,
  CreateMonitorInput,
  CreatePipelineInput,
  CreateRegisteredModelInput,
  CreateWebhookInput,
  decodeInput,
  DriftDetector,
  ListModelsQuery,
  ListRegisteredModelsQuery,
  ModelRegistry,
  OnlineLearner,
  RegisterModelInput,
  SetAliasInput,
  type StorageError,
  UpdateModelInput,
  UpdateRegisteredModelInput
} from "@org/ml-core"
import { errorClasses, InternalError, type MlApiError } from "@org/ml-sdk"
import { Cause, Context, Effect, Exit, Fiber, Layer, ManagedRuntime } from "effect"
import * as MlPipeline from "./MlPipeline.js"
import * as UseCases from "./UseCases.js"

/** The methods of an Effect service shape, each returning a Promise of its success value. */
export type Promisified<Shape, Omitted extends keyof Shape = never> = {
  readonly [K in Exclude<keyof Shape, Omitted>]: Shape[K] extends
    (...args: infer Args) => Effect.Effect<infer A, infer _E, never> ? (...args: Args) => Promise<A> : never
}

/** Methods the pipeline runs itself (background work, gauges, readiness) rather than exposing per use case. */
type RegistryInternals = "refreshGauges" | "ping"
type ExperimentInternals = "refreshGauges"
type DriftInternals = "monitorAllFeatures"
type LearningInternals = "runScheduler" | "refreshGauges"

export interface MlPipelineInstance {
  /** Models, versions, lifecycle, artifacts and their audit trail (the server's /v1/models). */
  readonly registry: Promisified<ModelRegistry.ModelRegistryShape, RegistryInternals>
  /** A/B tests and bandits between models (the server's /v1/experiments). */
  readonly experiments: Promisified<AbTests.AbTestsShape, ExperimentInternals>
  /** Drift monitors, baselines, observations, checks, reports and webhooks (the server's /v1/drift). */
  readonly drift: Promisified<DriftDetector.DriftDetectorShape, DriftInternals>
  /** Online-learning pipelines (the server's /v1/pipelines). */
  readonly learning: Promisified<OnlineLearner.OnlineLearnerShape, LearningInternals>
  /**
   * Rebuilds the storage-derived gauges on the metrics registry (models per status, artifact
   * sizes, running experiments, pipeline progress); call it before rendering the registry.
   */
  readonly refreshMetrics: () => Promise<void>
  /** Resolves when storage answers (a readiness probe). */
  readonly ping: () => Promise<void>
  /** Starts the drift scheduler, learning scheduler and bandit reweighting (once; later calls do nothing). */
  readonly start: () => void
  /** Stops the background work and releases what the pipeline opened; a host's Redis client stays open. */
  readonly close: () => Promise<void>
  /** The Effect runtime holding the services, for code that mixes both styles. */
  readonly runtime: ManagedRuntime.ManagedRuntime<MlPipeline.Services, StorageError>
}

/** The thrown form of a failed call: the SDK's class for a typed error, InternalError for a defect. */
export const toThrown = (cause: Cause.Cause<unknown>): MlApiError => {
  const failure = cause.reasons.find(Cause.isFailReason)
  const typed = failure === undefined ? undefined : problemFromError(failure.error, "")
  const defect = () => `ML Pipeline failed: ${String(Cause.squash(cause))}`
  const thrown = typed === undefined
    ? new InternalError(problem("InternalError", defect()))
    : new errorClasses[typed.code as keyof typeof errorClasses](typed)
  Object.defineProperty(thrown, "cause", {
    value: failure === undefined ? Cause.squash(cause) : failure.error,
    enumerable: false
  })
  return thrown
}

/**
 * The request records a caller passes, decoded with the schemas the server decodes its request
 * bodies with: a caller without types (or with a cast) gets the server's ValidationError naming
 * the field and its limit, never a defect or a stored record the server would have refused.
 * Each entry: the argument's position and its decoder.
 */
type Decoders = Readonly<Record<string, readonly [number, (input: unknown) => Effect.Effect<unknown, unknown>]>>

const decoders: { readonly [Service in "registry" | "experiments" | "drift" | "learning"]: Decoders } = {
  registry: {
    registerModel: [0, decodeInput(RegisterModelInput, "model metadata")],
    updateModel: [1, decodeInput(UpdateModelInput, "model update")],
    listModels: [0, (query) => decodeInput(ListModelsQuery, "model query")(query ?? {})],
    createRegisteredModel: [0, decodeInput(CreateRegisteredModelInput, "registered model")],
    updateRegisteredModel: [1, decodeInput(UpdateRegisteredModelInput, "registered model update")],
    listRegisteredModels: [0, (query) => decodeInput(ListRegisteredModelsQuery, "registered model query")(query ?? {})],
    setAlias: [2, decodeInput(SetAliasInput, "alias target")]
  },
  experiments: { createExperiment: [0, decodeInput(CreateExperimentInput, "experiment")] },
  drift: {
    createMonitor: [0, decodeInput(CreateMonitorInput, "monitor")],
    createWebhook: [0, decodeInput(CreateWebhookInput, "webhook")]
  },
  learning: { createPipeline: [0, decodeInput(CreatePipelineInput, "pipeline")] }
}

const promisify = <Shape extends object, Omitted extends keyof Shape>(
  service: Shape,
  omitted: ReadonlyArray<Omitted>,
  inputs: Decoders,
  run: <A>(effect: Effect.Effect<A, unknown, never>) => Promise<A>
): Promisified<Shape, Omitted> =>
  Object.fromEntries(
    Object.entries(service)
      .filter(([name, method]) => typeof method === "function" && !omitted.includes(name as Omitted))
      .map(([name, method]) => {
        const call = method as (...args: ReadonlyArray<unknown>) => Effect.Effect<unknown, unknown>
        const decoder = inputs[name]
        return [
          name,
          (...args: ReadonlyArray<unknown>) =>
            run(
              decoder === undefined ? call(...args) : Effect.flatMap(decoder[1](args[decoder[0]]), (decoded) => {
                const decodedArgs = [...args]
                decodedArgs[decoder[0]] = decoded
                return call(...decodedArgs)
              })
            )
        ]
      })
  ) as Promisified<Shape, Omitted>

/**
 * Builds the pipeline: validates the configuration (the SDK's ValidationError names the field and
 * its limit), connects to storage (rejects with StorageError when it does not answer) and returns
 * the use cases. Nothing runs in the background until `start()`.
 */
export const createMlPipeline = async (config: MlPipeline.MlPipelineConfig = {}): Promise<MlPipelineInstance> => {
  const built = MlPipeline.layer(config)
  const runtime = ManagedRuntime.make(built)
  let context: Context.Context<MlPipeline.Services>
  try {
    context = await runtime.context()
  } catch (error) {
    await runtime.dispose()
    const cause = (error as { cause?: unknown } | null)?.cause
    throw Cause.isCause(cause) ? toThrown(cause) : error
  }
  let closing: Promise<void> | undefined
  let background: Fiber.Fiber<never, StorageError> | undefined
  const run = async <A>(effect: Effect.Effect<A, unknown, MlPipeline.Services>): Promise<A> => {
    if (closing !== undefined) throw new Error("This ML Pipeline is closed")
    const exit = await runtime.runPromiseExit(effect)
    if (Exit.isSuccess(exit)) return exit.value
    throw toThrown(exit.cause)
  }
  return {
    registry: promisify(
      Context.get(context, ModelRegistry.ModelRegistry),
      ["refreshGauges", "ping"],
      decoders.registry,
      run
    ),
    experiments: promisify(Context.get(context, AbTests.AbTests), ["refreshGauges"], decoders.experiments, run),
    drift: promisify(Context.get(context, DriftDetector.DriftDetector), ["monitorAllFeatures"], decoders.drift, run),
    learning: promisify(
      Context.get(context, OnlineLearner.OnlineLearner),
      ["runScheduler", "refreshGauges"],
      decoders.learning,
      run
    ),
    refreshMetrics: () => run(UseCases.refreshGauges),
    ping: () => run(ModelRegistry.ModelRegistry.use((registry) => registry.ping())),
    start: () => {
      if (closing !== undefined) throw new Error("This ML Pipeline is closed")
      background ??= runtime.runFork(Layer.launch(MlPipeline.background(config)))
    },
    close: () =>
      closing ??= (async () => {
        // The background fibers stop before the stores they use are released.
        if (background !== undefined) await runtime.runPromise(Fiber.interrupt(background))
        await runtime.dispose()
      })(),
    runtime
  }
}
