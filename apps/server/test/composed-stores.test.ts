// The composed mode (PostgreSQL for durable records, Redis for hot paths) judged by every port's
// contract suite on a real PostgreSQL and a real Redis, then checked for what the composition
// itself promises: each record lands in the store the README names, completing an experiment
// gives its Redis assignments their retention, and an emptied Redis is refused, not served.
import { FsArtifactStore, InstanceFile } from "@org/ml-adapter-fs"
import { freshDatabase, type TestDatabase } from "@org/ml-adapter-postgres/testing"
import { connectOrFail, deleteKeysWithPrefix, redisUrl, uniquePrefix } from "@org/ml-adapter-redis/testing"
import {
  DriftStore,
  type Experiment,
  ExperimentStore,
  KeyStore,
  Leases,
  makeLearner,
  MetricsSink,
  ModelRegistry,
  ModelStore,
  OnlineLearner,
  PipelineStore,
  RateLimiter
} from "@org/ml-core"
import {
  aliasMovesAcrossInstances,
  driftStoreContract,
  experimentStoreContract,
  keyStoreContract,
  leasesContract,
  modelRegistryContract,
  modelStoreContract,
  pipelineStoreContract,
  rateLimiterContract,
  sampleEvent,
  sampleExperiment,
  sampleModel,
  sampleMonitor,
  samplePipeline
} from "@org/ml-core/testing"
import { Effect, Layer, ManagedRuntime } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import postgres from "postgres"
import { afterAll, describe, expect, it } from "vitest"
import * as ComposedStores from "../src/ComposedStores.js"

const admin = await connectOrFail()
const directory = await fs.mkdtemp(path.join(os.tmpdir(), "ml-composed-test-"))
const runtimes: Array<ManagedRuntime.ManagedRuntime<unknown, unknown>> = []
const deployments: Array<Deployment> = []

interface Deployment {
  readonly prefix: string
  readonly database: TestDatabase
  readonly sql: postgres.Sql
}

afterAll(async () => {
  await Promise.all(runtimes.map((runtime) => runtime.dispose()))
  for (const { database, prefix, sql } of deployments) {
    await deleteKeysWithPrefix(admin, prefix)
    await sql.end()
    await database.drop()
  }
  await admin.quit()
  await fs.rm(directory, { recursive: true, force: true })
}, 60_000)

/** One deployment: a database and a Redis prefix of its own (a Redis marker belongs to its database). */
const deployment = async (label: string): Promise<Deployment> => {
  const database = await freshDatabase(`composed_${label}`)
  const made = {
    prefix: uniquePrefix(`composed-${label}`),
    database,
    sql: postgres(database.url, { max: 1, onnotice: () => undefined })
  }
  deployments.push(made)
  return made
}

/** The composed ports of a deployment. */
const composed = (
  { database, prefix }: Deployment,
  extra: { readonly instanceFile?: string; readonly rateLimit?: RateLimiter.RateLimit } = {}
) =>
  ComposedStores.layer({
    postgres: { url: database.url, maxConnections: 3 },
    redis: {
      url: redisUrl,
      prefix,
      remembered: extra.instanceFile === undefined ? undefined : InstanceFile.open(extra.instanceFile)
    },
    rateLimit: extra.rateLimit
  })

const models = await deployment("models")
modelStoreContract("composed", () => composed(models))
modelRegistryContract(
  "composed",
  (settings) =>
    ModelRegistry.layer({ ...ModelRegistry.defaultRegistrySettings, ...settings }).pipe(
      Layer.provide(
        Layer.mergeAll(composed(models), FsArtifactStore.layer({ directory }), MetricsSink.layerMemory)
      )
    )
)
// Three instances of the composed stores on one PostgreSQL database and Redis prefix.
aliasMovesAcrossInstances("composed", () =>
  ModelRegistry.layer().pipe(
    Layer.provide(Layer.mergeAll(composed(models), FsArtifactStore.layer({ directory }), MetricsSink.layerMemory))
  ))
const experiments = await deployment("experiments")
experimentStoreContract("composed", () => composed(experiments))
const drift = await deployment("drift")
driftStoreContract("composed", () => composed(drift))
const leases = await deployment("leases")
leasesContract("composed", () => composed(leases))
const pipelines = await deployment("pipelines")
pipelineStoreContract("composed", () => composed(pipelines))
const keys = await deployment("keys")
const rateLimits = await deployment("ratelimits")

/** A runtime disposed after the file; its services read with `get`. */
const runtimeOf = <A>(layer: Layer.Layer<A, unknown>) => {
  const runtime = ManagedRuntime.make(layer)
  runtimes.push(runtime as ManagedRuntime.ManagedRuntime<unknown, unknown>)
  return runtime
}

keyStoreContract("composed", async () => {
  const [one, two] = [runtimeOf(composed(keys)), runtimeOf(composed(keys))]
  return {
    first: await one.runPromise(KeyStore.KeyStore.use(Effect.succeed)),
    second: await two.runPromise(KeyStore.KeyStore.use(Effect.succeed)),
    close: async () => {}
  }
})
rateLimiterContract(
  "composed",
  async (limit) =>
    runtimeOf(composed(rateLimits, { rateLimit: limit })).runPromise(
      RateLimiter.RateLimiter.use(Effect.succeed)
    )
)

const assignmentOf = (experiment: Experiment, userId: string, variant: number) => ({
  experimentId: experiment.id,
  userId,
  variant,
  modelId: experiment.variants[variant]!.modelId,
  at: new Date().toISOString()
})

describe("the composed stores", () => {
  it("keep definitions in PostgreSQL and hot data in Redis", async () => {
    const split = await deployment("split")
    const { prefix, sql } = split
    const runtime = runtimeOf(composed(split))
    const experiment = sampleExperiment()
    const monitor = sampleMonitor()
    const pipeline = samplePipeline()
    await runtime.runPromise(Effect.gen(function*() {
      const models = yield* ModelStore.ModelStore
      const experiments = yield* ExperimentStore.ExperimentStore
      const drift = yield* DriftStore.DriftStore
      const pipelines = yield* PipelineStore.PipelineStore
      const model = sampleModel()
      yield* models.insert(model, sampleEvent(model))
      yield* experiments.insert(experiment)
      yield* experiments.assignIfAbsent(assignmentOf(experiment, "u1", 1))
      yield* experiments.addExposures(experiment.id, [2, 3], "2026-01-02")
      yield* drift.insertMonitor(monitor)
      yield* drift.pushWindows(monitor.id, { [monitor.features[0]!.name]: [1, 2, 3] }, 10)
      yield* pipelines.insert(pipeline)
      yield* pipelines.addSamples(pipeline.id, [{
        sampleId: "s1",
        features: { a: 1 },
        label: 1,
        weight: 1,
        receivedAt: new Date().toISOString()
      }], { maxBufferSize: 10, dedupWindow: 10, progressiveWindow: 10 })
    }))
    const count = async (table: string, where: string, id: string) =>
      (await sql.unsafe(`SELECT count(*)::int AS n FROM ${table} WHERE ${where} = $1`, [id]))[0]!.n as number
    // Definitions: PostgreSQL only.
    expect(await count("ml_experiments", "id", experiment.id)).toBe(1)
    expect(await count("ml_drift_monitors", "id", monitor.id)).toBe(1)
    expect(await count("ml_pipelines", "id", pipeline.id)).toBe(1)
    const redisKeys = await admin.keys(`${prefix}*`)
    expect(redisKeys.some((key) => key.includes("experiment:") && !key.includes("exposure"))).toBe(false)
    // Hot data: Redis only.
    expect(await count("ml_assignments", "experiment_id", experiment.id)).toBe(0)
    expect(await count("ml_experiment_exposures", "experiment_id", experiment.id)).toBe(0)
    expect(await count("ml_drift_window_chunks", "monitor_id", monitor.id)).toBe(0)
    expect(await count("ml_pipeline_samples", "pipeline_id", pipeline.id)).toBe(0)
    expect(redisKeys.filter((key) => key.includes("assignment")).length).toBe(1)
    expect(redisKeys.some((key) => key.includes(":buffer"))).toBe(true)
    expect(redisKeys.some((key) => key.includes("drift:stats:"))).toBe(true)
  })

  it("predicts with the pipeline it keeps, and sees at once a pipeline another instance changed", async () => {
    const shared = await deployment("predictions")
    const config = {
      kind: "logistic",
      optimizer: { type: "sgd", learningRate: 0.5 },
      features: { type: "schema", names: ["x"] }
    } as const
    // The model another instance makes live: trained, so it predicts other than the untrained 0.5.
    const trained = makeLearner(config)
    for (let i = 0; i < 20; i++) trained.learn({ features: { x: 1 }, label: 1 })
    const instance = runtimeOf(
      OnlineLearner.layer().pipe(
        Layer.provideMerge(composed(shared)),
        Layer.provideMerge(Layer.mergeAll(MetricsSink.layerMemory, Leases.layerMemory, ModelRegistry.layerMemory()))
      )
    )
    const other = runtimeOf(composed(shared))
    const { pipeline, replacement } = await instance.runPromise(Effect.gen(function*() {
      const registry = yield* ModelRegistry.ModelRegistry
      const register = (version: string, state: unknown) =>
        registry.registerModel(
          { name: "composed-predict", version, algorithm: "logistic_regression", framework: "ml" },
          new Blob([JSON.stringify(state)]).stream()
        )
      const model = yield* register("1.0.0", makeLearner(config).state())
      const replacement = yield* register("1.1.0", trained.state())
      const pipeline = yield* OnlineLearner.OnlineLearner.use((learner) =>
        learner.createPipeline({ name: "p", modelId: model.id, strategy: "periodic", updateFrequencySeconds: 86_400 })
      )
      return { pipeline, replacement }
    }))
    const predict = () =>
      instance.runPromise(OnlineLearner.OnlineLearner.use((learner) => learner.predict(pipeline.id, [{ x: 1 }])))
    expect(await predict()).toEqual([0.5])
    expect(await predict()).toEqual([0.5])

    // The other instance makes the trained model live: its state first, then the new revision.
    await other.runPromise(PipelineStore.PipelineStore.use((store) =>
      Effect.gen(function*() {
        const current = (yield* store.get(pipeline.id))!
        yield* store.setLiveState(pipeline.id, trained.state())
        yield* store.commit(
          { ...current, liveModelId: replacement.id, revision: current.revision + 1 },
          current.revision
        )
      })
    ))
    // A kept pipeline served without asking PostgreSQL would still answer 0.5 here.
    const changed = await predict()
    expect(changed).toEqual([trained.predict({ x: 1 })])
    expect(changed[0]).toBeGreaterThan(0.9)
    expect(await predict()).toEqual(changed)
  })

  it("gives a completed experiment's Redis assignments its retention, only when the commit wins", async () => {
    const retention = await deployment("retention")
    const prefix = retention.prefix
    const runtime = runtimeOf(composed(retention))
    const experiment = sampleExperiment({ assignmentRetentionSeconds: 7200 })
    await runtime.runPromise(ExperimentStore.ExperimentStore.use((store) =>
      Effect.gen(function*() {
        yield* store.insert(experiment)
        yield* store.assignIfAbsent(assignmentOf(experiment, "u1", 0))
      })
    ))
    const [key] = await admin.keys(`${prefix}*assignment*`)
    expect(await admin.ttl(key!)).toBe(-1)
    const stale = await runtime.runPromise(
      ExperimentStore.ExperimentStore.use((store) =>
        Effect.flip(store.commit({ ...experiment, status: "completed", revision: 3 }, 2))
      )
    )
    expect(stale._tag).toBe("StaleRevisionError")
    expect(await admin.ttl(key!)).toBe(-1)
    // A lost commit schedules no expiry either.
    expect(await admin.keys(`${prefix}*assignment-expiry*`)).toEqual([])
    await runtime.runPromise(
      ExperimentStore.ExperimentStore.use((store) =>
        store.commit({ ...experiment, status: "completed", revision: 2 }, 1)
      )
    )
    // The TTL is set by a background sweep after the completion answers (flat completion cost).
    let seconds = await admin.ttl(key!)
    for (let attempt = 0; attempt < 200 && seconds === -1; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50))
      seconds = await admin.ttl(key!)
    }
    expect(seconds).toBeGreaterThan(7000)
    expect(seconds).toBeLessThanOrEqual(7200)
  })

  it("refuses an emptied Redis while PostgreSQL keeps the definitions, also from a new data directory", async () => {
    const emptied = await deployment("emptied")
    const { prefix, sql } = emptied
    const instanceFile = path.join(directory, "emptied", "redis-instance.json")
    const first = runtimeOf(composed(emptied, { instanceFile }))
    const experiment = sampleExperiment()
    await first.runPromise(ExperimentStore.ExperimentStore.use((store) => store.insert(experiment)))
    await deleteKeysWithPrefix(admin, prefix)
    // The running instance refuses within its marker check; readiness says so.
    const ping = await first.runPromise(
      Effect.flip(ModelStore.ModelStore.use((store) => store.ping()))
    )
    expect(ping.message).toMatch(/instance marker .* is missing/)
    // A new instance with this data directory refuses to start; so does one with a new directory,
    // because PostgreSQL holds the experiment whose hot data Redis lost.
    for (const file of [instanceFile, path.join(directory, "emptied-new", "redis-instance.json")]) {
      const started = await Effect.runPromise(
        Effect.flip(Effect.scoped(Layer.build(composed(emptied, { instanceFile: file }))))
      )
      expect(started.message).toMatch(/Redis was emptied or restarted without persistence/)
    }
    // The definition is still there: PostgreSQL is the system of record.
    expect(await sql`SELECT id FROM ml_experiments WHERE id = ${experiment.id}`).toHaveLength(1)
  })
})
