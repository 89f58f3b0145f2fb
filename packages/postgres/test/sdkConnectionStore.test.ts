// The SdkConnectionStore contract on PostgreSQL: a database of its own per case, seen through two pools.
import { sdkConnectionStoreContract } from "@org/ml-core/testing"
import { afterAll } from "vitest"
import { PostgresClient, PostgresSdkConnectionStore } from "../src/index.js"
import { freshDatabase, type TestDatabase } from "../src/Testing.js"

const databases: Array<TestDatabase> = []
afterAll(async () => {
  for (const database of databases) await database.drop()
})

sdkConnectionStoreContract("postgres", async () => {
  const database = await freshDatabase("sdk_connections")
  databases.push(database)
  const first = await PostgresClient.connect({ url: database.url, maxConnections: 2 })
  const second = await PostgresClient.connect({ url: database.url, maxConnections: 2 })
  return {
    first: PostgresSdkConnectionStore.make(PostgresClient.makeClient(first)),
    second: PostgresSdkConnectionStore.make(PostgresClient.makeClient(second)),
    close: async () => {
      await first.end()
      await second.end()
    }
  }
})
