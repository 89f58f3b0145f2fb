/**
 * The library entry as Effect layers: `layer(config)` gives the four use cases over the stores the
 * configuration picks (memory, a data directory, or Redis for records with artifacts in the data
 * directory), with the metrics sink on the host's prom-client registry; `background(config)` is the
 * drift scheduler, learning scheduler and bandit reweighting, under leases as in the server. The
 * Promise entry (`createMlPipeline`) is built from these, and the server composes its use cases
 * through the same `UseCases.layer`, so every style behaves as the server does.
 */
import {
  FsArtifactStore,
  FsDriftStore,
  FsExperimentStore,
  FsModelStore,
  FsPipelineStore,
  InstanceFile
} from "@org/ml-adapter-fs"
import { PrometheusMetrics, type Registry } from "@org/ml-adapter-prometheus"
import {
  RedisClient,
  RedisDriftStore,
  RedisExperimentStore,
  RedisModelStore,
  RedisPipelineStore
} from "@org/ml-adapter-redis"
import { problem } from "@org/ml-api"
import {
  ArtifactStore,
  type DriftAlerts,
  DriftStore,
  ExperimentStore,
  Leases,
  MetricsSink,
  ModelStore,
  PipelineStore,
  type StorageError
} from "@org/ml-core"
import { ValidationError } from "@org/ml-sdk"
import { Layer } from "effect"
import * as path from "node:path"
import * as BackgroundWork from "./BackgroundWork.js"
import * as UseCases from "./UseCases.js"

export interface PipelineSettings extends UseCases.UseCaseSettings {
  /** How often each instance looks for drift monitors due a check, in ms. */
  readonly driftTickMillis: number
  /** Seconds between Thompson-sampling reweights of running bandit experiments (0: only on demand). */
  readonly abReweightIntervalSeconds: number
  /** Seconds between safe-rollout checks (guardrails, ramps) of running experiments (0: only at results looks). */
  readonly abSafeRolloutIntervalSeconds: number
  /** Seconds the sticky assignments of a completed experiment are kept (Redis: a TTL set at completion). */
  readonly abAssignmentRetentionSeconds: number
  /** Milliseconds between deliveries of registry events to webhooks (0: this instance does not deliver). */
  readonly registryEventsTickMillis: number
}

/** The server's defaults (README "Configuration" lists each with its ML_* variable). */
export const defaultSettings: PipelineSettings = {
  demoteProductionTo: "archived",
  maxUploadBytes: 10 * 1024 ** 3,
  abStickyAssignment: true,
  abMinSamples: 1000,
  abReweightIntervalSeconds: 300,
  abSafeRolloutIntervalSeconds: 60,
  abAssignmentRetentionSeconds: 30 * 86_400,
  driftThreshold: 0.05,
  driftWindowSize: 1000,
  driftCheckIntervalSeconds: 300,
  driftTickMillis: 1000,
  registryEventsTickMillis: 1000,
  onlineStrategy: "mini-batch",
  onlineBatchSize: 100,
  onlineMaxBuffer: 100_000,
  webhookAllowPrivate: false,
  metricsMaxAgeMs: 10_000
}

export interface MlPipelineConfig {
  /**
   * Redis for records (shared by every instance on the same prefix): a connected ioredis client
   * (`Redis` or `Cluster`) the host owns and keeps open after `close()`, or a `redis://` /
   * `rediss://` URL to connect to (closed by `close()`).
   */
  readonly redis?: RedisClient.RedisConnection | string | undefined
  /** Prefix of every Redis key (default none). */
  readonly redisPrefix?: string | undefined
  /**
   * The data directory: artifacts always (unless `memory`), records too without Redis
   * (default `./.ml-data`). One process owns it at a time.
   */
  readonly storageDir?: string | undefined
  /** Everything in memory: for tests and trials; nothing survives `close()`. */
  readonly memory?: boolean | undefined
  /** The host's prom-client registry: our metrics are registered on it (default: kept in memory only). */
  readonly metrics?: Registry | undefined
  readonly settings?: Partial<PipelineSettings> | undefined
  /** Where background work reports failures (default: stderr). */
  readonly log?: ((line: string) => void) | undefined
}

const invalid = (field: string, message: string) =>
  new ValidationError(problem("ValidationError", `${field} ${message}`, {
    errors: [{ path: field, message }]
  }))

const wholeIn = (min: number, max: number) => (value: unknown) =>
  Number.isInteger(value) && (value as number) >= min && (value as number) <= max
    ? undefined
    : `must be a whole number from ${min} to ${max}, got ${String(value)}`
const oneOf = (allowed: ReadonlyArray<string>) => (value: unknown) =>
  allowed.includes(value as string) ? undefined : `must be one of ${allowed.join(", ")}, got ${String(value)}`
const flag = (value: unknown) => typeof value === "boolean" ? undefined : `must be true or false, got ${String(value)}`

/** The same bounds as the server's ML_* variables (apps/server/src/Config.ts). */
const rules: { readonly [K in keyof PipelineSettings]: (value: unknown) => string | undefined } = {
  demoteProductionTo: oneOf(["archived", "staging"]),
  maxUploadBytes: wholeIn(0, Number.MAX_SAFE_INTEGER),
  abStickyAssignment: flag,
  abMinSamples: wholeIn(2, Number.MAX_SAFE_INTEGER),
  abReweightIntervalSeconds: wholeIn(0, 86_400),
  abSafeRolloutIntervalSeconds: wholeIn(0, 86_400),
  abAssignmentRetentionSeconds: wholeIn(1, 100 * 365 * 86_400),
  driftThreshold: (value) =>
    typeof value === "number" && value > 0 && value < 1
      ? undefined
      : `must be a number strictly between 0 and 1, got ${String(value)}`,
  driftWindowSize: wholeIn(10, 1_000_000),
  driftCheckIntervalSeconds: wholeIn(1, 86_400 * 7),
  driftTickMillis: wholeIn(10, 3_600_000),
  registryEventsTickMillis: wholeIn(0, 3_600_000),
  onlineStrategy: oneOf(["incremental", "mini-batch", "periodic", "adaptive"]),
  onlineBatchSize: wholeIn(1, 10_000_000),
  onlineMaxBuffer: wholeIn(1, 10_000_000),
  webhookAllowPrivate: flag,
  metricsMaxAgeMs: wholeIn(0, 3_600_000)
}

/** The settings with defaults filled in; throws the SDK's ValidationError naming the first bad field and its limit. */
export const resolveSettings = (config: MlPipelineConfig): PipelineSettings => {
  if (config.memory === true && config.redis !== undefined) {
    throw invalid("memory", "cannot be combined with redis: choose memory for tests or Redis for shared records")
  }
  if (config.memory === true && config.storageDir !== undefined) {
    throw invalid("memory", "cannot be combined with storageDir: memory keeps nothing on disk")
  }
  if (typeof config.redis === "string" && !/^rediss?:\/\//.test(config.redis)) {
    throw invalid("redis", "must be an ioredis client or a URL starting with redis:// or rediss://")
  }
  const given = config.settings ?? {}
  for (const key of Object.keys(given)) {
    if (!Object.hasOwn(rules, key)) {
      throw invalid(`settings.${key}`, `is not a setting; known: ${Object.keys(rules).join(", ")}`)
    }
  }
  const settings: PipelineSettings = {
    ...defaultSettings,
    ...Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined))
  }
  for (const [key, rule] of Object.entries(rules)) {
    const problemText = rule(settings[key as keyof PipelineSettings])
    if (problemText !== undefined) throw invalid(`settings.${key}`, problemText)
  }
  if (settings.onlineBatchSize > settings.onlineMaxBuffer) {
    throw invalid(
      "settings.onlineBatchSize",
      `must be at most settings.onlineMaxBuffer (${settings.onlineMaxBuffer}), got ${settings.onlineBatchSize}`
    )
  }
  return settings
}

const directoryOf = (config: MlPipelineConfig) => path.resolve(config.storageDir ?? "./.ml-data")

/** The Redis connection: the host's client as it is (not closed, no instance marker), or one of our own. */
const redisClientLayer = (
  redis: RedisClient.RedisConnection | string,
  config: MlPipelineConfig
): Layer.Layer<RedisClient.RedisClient, StorageError> =>
  typeof redis !== "string"
    ? RedisClient.layerFromClient(redis, config.redisPrefix ?? "")
    : RedisClient.layer({
      url: redis,
      prefix: config.redisPrefix ?? "",
      // As the server does: the data directory remembers the Redis, so an emptied one is refused.
      remembered: InstanceFile.open(path.join(directoryOf(config), "redis-instance.json")),
      settingNames: { connection: "the redis option", tlsCa: "the TLS CA file" },
      log: config.log
    })

/** The stores the configuration picks: memory, Redis (artifacts in the data directory), or the data directory. */
export const storesLayer = (config: MlPipelineConfig): Layer.Layer<UseCases.Stores, StorageError> => {
  const settings = resolveSettings(config)
  if (config.memory === true) {
    return Layer.mergeAll(
      ModelStore.layerMemory,
      ArtifactStore.layerMemory,
      ExperimentStore.layerMemory,
      DriftStore.layerMemory,
      PipelineStore.layerMemory,
      Leases.layerMemory
    )
  }
  const directory = directoryOf(config)
  const artifacts = FsArtifactStore.layer({ directory })
  if (config.redis === undefined) {
    // One process owns the directory, so in-process leases are enough.
    return Layer.mergeAll(
      FsModelStore.layer({ directory }),
      artifacts,
      FsExperimentStore.layer({ directory }),
      FsDriftStore.layer({ directory }),
      FsPipelineStore.layer({ directory }),
      Leases.layerMemory
    )
  }
  return Layer.mergeAll(
    RedisModelStore.layer,
    RedisExperimentStore.layerWith({ assignmentRetentionSeconds: settings.abAssignmentRetentionSeconds }),
    // Drift records and the leases every instance's background work takes.
    RedisDriftStore.layer,
    RedisPipelineStore.layer
  ).pipe(Layer.provide(redisClientLayer(config.redis, config)), Layer.merge(artifacts))
}

/** Our metrics on the host's registry, or kept in memory when there is none. */
export const metricsLayer = (config: MlPipelineConfig): Layer.Layer<MetricsSink.MetricsSink> =>
  config.metrics === undefined ? MetricsSink.layerMemory : PrometheusMetrics.layer(config.metrics)

export type Services = UseCases.UseCases | UseCases.Stores | MetricsSink.MetricsSink | DriftAlerts.DriftAlerts

/**
 * The four use cases over the configured stores, with the server's behaviour. Bad settings throw
 * the SDK's ValidationError when this is called; unreachable storage fails the layer's build.
 */
export const layer = (config: MlPipelineConfig = {}): Layer.Layer<Services, StorageError> =>
  UseCases.layer(resolveSettings(config)).pipe(
    Layer.provideMerge(Layer.merge(storesLayer(config), metricsLayer(config)))
  )

/**
 * The drift scheduler, learning scheduler and bandit reweighting, running while this layer is
 * (`Layer.launch` it, or provide it in a scope). Several instances on one Redis share the work
 * through leases: each check or update runs on one of them.
 */
export const background = (
  config: MlPipelineConfig = {}
): Layer.Layer<never, never, UseCases.UseCases | Leases.Leases> => {
  const settings = resolveSettings(config)
  return BackgroundWork.backgroundWork(settings, config.log ?? ((line) => console.error(line)))
}
