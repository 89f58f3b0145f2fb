// The SdkConnectionStore contract on the memory store (one store, seen twice).
import { Effect } from "effect"
import { makeMemory } from "../src/experiments/SdkConnection.js"
import { sdkConnectionStoreContract } from "../src/testing/index.js"

sdkConnectionStoreContract("memory", async () => {
  const store = Effect.runSync(makeMemory)
  return { first: store, second: store, close: async () => undefined }
})
