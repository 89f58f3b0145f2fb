/**
 * Composition root: configuration picks the adapters (PostgreSQL for the durable records and Redis
 * for the hot paths when ML_DATABASE_URL and a Redis are both set, see ComposedStores.ts;
 * PostgreSQL for every record when only ML_DATABASE_URL is set, Redis for metadata when only
 * ML_REDIS_URL or ML_REDIS_CLUSTER_NODES is set, the filesystem otherwise; artifacts in an
 * S3-compatible bucket when ML_ARTIFACT_URL is set, in the data directory otherwise), one
 * ManagedRuntime is built from their layers and the background work's layers at start-up, and the
 * Node HTTP server serves the Hono app until a graceful shutdown: stop accepting, drain in-flight
 * requests, then dispose the runtime (which interrupts the background fibers, then releases
 * storage).
 */
import { serve } from "@hono/node-server"
import {
  FsArtifactStore,
  FsDriftStore,
  FsExperimentStore,
  FsKeyStore,
  FsModelStore,
  FsPipelineStore,
  FsSdkConnectionStore,
  InstanceFile
} from "@org/ml-adapter-fs"
import {
  PostgresClient,
  PostgresDriftStore,
  PostgresExperimentStore,
  PostgresKeyStore,
  PostgresLeases,
  PostgresModelStore,
  PostgresPipelineStore,
  PostgresRateLimiter,
  PostgresSdkConnectionStore
} from "@org/ml-adapter-postgres"
import { PrometheusMetrics, type Registry } from "@org/ml-adapter-prometheus"
import {
  RedisClient,
  RedisDriftStore,
  RedisExperimentStore,
  RedisKeyStore,
  RedisModelStore,
  RedisPipelineStore,
  RedisRateLimiter,
  RedisSdkConnectionStore
} from "@org/ml-adapter-redis"
import { S3ArtifactStore } from "@org/ml-adapter-s3"
import {
  AbTests,
  type ArtifactStore,
  DriftDetector,
  type KeyStore,
  Leases,
  type MetricsSink,
  ModelRegistry,
  OnlineLearner,
  RateLimiter,
  type RegistryEventDelivery,
  type SdkConnections,
  type StorageError
} from "@org/ml-core"
import { BackgroundWork, UseCases, type WebhookTargets } from "@org/ml-pipeline"
import { Layer, ManagedRuntime, Redacted } from "effect"
import type { AddressInfo } from "node:net"
import * as path from "node:path"
import { type AppOptions, makeApp } from "./App.js"
import * as ComposedStores from "./ComposedStores.js"
import type { ServerConfig } from "./Config.js"
import { makeDiskSpace } from "./DiskSpace.js"
import { makeEventStreams } from "./EventStreams.js"
import { fastPathServer } from "./FastPath.js"

type Stores = ComposedStores.RecordPorts | ArtifactStore.ArtifactStore

/** The per-key token bucket as configured; undefined when ML_RATE_LIMIT_PER_SECOND is 0 (no limit). */
const rateLimitOf = (config: ServerConfig): RateLimiter.RateLimit | undefined =>
  config.rateLimitPerSecond > 0 ? { perSecond: config.rateLimitPerSecond, burst: config.rateLimitBurst } : undefined

/**
 * PostgreSQL with Redis when both are set (ComposedStores.ts); PostgreSQL alone; Redis for
 * metadata, experiments and assignments when ML_REDIS_URL is set (one shared connection); files
 * otherwise.
 */
export const makeStorageLayer = (
  config: ServerConfig,
  log?: (line: string) => void
): Layer.Layer<Stores, StorageError> => {
  const directory = path.resolve(config.storageDir)
  const artifacts = artifactLayer(config, directory)
  const rateLimit = rateLimitOf(config)
  if (config.databaseUrl !== undefined && (config.redisUrl !== undefined || config.redisClusterNodes !== undefined)) {
    return ComposedStores.layer({
      postgres: postgresOptions(config.databaseUrl, config),
      redis: redisOptions(config, log),
      assignmentRetentionSeconds: config.abAssignmentRetentionSeconds,
      rateLimit
    }).pipe(Layer.merge(artifacts))
  }
  if (config.databaseUrl !== undefined) return postgresStores(config.databaseUrl, config, artifacts)
  if (config.redisUrl === undefined && config.redisClusterNodes === undefined) {
    // One process owns the directory, so in-process leases are enough.
    return Layer.mergeAll(
      FsModelStore.layer({ directory }),
      artifacts,
      FsExperimentStore.layer({ directory }),
      FsDriftStore.layer({ directory }),
      FsPipelineStore.layer({ directory }),
      Leases.layerMemory,
      FsKeyStore.layer({ directory }),
      FsSdkConnectionStore.layer({ directory }),
      rateLimit === undefined ? RateLimiter.layerUnlimited : RateLimiter.layerMemory(rateLimit)
    )
  }
  const client = RedisClient.layer(redisOptions(config, log))
  return Layer.mergeAll(
    RedisModelStore.layer,
    RedisExperimentStore.layerWith({ assignmentRetentionSeconds: config.abAssignmentRetentionSeconds }),
    RedisDriftStore.layer,
    RedisPipelineStore.layer,
    RedisKeyStore.layer,
    RedisSdkConnectionStore.layer,
    // Shared by every instance on the prefix, so the limit holds however many instances serve.
    rateLimit === undefined ? RateLimiter.layerUnlimited : RedisRateLimiter.layer(rateLimit)
  ).pipe(
    Layer.provide(client),
    Layer.merge(artifacts)
  )
}

/** The artifact store as configured: the bucket of ML_ARTIFACT_URL, or the data directory. */
export const artifactLayer = (
  config: ServerConfig,
  directory: string
): Layer.Layer<ArtifactStore.ArtifactStore, StorageError> => {
  const s3 = config.s3Artifacts
  if (s3 === undefined) {
    return FsArtifactStore.layer({
      directory,
      encryption: config.artifactEncryption === undefined ? undefined : Redacted.value(config.artifactEncryption)
    })
  }
  return S3ArtifactStore.layer({
    endpoint: s3.endpoint,
    region: s3.region,
    bucket: s3.bucket,
    prefix: s3.prefix,
    forcePathStyle: s3.forcePathStyle,
    credentials: Redacted.value(s3.credentials)
  })
}

/**
 * PostgreSQL for every record (one pool, migrated at start); artifacts in the data directory, so
 * several instances need it shared, as in Redis mode. Leases and rate limits are in the database
 * too, so they hold across instances.
 */
const postgresStores = (
  url: string,
  config: ServerConfig,
  artifacts: Layer.Layer<ArtifactStore.ArtifactStore, StorageError>
): Layer.Layer<Stores, StorageError> => {
  const rateLimit = rateLimitOf(config)
  return Layer.mergeAll(
    PostgresModelStore.layer,
    PostgresExperimentStore.layerWith({ assignmentRetentionSeconds: config.abAssignmentRetentionSeconds }),
    PostgresDriftStore.layer,
    PostgresLeases.layer,
    PostgresPipelineStore.layer,
    PostgresKeyStore.layer,
    PostgresSdkConnectionStore.layer,
    rateLimit === undefined ? RateLimiter.layerUnlimited : PostgresRateLimiter.layer(rateLimit)
  ).pipe(
    Layer.provide(PostgresClient.layer(postgresOptions(url, config))),
    Layer.merge(artifacts)
  )
}

/** The data directory remembers the database, so an emptied or replaced one is refused at start. */
const postgresOptions = (url: string, config: ServerConfig): PostgresClient.PostgresOptions => ({
  url,
  remembered: InstanceFile.open(path.join(path.resolve(config.storageDir), "postgres-instance.json"))
})

/**
 * The Redis connection as configured (one Redis, or a cluster from ML_REDIS_CLUSTER_NODES); the
 * instance marker is remembered in the storage directory.
 */
export const redisOptions = (
  config: ServerConfig,
  log?: (line: string) => void
): RedisClient.RedisOptions & { readonly prefix: string } => ({
  url: config.redisUrl ?? "",
  clusterNodes: config.redisClusterNodes,
  clusterCredentials: config.redisClusterCredentials === undefined
    ? undefined
    : Redacted.value(config.redisClusterCredentials),
  clusterTls: config.redisClusterTls,
  tlsCaFile: config.redisTlsCaFile,
  settingNames: {
    connection: config.redisClusterNodes === undefined ? "ML_REDIS_URL" : "ML_REDIS_CLUSTER_NODES",
    tlsCa: "ML_REDIS_TLS_CA"
  },
  prefix: config.redisPrefix,
  commandTimeoutMillis: config.redisCommandTimeoutMs,
  connectTimeoutMillis: config.redisConnectTimeoutMs,
  checkIntervalMillis: config.redisMarkerCheckMs,
  acceptEmpty: config.redisAcceptEmpty,
  remembered: InstanceFile.open(path.join(path.resolve(config.storageDir), "redis-instance.json")),
  log
})

export type ServerServices =
  | AbTests.AbTests
  | ModelRegistry.ModelRegistry
  | DriftDetector.DriftDetector
  | OnlineLearner.OnlineLearner
  | RegistryEventDelivery.RegistryEventDelivery
  | KeyStore.KeyStore
  | SdkConnections.SdkConnectionStore
  | Stores
  | MetricsSink.MetricsSink

export interface RuntimeOptions {
  /** How webhook hosts are resolved (default: the system's DNS); tests steer it to show DNS rebinding. */
  readonly webhookResolve?: WebhookTargets.Resolve | undefined
  /** Start the schedulers and bandit reweighting with the runtime (a served instance does; test apps do not). */
  readonly backgroundWork?: { readonly log: (line: string) => void } | undefined
}

export const makeRuntime = (
  config: ServerConfig,
  metricsRegistry: Registry,
  options: RuntimeOptions = {}
): ManagedRuntime.ManagedRuntime<ServerServices, StorageError> => {
  // The same composition as the library entry (@org/ml-pipeline), over the configured stores.
  const services = UseCases.layer(config, options).pipe(
    Layer.provideMerge(
      Layer.merge(makeStorageLayer(config, options.backgroundWork?.log), PrometheusMetrics.layer(metricsRegistry))
    )
  )
  // Built after the services it uses, so disposing the runtime interrupts it before they are released.
  return ManagedRuntime.make(
    options.backgroundWork === undefined
      ? services
      : BackgroundWork.backgroundWork(config, options.backgroundWork.log).pipe(Layer.provideMerge(services))
  )
}

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
  extra: Pick<AppOptions, "validateResponses" | "eventStreams"> = {}
) =>
  makeApp({
    ...extra,
    runtime,
    httpMetrics: PrometheusMetrics.makeHttpMetrics(metricsRegistry),
    maxJsonBytes: config.maxJsonBytes,
    maxUploadBytes: config.maxUploadBytes,
    corsOrigins: config.corsOrigins,
    // The data directory holds the journals, the Redis marker and (unless in S3) the artifacts.
    diskSpace: makeDiskSpace(path.resolve(config.storageDir), config.minFreeBytes),
    apiToken: config.apiToken === undefined ? undefined : Redacted.value(config.apiToken),
    log,
    rateLimit: rateLimitOf(config) === undefined
      ? undefined
      : (bucket) => runtime.runPromise(RateLimiter.RateLimiter.use((limiter) => limiter.take(bucket))),
    metrics: async () => {
      await runtime.runPromise(UseCases.refreshGauges).catch((error) =>
        log(`Could not refresh gauges: ${String(error)}`)
      )
      return { contentType: metricsRegistry.contentType, body: await PrometheusMetrics.exposition(metricsRegistry) }
    }
  })

/**
 * Builds every layer (failing fast on bad storage; the background work starts with them), then
 * listens; `close` ends the event streams, drains in-flight requests, then disposes the runtime.
 */
export const startServer = async (
  config: ServerConfig,
  log: (line: string) => void = console.error
): Promise<RunningServer> => {
  const metricsRegistry = PrometheusMetrics.makeRegistry()
  const runtime = makeRuntime(config, metricsRegistry, { backgroundWork: { log } })
  try {
    await runtime.runPromise(ModelRegistry.ModelRegistry.use((registry) => registry.ping()))
  } catch (error) {
    await runtime.dispose()
    throw error
  }
  const eventStreams = makeEventStreams()
  const app = makeServerApp(config, runtime, metricsRegistry, log, { eventStreams })
  // A taken port is an 'error' event, not a throw: reject with it so the caller can name the cause.
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({
      fetch: app.fetch,
      hostname: config.host,
      port: config.port,
      createServer: fastPathServer(app, config.fastPath)
    }, () => {
      s.off("error", reject)
      resolve(s)
    })
    s.once("error", reject)
  }).catch(async (error: unknown) => {
    await runtime.dispose()
    throw error
  })
  const address = server.address() as AddressInfo
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address
  let closing: Promise<void> | undefined
  return {
    url: `http://${host}:${address.port}`,
    close: () => {
      // Event streams never finish by themselves: ended first, they leave no connection to wait for.
      eventStreams.closeAll()
      return closing ??= drain(server, config.shutdownTimeoutMs, log).then(() => runtime.dispose())
    }
  }
}

/** Stops accepting and waits for in-flight requests; after `timeoutMs` the remaining connections are closed. */
const drain = (server: ReturnType<typeof serve>, timeoutMs: number, log: (line: string) => void) =>
  new Promise<void>((resolve) => {
    const force = setTimeout(() => {
      log("Shutdown timeout reached; closing remaining connections")
      ;(server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.()
    }, timeoutMs)
    server.close(() => {
      clearTimeout(force)
      resolve()
    })
    ;(server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.()
  })
