/**
 * The core's use-case behaviour suites (registry, experiments, drift, learning), run against the
 * Promise facade (seen through serviceOverFacade) on memory and on Redis, and against the Effect
 * layer of the library entry.
 */
import { ModelRegistry } from "@org/ml-core"
import {
  abTestsContract,
  driftDetectorContract,
  modelRegistryContract,
  onlineLearnerContract
} from "@org/ml-core/testing"
import { Effect, Layer } from "effect"
import { afterAll } from "vitest"
import { MlPipeline, type PipelineSettings } from "../src/index.js"
import { cleanUp, facadeLayer, hostRedis, modes } from "./Worlds.js"

afterAll(async () => {
  await cleanUp()
  await hostRedis.quit()
})

const settingsOf = (settings?: Partial<ModelRegistry.RegistrySettings>): Partial<PipelineSettings> => ({
  ...(settings?.demoteProductionTo === undefined ? {} : { demoteProductionTo: settings.demoteProductionTo }),
  ...(settings?.maxArtifactBytes === undefined ? {} : { maxUploadBytes: settings.maxArtifactBytes })
})

for (const mode of modes) {
  // One storage per suite, as the adapters' own runs of it share one store.
  const config = mode.config()
  modelRegistryContract(
    `the Promise facade, ${mode.name}`,
    (settings) => facadeLayer(config.then((c) => ({ ...c, settings: settingsOf(settings) })))
  )
  abTestsContract(`the Promise facade, ${mode.name}`, () => facadeLayer(config))
  driftDetectorContract(`the Promise facade, ${mode.name}`, () => facadeLayer(config))
  onlineLearnerContract(`the Promise facade, ${mode.name}`, () => facadeLayer(config))
}

for (const mode of modes) {
  // The Effect services of the library entry, over the same storage modes.
  const config = mode.config()
  const effectLayer = (settings?: Partial<ModelRegistry.RegistrySettings>) =>
    Layer.unwrap(
      Effect.promise(() => config).pipe(
        Effect.map((c) => MlPipeline.layer({ ...c, settings: settingsOf(settings) }))
      )
    )
  modelRegistryContract(`MlPipeline.layer, ${mode.name}`, effectLayer)
  abTestsContract(`MlPipeline.layer, ${mode.name}`, () => effectLayer())
  driftDetectorContract(`MlPipeline.layer, ${mode.name}`, () => effectLayer())
  onlineLearnerContract(`MlPipeline.layer, ${mode.name}`, () => effectLayer())
}
