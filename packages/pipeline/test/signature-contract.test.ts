/**
 * The model-signature behaviour suite (core testing/SignatureContract.ts) on every storage the
 * library entry runs on: memory, the filesystem and Redis, through the Effect layer and through
 * the Promise facade.
 */
import { signatureContract } from "@org/ml-core/testing"
import { Effect, Layer } from "effect"
import { afterAll } from "vitest"
import { MlPipeline } from "../src/index.js"
import { cleanUp, facadeLayer, freshDirectory, hostRedis, modes } from "./Worlds.js"

afterAll(async () => {
  await cleanUp()
  await hostRedis.quit()
})

const filesystem = { name: "filesystem", config: async () => ({ storageDir: await freshDirectory() }) }

for (const mode of [...modes, filesystem]) {
  const config = mode.config()
  signatureContract(
    `MlPipeline.layer, ${mode.name}`,
    () => Layer.unwrap(Effect.promise(() => config).pipe(Effect.map((c) => MlPipeline.layer(c))))
  )
  signatureContract(`the Promise facade, ${mode.name}`, () => facadeLayer(config))
}
