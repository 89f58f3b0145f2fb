/**
 * The core's ModelRegistry behaviour suite, run against the Promise facade (seen through
 * registryOverFacade) and the Effect layer of the library entry, on memory and on Redis.
 */
import { ModelRegistry } from "@org/ml-core"
import { modelRegistryContract } from "@org/ml-core/testing"
import { afterAll } from "vitest"
import { MlPipeline, type PipelineSettings } from "../src/index.js"
import { cleanUp, facadeRegistryLayer, hostRedis, modes } from "./Worlds.js"

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
    (settings) => facadeRegistryLayer(config.then((c) => ({ ...c, settings: settingsOf(settings) })))
  )
}

modelRegistryContract(
  "MlPipeline.layer, memory",
  (settings) => MlPipeline.layer({ memory: true, settings: settingsOf(settings) })
)
