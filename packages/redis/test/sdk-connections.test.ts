// The SdkConnectionStore contract on Redis: two connections on one prefix are two instances of the server.
import { sdkConnectionStoreContract } from "@org/ml-core/testing"
import { afterAll } from "vitest"
import { RedisSdkConnectionStore } from "../src/index.js"
import { connectOrFail, deleteKeysWithPrefix, uniquePrefix } from "../src/Testing.js"

const prefixes: Array<string> = []
afterAll(async () => {
  const client = await connectOrFail()
  for (const prefix of prefixes) await deleteKeysWithPrefix(client, prefix)
  client.disconnect()
})

sdkConnectionStoreContract("redis", async () => {
  const prefix = uniquePrefix("sdk-connections")
  prefixes.push(prefix)
  const [one, two] = [await connectOrFail(), await connectOrFail()]
  return {
    first: RedisSdkConnectionStore.make(one, prefix),
    second: RedisSdkConnectionStore.make(two, prefix),
    close: async () => {
      one.disconnect()
      two.disconnect()
    }
  }
})
