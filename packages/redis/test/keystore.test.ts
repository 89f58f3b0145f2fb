// The KeyStore contract on Redis: two connections on one prefix are two instances of the server.
import { keyStoreContract } from "@org/ml-core/testing"
import { afterAll } from "vitest"
import { RedisKeyStore } from "../src/index.js"
import { connectOrFail, deleteKeysWithPrefix, uniquePrefix } from "../src/Testing.js"

const prefixes: Array<string> = []
afterAll(async () => {
  const client = await connectOrFail()
  for (const prefix of prefixes) await deleteKeysWithPrefix(client, prefix)
  client.disconnect()
})

keyStoreContract("redis", async () => {
  const prefix = uniquePrefix("keys")
  prefixes.push(prefix)
  const [one, two] = [await connectOrFail(), await connectOrFail()]
  return {
    first: RedisKeyStore.make(one, prefix),
    second: RedisKeyStore.make(two, prefix),
    close: async () => {
      one.disconnect()
      two.disconnect()
    }
  }
})
