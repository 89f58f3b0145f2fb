// The Redis adapters on a real three-master Redis Cluster this file starts itself (own ports, own
// temp directories, stopped afterwards): every contract suite passes on it (a script or MULTI
// whose keys crossed slots would fail with CROSSSLOT), the entities spread over more than one
// node, readiness follows CLUSTER INFO, and a prefix holding a hash tag is refused. The suites run
// again on a second cluster whose nodes require a password and TLS: a wrong password or a missing
// CA fails start-up naming the setting to change.
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
import { type LocalCluster, makeTlsFiles, startLocalCluster, uniquePrefix } from "../src/Testing.js"

const cluster = await startLocalCluster()
// The variant real deployments run: every node requires a password (requirepass, masterauth) and
// serves TLS only, with a certificate from a CA made for this run.
const tlsFiles = await makeTlsFiles()
const password = "cluster p@ss:w,rd%"
const secured = await startLocalCluster({ password, tls: tlsFiles })
const securedConnection = {
  clusterCredentials: { password },
  clusterTls: true,
  tlsCaFile: tlsFiles.caCert,
  settingNames: { connection: "ML_REDIS_CLUSTER_NODES", tlsCa: "ML_REDIS_TLS_CA" }
} satisfies Partial<RedisClient.RedisOptions>

const artifactsDir = await fs.mkdtemp(path.join(os.tmpdir(), "ml-redis-cluster-test-"))
const clients: Array<RedisClient.RedisConnection> = []

afterAll(async () => {
  for (const client of clients) client.disconnect()
  await cluster.stop()
  await secured.stop()
  await tlsFiles.remove()
  await fs.rm(artifactsDir, { recursive: true, force: true })
})

/** Every contract suite on `on`, connected with `connection`. */
const contracts = (label: string, on: LocalCluster, connection: Partial<RedisClient.RedisOptions>) => {
  const options = (prefix: string) => ({ url: "", clusterNodes: on.nodes, prefix, ...connection })
  const connectCluster = async () => {
    const client = await RedisClient.connect(options(""))
    clients.push(client)
    return client
  }
  const client = (prefix: string) => RedisClient.layer(options(prefix))
  // One prefix per suite: a contract may open its store twice and expect the same data.
  const [registryPrefix, pipelinesPrefix, driftPrefix, experimentsPrefix] = [
    "registry",
    "pipelines",
    "drift",
    "experiments"
  ]
    .map(uniquePrefix)
  const modelStore = () => RedisModelStore.layer.pipe(Layer.provide(client(registryPrefix!)))
  modelStoreContract(label, modelStore)
  modelRegistryContract(
    label,
    (settings) =>
      ModelRegistry.layer({ ...ModelRegistry.defaultRegistrySettings, ...settings }).pipe(
        Layer.provide(
          Layer.mergeAll(modelStore(), FsArtifactStore.layer({ directory: artifactsDir }), MetricsSink.layerMemory)
        )
      )
  )
  pipelineStoreContract(label, () => RedisPipelineStore.layer.pipe(Layer.provide(client(pipelinesPrefix!))))
  driftStoreContract(label, () => RedisDriftStore.layer.pipe(Layer.provide(client(driftPrefix!))))
  experimentStoreContract(
    label,
    () => RedisExperimentStore.layer.pipe(Layer.provide(client(experimentsPrefix!))),
    { plannedWrites: true }
  )
  keyStoreContract(label, async () => {
    const prefix = uniquePrefix("keys")
    const [one, two] = [await connectCluster(), await connectCluster()]
    return { first: RedisKeyStore.make(one, prefix), second: RedisKeyStore.make(two, prefix), close: async () => {} }
  })
  rateLimiterContract(
    label,
    async (limit) => RedisRateLimiter.make(await connectCluster(), uniquePrefix("ratelimit"), limit)
  )
  return { client, modelStore }
}

const { client, modelStore } = contracts("redis cluster", cluster, {})
contracts("redis cluster with a password and TLS", secured, securedConnection)

describe("Redis adapters on a cluster with a password and TLS", () => {
  const connectExit = (connection: Partial<RedisClient.RedisOptions>) =>
    RedisClient.connect({ url: "", clusterNodes: secured.nodes, connectTimeoutMillis: 3000, ...connection }).then(
      (client) => {
        client.disconnect()
        return "connected"
      },
      (error: Error) => error.message
    )

  it("refuses to start with a wrong password, naming the setting, and never repeating it", async () => {
    const refused = await connectExit({ ...securedConnection, clusterCredentials: { password: "not-the-password" } })
    expect(refused).toMatch(/WRONGPASS/)
    expect(refused).toContain("Redis refused the user name or password in ML_REDIS_CLUSTER_NODES")
    expect(refused).not.toContain("not-the-password")
    const missing = await connectExit({ ...securedConnection, clusterCredentials: undefined })
    expect(missing).toMatch(/NOAUTH/)
    expect(missing).toContain("ML_REDIS_CLUSTER_NODES")
  })

  it("connects with the CA and refuses without it or without TLS, saying which", async () => {
    expect(await connectExit(securedConnection)).toBe("connected")
    const untrusted = await connectExit({ ...securedConnection, tlsCaFile: undefined })
    expect(untrusted).toMatch(/self[- ]signed certificate/)
    expect(untrusted).toContain("set ML_REDIS_TLS_CA to the CA certificate")
    const plain = await connectExit({ ...securedConnection, clusterTls: false })
    expect(plain).toContain("use rediss:// in ML_REDIS_CLUSTER_NODES")
  })

  it("spreads keys over the secured nodes too", async () => {
    const before = await secured.keysPerNode()
    const runtime = ManagedRuntime.make(
      RedisExperimentStore.layer.pipe(
        Layer.provide(
          RedisClient.layer({
            url: "",
            clusterNodes: secured.nodes,
            prefix: uniquePrefix("secured"),
            ...securedConnection
          })
        )
      )
    )
    try {
      for (let i = 0; i < 12; i++) {
        await runtime.runPromise(
          ExperimentStore.ExperimentStore.use((store) => store.insert(sampleExperiment({ id: `exp-${i}` })))
        )
      }
    } finally {
      await runtime.dispose()
    }
    const after = await secured.keysPerNode()
    expect(after.filter((count, i) => count > before[i]!).length).toBeGreaterThan(1)
  })
})

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
