/** The use cases the routes call; the app's ManagedRuntime provides them. */
import type { AbTests, DriftDetector, KeyStore, ModelRegistry, OnlineLearner, SdkConnections } from "@org/ml-core"

export type AppServices =
  | ModelRegistry.ModelRegistry
  | AbTests.AbTests
  | DriftDetector.DriftDetector
  | OnlineLearner.OnlineLearner
  | KeyStore.KeyStore
  | SdkConnections.SdkConnectionStore
