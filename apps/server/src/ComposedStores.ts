/**
 * The composed mode: PostgreSQL holds the durable records, Redis (or Redis Cluster) the hot paths.
 * This module is the one place that says which store serves each port method (README "Scaling
 * out" has the same split as a table):
 *
 * - PostgreSQL: models and their audit, API keys and key events, experiment definitions (and their
 *   history), drift
 *   monitors, baselines, alert states, reports, alerts, webhooks and deliveries, pipeline
 *   definitions, live learner states and update records.
 * - Redis: sticky assignments, exposure counters (also per day), metric summaries, drift
 *   observation windows, pipeline sample buffers with their counters, progressive and validation
 *   windows, rate limits and leases.
 *
 * Every port method is served by exactly one store, so each keeps its own adapter's atomicity;
 * the methods are listed one by one, so a method added to a port needs a decision here.
 * The use cases that touch both do so in steps whose order is already safe in every mode (a
 * pipeline update removes the samples it consumed before storing the state that learned them; a
 * drift check reads the window, then appends its report), and the leases in Redis make one
 * instance at a time run a given check or update. The one step that spans both stores is
 * completing an experiment: the definition commits in PostgreSQL first (compare-and-set on its
 * revision), then its assignments in Redis get their retention TTL.
 *
 * Readiness covers both: a ping reaches PostgreSQL and reads the Redis instance marker, so an
 * emptied Redis is answered 503 (as in Redis mode) until `ml-server init-redis` accepts it.
 */
import {
  PostgresClient,
  PostgresDriftStore,
  PostgresExperimentStore,
  PostgresKeyStore,
  PostgresModelStore,
  PostgresPipelineStore,
  PostgresSdkConnectionStore
} from "@org/ml-adapter-postgres"
import {
  RedisClient,
  RedisDriftStore,
  RedisExperimentStore,
  RedisPipelineStore,
  RedisRateLimiter
} from "@org/ml-adapter-redis"
import {
  DriftStore,
  type Experiment,
  ExperimentStore,
  KeyStore,
  Leases,
  ModelStore,
  type Monitor,
  PipelineStore,
  RateLimiter,
  SdkConnections,
  StaleRevisionError,
  StorageError
} from "@org/ml-core"
import { Context, Effect, Layer } from "effect"

export interface ComposedOptions {
  readonly postgres: PostgresClient.PostgresOptions
  readonly redis: RedisClient.RedisOptions
  /** Default retention of a completed experiment's sticky assignments, in seconds. */
  readonly assignmentRetentionSeconds?: number | undefined
  /** The per-key token bucket; undefined: no rate limit. */
  readonly rateLimit?: RateLimiter.RateLimit | undefined
}

/** The ports that hold records (all but artifacts), in every mode; here split over two stores. */
export type RecordPorts =
  | ModelStore.ModelStore
  | ExperimentStore.ExperimentStore
  | DriftStore.DriftStore
  | PipelineStore.PipelineStore
  | Leases.Leases
  | KeyStore.KeyStore
  | SdkConnections.SdkConnectionStore
  | RateLimiter.RateLimiter

/** Both stores answer, and Redis is still the instance this server knew. */
const pingBoth = (
  durable: () => Effect.Effect<void, StorageError>,
  hot: () => Effect.Effect<void, StorageError>
) =>
() => Effect.all([durable(), hot()], { discard: true, concurrency: 2 })

/**
 * Definitions and the running minima of always-valid p-values (written once per look, not on the
 * hot path) in PostgreSQL; assignments, exposures, metric summaries and breakdowns in Redis.
 */
export const composeExperimentStore = (
  durable: ExperimentStore.ExperimentStoreShape,
  hot: ExperimentStore.ExperimentStoreShape,
  /** Gives a completed experiment's Redis assignments their retention TTL. */
  expireAssignments: (experiment: Experiment) => Effect.Effect<void, StorageError>
): ExperimentStore.ExperimentStoreShape => ({
  insert: durable.insert,
  get: durable.get,
  list: durable.list,
  definitionsToken: durable.definitionsToken,
  // The definition decides: only a commit that won its revision expires the assignments.
  commit: (experiment, expectedRevision) =>
    durable.commit(experiment, expectedRevision).pipe(
      Effect.andThen(experiment.status === "completed" ? expireAssignments(experiment) : Effect.void)
    ),
  assignIfAbsent: hot.assignIfAbsent,
  getAssignment: hot.getAssignment,
  addExposures: hot.addExposures,
  exposuresByDay: hot.exposuresByDay,
  mergeMetrics: hot.mergeMetrics,
  counters: hot.counters,
  // Breakdowns are written with every recorded batch: hot, beside the overall summaries.
  mergeDimensionMetrics: hot.mergeDimensionMetrics,
  addDimensionExposures: hot.addDimensionExposures,
  dimensionCounters: hot.dimensionCounters,
  dimensionNames: hot.dimensionNames,
  lowerSequentialPValues: durable.lowerSequentialPValues,
  sequentialPValues: durable.sequentialPValues,
  // Written in the definition's own commit: beside it, in PostgreSQL.
  definitionHistory: durable.definitionHistory,
  importDefinitionHistory: durable.importDefinitionHistory,
  exportAssignments: hot.exportAssignments,
  importAssignments: hot.importAssignments,
  // Redis's one-step hot path checks a definition Redis holds; here PostgreSQL holds it.
  planned: undefined,
  ping: pingBoth(durable.ping, hot.ping)
})

/** Observation windows in Redis; monitors, baselines, alert states, reports and webhooks in PostgreSQL. */
export const composeDriftStore = (
  durable: DriftStore.DriftStoreShape,
  hot: DriftStore.DriftStoreShape
): DriftStore.DriftStoreShape => ({
  insertMonitor: durable.insertMonitor,
  getMonitor: durable.getMonitor,
  listMonitors: durable.listMonitors,
  addBaseline: durable.addBaseline,
  baselines: durable.baselines,
  pushWindows: hot.pushWindows,
  window: hot.window,
  alertStates: durable.alertStates,
  setAlertState: durable.setAlertState,
  appendReport: durable.appendReport,
  reports: durable.reports,
  getReport: durable.getReport,
  putWebhook: durable.putWebhook,
  deleteWebhook: durable.deleteWebhook,
  listWebhooks: durable.listWebhooks,
  appendDelivery: durable.appendDelivery,
  deliveries: durable.deliveries
})

/** Whether the stored pipeline has `revision`, without sending the record when it has. */
const revisionIs = (durable: PipelineStore.PipelineStoreShape, id: string, revision: number) =>
  durable.getIfChanged === undefined
    ? Effect.map(durable.get(id), (stored) => stored?.revision === revision)
    : Effect.map(durable.getIfChanged(id, revision), (stored) => stored === "unchanged")

/** Sample buffers, their counters and the progressive/validation windows in Redis; the rest in PostgreSQL. */
export const composePipelineStore = (
  durable: PipelineStore.PipelineStoreShape,
  hot: PipelineStore.PipelineStoreShape
): PipelineStore.PipelineStoreShape => ({
  insert: durable.insert,
  get: durable.get,
  // Predictions keep the record per instance and check its revision in PostgreSQL, where it lives.
  getIfChanged: durable.getIfChanged,
  list: durable.list,
  commit: durable.commit,
  liveState: durable.liveState,
  setLiveState: durable.setLiveState,
  appendUpdate: durable.appendUpdate,
  updates: durable.updates,
  // The revision lives in PostgreSQL: checked there, then the batch goes to Redis. Not one atomic
  // step (a commit in between lets one batch be scored by the model just replaced), unlike Redis mode.
  addSamples: (id, samples, limits, predictions, expectedRevision) =>
    expectedRevision === undefined
      ? hot.addSamples(id, samples, limits, predictions)
      : revisionIs(durable, id, expectedRevision).pipe(Effect.flatMap((current) =>
        current
          ? hot.addSamples(id, samples, limits, predictions)
          : Effect.fail(new StaleRevisionError({ message: `Pipeline ${id} changed since it was read` }))
      )),
  buffer: hot.buffer,
  bufferSize: hot.bufferSize,
  removeSamples: hot.removeSamples,
  counters: hot.counters,
  addProcessed: hot.addProcessed,
  progressive: hot.progressive,
  addValidation: hot.addValidation,
  validation: hot.validation,
  exportSampleData: hot.exportSampleData,
  importSampleData: hot.importSampleData
})

/**
 * Monitors never change once created (the port has no update or delete), so a found one is kept
 * per process: recording observations costs no PostgreSQL round trip for its monitor.
 */
const cachedMonitors = (
  read: (id: string) => Effect.Effect<Monitor | undefined, StorageError>
): (id: string) => Effect.Effect<Monitor | undefined, StorageError> => {
  const monitors = new Map<string, Monitor>()
  return (id) => {
    const cached = monitors.get(id)
    if (cached !== undefined) return Effect.succeed(cached)
    return read(id).pipe(Effect.tap((monitor) => Effect.sync(() => monitor && monitors.set(id, monitor))))
  }
}

/** The ports of the composed mode over one PostgreSQL pool and one Redis (or cluster) connection. */
const composedPorts = (
  options: ComposedOptions
): Layer.Layer<RecordPorts, never, PostgresClient.PostgresClient | RedisClient.RedisClient> =>
  Layer.effectContext(Effect.gen(function*() {
    const postgres = yield* PostgresClient.PostgresClient
    const { client: redis, guard, prefix } = yield* RedisClient.RedisClient
    const retention = options.assignmentRetentionSeconds ?? RedisExperimentStore.defaultAssignmentRetentionSeconds
    const hotExperiments = RedisExperimentStore.make(redis, prefix, guard, { assignmentRetentionSeconds: retention })
    const expireAssignments = (experiment: Experiment) =>
      Effect.tryPromise({
        try: () =>
          RedisExperimentStore.scheduleAssignmentExpiry(
            redis,
            prefix,
            experiment.id,
            experiment.assignmentRetentionSeconds ?? retention
          ),
        catch: (cause) =>
          new StorageError({
            message: `Experiment ${experiment.id} is completed, but giving its Redis assignments their retention ` +
              `failed: ${cause instanceof Error ? cause.message : String(cause)}`,
            cause
          })
      })
    const durableDrift = PostgresDriftStore.make(postgres)
    const getMonitor = cachedMonitors(durableDrift.getMonitor)
    const durableModels = PostgresModelStore.make(postgres)
    return Context.make(ModelStore.ModelStore, {
      ...durableModels,
      ping: pingBoth(durableModels.ping, hotExperiments.ping)
    }).pipe(
      Context.add(
        ExperimentStore.ExperimentStore,
        composeExperimentStore(
          PostgresExperimentStore.make(postgres, { assignmentRetentionSeconds: retention }),
          hotExperiments,
          expireAssignments
        )
      ),
      Context.add(
        DriftStore.DriftStore,
        composeDriftStore(
          { ...durableDrift, getMonitor },
          RedisDriftStore.make(redis, prefix, guard, (id) => Effect.runPromise(getMonitor(id)))
        )
      ),
      Context.add(
        PipelineStore.PipelineStore,
        composePipelineStore(PostgresPipelineStore.make(postgres), RedisPipelineStore.make(redis, prefix, guard))
      ),
      // Leases (and rate limits, below) are short-lived and taken on every check or request: Redis.
      Context.add(Leases.Leases, RedisDriftStore.makeLeases(redis, prefix, guard)),
      Context.add(KeyStore.KeyStore, PostgresKeyStore.make(postgres)),
      // Read once per features request and changed by admins: durable, like the keys.
      Context.add(SdkConnections.SdkConnectionStore, PostgresSdkConnectionStore.make(postgres))
    )
  })).pipe(
    Layer.merge(
      options.rateLimit === undefined ? RateLimiter.layerUnlimited : RedisRateLimiter.layer(options.rateLimit)
    )
  )

/**
 * Why Redis should already hold data, if it should: PostgreSQL has experiments, monitors or
 * pipelines, whose hot data lives in Redis. A server with a new data directory (which remembers no
 * Redis instance marker) then refuses an emptied Redis instead of serving empty counters, windows
 * and buffers as if nothing had been recorded.
 */
export const recordsWithHotData = async (sql: PostgresClient.PostgresClientShape["sql"]) => {
  const [row] = await sql<Array<{ experiments: number; monitors: number; pipelines: number }>>`
    SELECT (SELECT count(*) FROM ml_experiments)::int AS experiments,
           (SELECT count(*) FROM ml_drift_monitors)::int AS monitors,
           (SELECT count(*) FROM ml_pipelines)::int AS pipelines`
  const { experiments = 0, monitors = 0, pipelines = 0 } = row ?? {}
  return experiments + monitors + pipelines === 0 ? undefined : (
    `PostgreSQL holds ${experiments} experiments, ${monitors} drift monitors and ${pipelines} pipelines whose ` +
    "assignments, counters, windows and sample buffers belong in this Redis"
  )
}

/**
 * The composed mode's ports: one PostgreSQL pool (migrated, its instance checked), then one Redis
 * connection whose instance marker is checked against the data directory and against what
 * PostgreSQL holds (`recordsWithHotData`).
 */
export const layer = (options: ComposedOptions): Layer.Layer<RecordPorts, StorageError> => {
  const redis = Layer.unwrap(
    PostgresClient.PostgresClient.useSync(({ sql }) =>
      RedisClient.layer({ ...options.redis, expectsData: () => recordsWithHotData(sql) })
    )
  )
  return composedPorts(options).pipe(
    Layer.provide(redis.pipe(Layer.provideMerge(PostgresClient.layer(options.postgres))))
  )
}
