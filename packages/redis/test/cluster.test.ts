// The Redis adapters on a real three-master Redis Cluster this file starts itself (own ports, own
// temp directories, stopped afterwards): every contract suite passes on it (a script or MULTI
// whose keys crossed slots would fail with CROSSSLOT), the entities spread over more than one
// node, readiness follows CLUSTER INFO, and a prefix holding a hash tag is refused.
import { FsArtifactStore } from "@org/ml-adapter-fs"
import { DriftStore, ExperimentStore, MetricsSink, ModelRegistry, ModelStore, PipelineStore } from "@org/ml-core"
import {
  driftStoreContract,
  experimentStoreContract,
  keyStoreContract,
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
import { afterAll, describe, expect, it } from "vitest"
import {
  RedisClient,
  RedisDriftStore,
  RedisExperimentStore,
  RedisKeyStore,
  RedisModelStore,
  RedisPipelineStore,
  RedisRateLimiter
} from "../src/index.js"
import { startLocalCluster, uniquePrefix } from "../src/Testing.js"

const cluster = await startLocalCluster()
const artifactsDir = await fs.mkdtemp(path.join(os.tmpdir(), "ml-redis-cluster-test-"))
const options = (prefix: string) => ({ url: "", clusterNodes: cluster.nodes, prefix })
const clients: Array<RedisClient.RedisConnection> = []
const connectCluster = async () => {
  const client = await RedisClient.connect(options(""))
  clients.push(client)
  return client
}

afterAll(async () => {
  for (const client of clients) client.disconnect()
  await cluster.stop()
  await fs.rm(artifactsDir, { recursive: true, force: true })
})

const client = (prefix: string) => RedisClient.layer(options(prefix))
// One prefix per suite: a contract may open its store twice and expect the same data.
const registryPrefix = uniquePrefix("registry")
const modelStore = () => RedisModelStore.layer.pipe(Layer.provide(client(registryPrefix)))

const pipelinesPrefix = uniquePrefix("pipelines")
const driftPrefix = uniquePrefix("drift")
const experimentsPrefix = uniquePrefix("experiments")

modelStoreContract("redis cluster", modelStore)
modelRegistryContract(
  "redis cluster",
  (settings) =>
    ModelRegistry.layer({ ...ModelRegistry.defaultRegistrySettings, ...settings }).pipe(
      Layer.provide(
        Layer.mergeAll(modelStore(), FsArtifactStore.layer({ directory: artifactsDir }), MetricsSink.layerMemory)
      )
    )
)
pipelineStoreContract(
  "redis cluster",
  () => RedisPipelineStore.layer.pipe(Layer.provide(client(pipelinesPrefix)))
)
driftStoreContract("redis cluster", () => RedisDriftStore.layer.pipe(Layer.provide(client(driftPrefix))))
experimentStoreContract(
  "redis cluster",
  () => RedisExperimentStore.layer.pipe(Layer.provide(client(experimentsPrefix)))
)
keyStoreContract("redis cluster", async () => {
  const prefix = uniquePrefix("keys")
  const [one, two] = [await connectCluster(), await connectCluster()]
  return { first: RedisKeyStore.make(one, prefix), second: RedisKeyStore.make(two, prefix), close: async () => {} }
})
rateLimiterContract(
  "redis cluster",
  async (limit) => RedisRateLimiter.make(await connectCluster(), uniquePrefix("ratelimit"), limit)
)

describe("Redis adapters on a cluster", () => {
  it("spread experiments, monitors and pipelines over more than one node", async () => {
    const before = await cluster.keysPerNode()
    const stores = Layer.mergeAll(
      RedisExperimentStore.layer,
      RedisDriftStore.layer,
      RedisPipelineStore.layer,
      RedisModelStore.layer
    ).pipe(Layer.provide(client(uniquePrefix("spread"))))
    await Effect.runPromise(
      Effect.gen(function*() {
        const experiments = yield* ExperimentStore.ExperimentStore
        const drift = yield* DriftStore.DriftStore
        const pipelines = yield* PipelineStore.PipelineStore
        for (let i = 0; i < 12; i++) {
          yield* experiments.insert(sampleExperiment({ id: `exp-${i}` }))
          yield* drift.insertMonitor(sampleMonitor({ id: `mon-${i}` }))
          yield* pipelines.insert(samplePipeline({ id: `pipe-${i}` }))
        }
        const model = sampleModel()
        yield* (yield* ModelStore.ModelStore).insert(model, sampleEvent(model))
      }).pipe(Effect.provide(stores))
    )
    const after = await cluster.keysPerNode()
    const grew = after.filter((count, i) => count > before[i]!)
    expect(grew.length).toBeGreaterThan(1)
  })

  it("refuses a key prefix holding a hash tag, which would put every key on one node", async () => {
    const exit = await Effect.runPromiseExit(
      ModelStore.ModelStore.use((store) => store.ping()).pipe(
        Effect.provide(RedisModelStore.layer.pipe(Layer.provide(client("{ml}:"))))
      )
    )
    expect(String(exit)).toContain("hash tag")
  })

  // Last: it takes a slot away from the cluster.
  it("is ready while every node says cluster_state:ok, and not ready once a slot is uncovered", async () => {
    const runtime = ManagedRuntime.make(modelStore())
    const ping = () => runtime.runPromiseExit(ModelStore.ModelStore.use((store) => store.ping()))
    try {
      expect((await ping())._tag).toBe("Success")
      await cluster.uncoverSlot()
      const exit = await ping()
      expect(exit._tag).toBe("Failure")
      expect(String(exit)).toContain("cluster_state:fail")
    } finally {
      await runtime.dispose()
    }
  })
})

describe("Redis adapters on a cluster that loses a master", () => {
  it("are not ready once a master is dead, naming it", async () => {
    const own = await startLocalCluster()
    const runtime = ManagedRuntime.make(
      RedisModelStore.layer.pipe(
        Layer.provide(RedisClient.layer({ url: "", clusterNodes: own.nodes, prefix: "", commandTimeoutMillis: 500 }))
      )
    )
    try {
      const ping = () => runtime.runPromiseExit(ModelStore.ModelStore.use((store) => store.ping()))
      expect((await ping())._tag).toBe("Success")
      await own.killNode(2)
      const exit = await ping()
      expect(exit._tag).toBe("Failure")
      expect(String(exit)).toContain(String(own.nodes[2]!.port))
    } finally {
      await runtime.dispose()
      await own.stop()
    }
  })
})
