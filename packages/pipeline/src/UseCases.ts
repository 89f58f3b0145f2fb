/**
 * The four use cases (registry, experiments, drift, learning) composed over whatever stores and
 * metrics sink are provided, with the settings that shape their behaviour. The server's runtime
 * and the library entry (MlPipeline.ts) both build them here, so an embedded pipeline behaves as
 * the server does by construction. Drift alerts (not recoveries) mark the pipelines watching that
 * monitor, so adaptive ones update at once.
 */
import {
  AbTests,
  type ArtifactStore,
  DriftAlerts,
  DriftDetector,
  type DriftStore,
  type ExperimentStore,
  GuardrailAlerts,
  type Leases,
  type MetricsSink,
  ModelRegistry,
  type ModelStore,
  OnlineLearner,
  type PipelineStore,
  RegistryEventDelivery,
  type StorageError,
  StorageGauges
} from "@org/ml-core"
import { Effect, Layer, PubSub } from "effect"
import * as WebhookTargets from "./WebhookTargets.js"

/** What the use cases are configured with; the server reads each from its ML_* variable of the same meaning. */
export interface UseCaseSettings {
  /** Where the previous production version goes when another is promoted. */
  readonly demoteProductionTo: "archived" | "staging"
  /** Largest artifact accepted, in bytes. */
  readonly maxUploadBytes: number
  /** Default for experiments that do not say: keep each user's first model. */
  readonly abStickyAssignment: boolean
  /** Default minimum samples of the target metric per variant before any decision. */
  readonly abMinSamples: number
  /** Default p-value threshold of new drift monitors. */
  readonly driftThreshold: number
  /** Default sliding-window size (values per feature). */
  readonly driftWindowSize: number
  /** Default seconds between scheduled checks of a monitor. */
  readonly driftCheckIntervalSeconds: number
  /** Defaults of new online-learning pipelines. */
  readonly onlineStrategy: "incremental" | "mini-batch" | "periodic" | "adaptive"
  readonly onlineBatchSize: number
  readonly onlineMaxBuffer: number
  /** Let webhooks point at loopback and private addresses (tests and single-host setups). */
  readonly webhookAllowPrivate: boolean
  /** How long storage-derived gauges are reused before a refresh rebuilds them, in ms (0: every refresh). */
  readonly metricsMaxAgeMs: number
}

export type UseCases =
  | ModelRegistry.ModelRegistry
  | AbTests.AbTests
  | DriftDetector.DriftDetector
  | OnlineLearner.OnlineLearner
  | RegistryEventDelivery.RegistryEventDelivery

/** The ports the use cases need from storage. */
export type Stores =
  | ModelStore.ModelStore
  | ArtifactStore.ArtifactStore
  | ExperimentStore.ExperimentStore
  | DriftStore.DriftStore
  | PipelineStore.PipelineStore
  | Leases.Leases

export interface UseCaseOptions {
  /** How webhook hosts are resolved (default: the system's DNS); tests steer it to show DNS rebinding. */
  readonly webhookResolve?: WebhookTargets.Resolve | undefined
}

/**
 * A fiber subscribed to DriftAlerts for the layer's life; a failed mark is dropped, as the alert
 * stays in its report.
 */
const driftAlertsReachPipelines = Layer.effectDiscard(Effect.gen(function*() {
  const learner = yield* OnlineLearner.OnlineLearner
  const alerts = yield* (yield* DriftAlerts.DriftAlerts).subscribe
  yield* PubSub.take(alerts).pipe(
    Effect.flatMap((alert) =>
      alert.kind === "recovery" ? Effect.void : Effect.ignore(learner.notifyDrift(alert.monitorId))
    ),
    Effect.forever,
    Effect.forkScoped
  )
}))

/** The use cases over the provided stores and metrics sink (which stay in the output, for callers that need them). */
export const layer = (
  settings: UseCaseSettings,
  options: UseCaseOptions = {}
): Layer.Layer<UseCases | DriftAlerts.DriftAlerts, never, Stores | MetricsSink.MetricsSink> => {
  // Drift alerts and registry events leave through the same guarded fetch and target rules.
  const webhookFetch = settings.webhookAllowPrivate
    ? {}
    : { fetch: WebhookTargets.guardedFetch(options.webhookResolve) }
  const webhookTargets = WebhookTargets.layer(settings.webhookAllowPrivate, options.webhookResolve)
  const drift = DriftDetector.layer({
    defaults: {
      pValueThreshold: settings.driftThreshold,
      windowSize: settings.driftWindowSize,
      checkIntervalSeconds: settings.driftCheckIntervalSeconds
    },
    ...webhookFetch
  }).pipe(Layer.provide(webhookTargets))
  const registryEvents = RegistryEventDelivery.layer(webhookFetch).pipe(Layer.provide(webhookTargets))
  return driftAlertsReachPipelines.pipe(Layer.provideMerge(
    Layer.mergeAll(
      AbTests.layer({
        ...AbTests.defaultAbTestSettings,
        stickyAssignment: settings.abStickyAssignment,
        minSamplesPerVariant: settings.abMinSamples
        // Guardrail pauses go to the drift webhooks (one detector: the layer is built once).
      }).pipe(Layer.provide(GuardrailAlerts.layerWebhooks.pipe(Layer.provide(drift)))),
      drift,
      registryEvents,
      OnlineLearner.layer({
        strategy: settings.onlineStrategy,
        batchSize: settings.onlineBatchSize,
        maxBufferSize: settings.onlineMaxBuffer
      })
    ).pipe(
      Layer.provideMerge(
        ModelRegistry.layer({
          demoteProductionTo: settings.demoteProductionTo,
          maxArtifactBytes: settings.maxUploadBytes
        })
      ),
      Layer.provide(Layer.succeed(StorageGauges.GaugeMaxAge, settings.metricsMaxAgeMs))
    )
  ))
}

/** Rebuilds the storage-derived gauges (models per status, artifact sizes, experiments, pipeline progress). */
export const refreshGauges: Effect.Effect<
  void,
  StorageError,
  ModelRegistry.ModelRegistry | AbTests.AbTests | OnlineLearner.OnlineLearner
> = Effect.all([
  ModelRegistry.ModelRegistry.use((registry) => registry.refreshGauges()),
  AbTests.AbTests.use((ab) => ab.refreshGauges()),
  OnlineLearner.OnlineLearner.use((learner) => learner.refreshGauges())
], { discard: true })
