/** The use-case behaviour suites (exported from @org/ml-core/testing) on the memory layers. */
import { Layer } from "effect"
import {
  AbTests,
  DriftDetector,
  DriftStore,
  ExperimentStore,
  Leases,
  MetricsSink,
  ModelRegistry,
  OnlineLearner,
  PipelineStore
} from "../src/index.js"
import { abTestsContract, driftDetectorContract, onlineLearnerContract } from "../src/testing/index.js"

abTestsContract(
  "memory",
  () => AbTests.layer().pipe(Layer.provideMerge(Layer.merge(ExperimentStore.layerMemory, ModelRegistry.layerMemory())))
)
driftDetectorContract(
  "memory",
  () =>
    DriftDetector.layer().pipe(
      Layer.provide(Layer.mergeAll(DriftStore.layerMemory, Leases.layerMemory, MetricsSink.layerMemory))
    )
)
onlineLearnerContract(
  "memory",
  () =>
    OnlineLearner.layer().pipe(
      Layer.provideMerge(Layer.mergeAll(PipelineStore.layerMemory, Leases.layerMemory, ModelRegistry.layerMemory()))
    )
)
