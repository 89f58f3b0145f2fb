/**
 * Composition root: configuration picks the adapters (Redis for metadata when ML_REDIS_URL is
 * set, the filesystem otherwise; artifacts always on the filesystem), one ManagedRuntime is
 * built from their layers at start-up, and the Node HTTP server serves the Hono app until a
 * graceful shutdown.
 */
import { serve } from "@hono/node-server"
import { FsArtifactStore, FsDriftStore, FsExperimentStore, FsModelStore, FsPipelineStore } from "@org/ml-adapter-fs"
import { PrometheusMetrics, type Registry } from "@org/ml-adapter-prometheus"
import {
  RedisClient,
  RedisDriftStore,
  RedisExperimentStore,
  RedisModelStore,
  RedisPipelineStore
} from "@org/ml-adapter-redis"
import {
  AbTests,
  type ArtifactStore,
  DriftDetector,
  type DriftStore,
  type ExperimentStore,
  Leases,
  type MetricsSink,
  ModelRegistry,
  type ModelStore,
  OnlineLearner,
  type PipelineStore,
  type StorageError
} from "@org/ml-core"
import { Effect, Fiber, Layer, ManagedRuntime } from "effect"
import type { AddressInfo } from "node:net"
import * as path from "node:path"
import { type AppOptions, makeApp } from "./App.js"
import type { ServerConfig } from "./Config.js"

type Stores =
  | ModelStore.ModelStore
  | ArtifactStore.ArtifactStore
  | ExperimentStore.ExperimentStore
  | DriftStore.DriftStore
  | PipelineStore.PipelineStore
  | Leases.Leases

/** Redis for metadata, experiments and assignments when ML_REDIS_URL is set (one shared connection); files otherwise. */
export const makeStorageLayer = (config: ServerConfig): Layer.Layer<Stores, StorageError> => {
  const directory = path.resolve(config.storageDir)
  if (config.redisUrl === undefined) {
    // One process owns the directory, so in-process leases are enough.
    return Layer.mergeAll(
      FsModelStore.layer({ directory }),
      FsArtifactStore.layer({ directory }),
      FsExperimentStore.layer({ directory }),
      FsDriftStore.layer({ directory }),
      FsPipelineStore.layer({ directory }),
      Leases.layerMemory
    )
  }
  const client = RedisClient.layer({ url: config.redisUrl, prefix: config.redisPrefix })
  return Layer.mergeAll(
    RedisModelStore.layer,
    RedisExperimentStore.layer,
    RedisDriftStore.layer,
    RedisPipelineStore.layer
  ).pipe(
    Layer.provide(client),
    Layer.merge(FsArtifactStore.layer({ directory }))
  )
}

export type ServerServices =
  | AbTests.AbTests
  | ModelRegistry.ModelRegistry
  | DriftDetector.DriftDetector
  | OnlineLearner.OnlineLearner
  | Stores
  | MetricsSink.MetricsSink

/** Drift alerts (not recoveries) mark the pipelines watching that monitor: adaptive ones update at once. */
const driftAlertsReachPipelines = Layer.effectDiscard(Effect.gen(function*() {
  const drift = yield* DriftDetector.DriftDetector
  const learner = yield* OnlineLearner.OnlineLearner
  yield* drift.setAlertCallback((alert) => {
    if (alert.kind !== "recovery") Effect.runFork(learner.notifyDrift(alert.monitorId))
  })
}))

export const makeRuntime = (
  config: ServerConfig,
  metricsRegistry: Registry
): ManagedRuntime.ManagedRuntime<ServerServices, StorageError> =>
  ManagedRuntime.make(driftAlertsReachPipelines.pipe(Layer.provideMerge(
    Layer.mergeAll(
      AbTests.layer({
        ...AbTests.defaultAbTestSettings,
        stickyAssignment: config.abStickyAssignment,
        minSamplesPerVariant: config.abMinSamples
      }),
      DriftDetector.layer({
        defaults: {
          pValueThreshold: config.driftThreshold,
          windowSize: config.driftWindowSize,
          checkIntervalSeconds: config.driftCheckIntervalSeconds
        }
      }),
      OnlineLearner.layer({
        strategy: config.onlineStrategy,
        batchSize: config.onlineBatchSize,
        maxBufferSize: config.onlineMaxBuffer
      })
    ).pipe(
      Layer.provideMerge(
        ModelRegistry.layer({ demoteProductionTo: config.demoteProductionTo, maxArtifactBytes: config.maxUploadBytes })
      ),
      Layer.provideMerge(Layer.merge(makeStorageLayer(config), PrometheusMetrics.layer(metricsRegistry)))
    )
  )))

export interface RunningServer {
  readonly url: string
  readonly close: () => Promise<void>
}

/** The Hono app wired to a runtime and a Prometheus registry as configured. */
export const makeServerApp = (
  config: ServerConfig,
  runtime: ReturnType<typeof makeRuntime>,
  metricsRegistry: Registry,
  log: (line: string) => void,
  extra: Pick<AppOptions, "validateResponses"> = {}
) =>
  makeApp({
    ...extra,
    runtime,
    httpMetrics: PrometheusMetrics.makeHttpMetrics(metricsRegistry),
    maxJsonBytes: config.maxJsonBytes,
    maxUploadBytes: config.maxUploadBytes,
    apiToken: config.apiToken,
    log,
    metrics: async () => {
      await runtime.runPromise(Effect.all([
        ModelRegistry.ModelRegistry.use((registry) => registry.refreshGauges()),
        AbTests.AbTests.use((ab) => ab.refreshGauges()),
        OnlineLearner.OnlineLearner.use((learner) => learner.refreshGauges())
      ], { discard: true })).catch((error) => log(`Could not refresh gauges: ${String(error)}`))
      return { contentType: metricsRegistry.contentType, body: await metricsRegistry.metrics() }
    }
  })

/** Builds every layer (failing fast on bad storage), then listens; `close` drains in-flight requests. */
export const startServer = async (
  config: ServerConfig,
  log: (line: string) => void = console.error
): Promise<RunningServer> => {
  const metricsRegistry = PrometheusMetrics.makeRegistry()
  const runtime = makeRuntime(config, metricsRegistry)
  try {
    await runtime.runPromise(ModelRegistry.ModelRegistry.use((registry) => registry.ping()))
  } catch (error) {
    await runtime.dispose()
    throw error
  }
  const app = makeServerApp(config, runtime, metricsRegistry, log)
  // Bandit experiments are reweighted on a schedule (and on demand through the API).
  const reweighting = config.abReweightIntervalSeconds > 0
    ? setInterval(() => {
      void runtime.runPromise(
        AbTests.AbTests.use((ab) =>
          ab.listExperiments().pipe(Effect.flatMap((all) =>
            Effect.forEach(
              all.filter((e) => e.mode === "bandit" && e.status === "running"),
              (e) => Effect.ignore(ab.reweight(e.id)),
              { discard: true }
            )
          ))
        )
      )
        .catch((error) => log(`Bandit reweighting failed: ${String(error)}`))
    }, config.abReweightIntervalSeconds * 1000)
    : undefined
  reweighting?.unref()
  // monitorAllFeatures: one fiber per instance; leases make each monitor's check happen once per interval.
  const instance = `instance-${process.pid}-${Math.random().toString(36).slice(2, 8)}`
  const scheduler = runtime.runFork(
    DriftDetector.DriftDetector.use((d) => d.monitorAllFeatures(instance, config.driftTickMillis))
  )
  // Periodic and adaptive pipelines and retries; leases make each pipeline update on one instance.
  const learning = runtime.runFork(OnlineLearner.OnlineLearner.use((l) => l.runScheduler(instance)))
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, () => resolve(s))
  })
  const address = server.address() as AddressInfo
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address
  let closing: Promise<void> | undefined
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      closing ??= new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          log("Shutdown timeout reached; closing remaining connections")
          ;(server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.()
        }, config.shutdownTimeoutMs)
        server.close(() => {
          clearTimeout(force)
          resolve()
        })
        ;(server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.()
      }).then(async () => {
        if (reweighting) clearInterval(reweighting)
        await runtime.runPromise(Fiber.interruptAll([scheduler, learning]))
        return runtime.dispose()
      })
  }
}
