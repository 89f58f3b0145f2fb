import { Effect, Layer } from "effect"
import { ArtifactStore, MetricsSink, ModelRegistry, ModelStore } from "../src/index.js"
import {
  artifactStoreContract,
  metricsSinkContract,
  modelRegistryContract,
  modelStoreContract
} from "../src/testing/index.js"

const modelStore = Effect.runSync(ModelStore.makeMemory)
modelStoreContract("memory", () => Layer.succeed(ModelStore.ModelStore, modelStore))

const artifacts = Effect.runSync(ArtifactStore.makeMemory)
artifactStoreContract("memory", () => Layer.succeed(ArtifactStore.ArtifactStore, artifacts), {
  corrupt: async (modelId, sha256) => artifacts.corrupt(modelId, sha256)
})

metricsSinkContract("memory", () => {
  const sink = Effect.runSync(MetricsSink.makeMemory)
  return { sink, read: async (name, labels) => sink.snapshot().get(MetricsSink.seriesKey(name, labels)) }
})

modelRegistryContract(
  "memory",
  (settings) => ModelRegistry.layerMemory({ ...ModelRegistry.defaultRegistrySettings, ...settings })
)
