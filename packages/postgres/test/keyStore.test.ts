// The KeyStore contract on PostgreSQL (the Leases contract runs with the DriftStore one). Each case
// gets a database of its own (the contract lists every key), seen through two pools as two instances would.
import { keyStoreContract } from "@org/ml-core/testing"
import { afterAll } from "vitest"
import { PostgresClient, PostgresKeyStore } from "../src/index.js"
import { freshDatabase, type TestDatabase } from "../src/Testing.js"

const databases: Array<TestDatabase> = []
afterAll(async () => {
  for (const database of databases) await database.drop()
})

keyStoreContract("postgres", async () => {
  const database = await freshDatabase("key_store")
  databases.push(database)
  const first = await PostgresClient.connect({ url: database.url, maxConnections: 2 })
  const second = await PostgresClient.connect({ url: database.url, maxConnections: 2 })
  return {
    first: PostgresKeyStore.make(PostgresClient.makeClient(first)),
    second: PostgresKeyStore.make(PostgresClient.makeClient(second)),
    close: async () => {
      await first.end()
      await second.end()
    }
  }
})
