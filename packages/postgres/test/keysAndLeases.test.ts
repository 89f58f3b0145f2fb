// The KeyStore and Leases contracts on PostgreSQL. Each KeyStore case gets a database of its own
// (the contract lists every key), seen through two separate pools as two instances would see it.
import { keyStoreContract, leasesContract } from "@org/ml-core/testing"
import { Layer } from "effect"
import { afterAll } from "vitest"
import { PostgresClient, PostgresKeyStore, PostgresLeases } from "../src/index.js"
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
    first: PostgresKeyStore.make(first),
    second: PostgresKeyStore.make(second),
    close: async () => {
      await first.end()
      await second.end()
    }
  }
})

const leasesDatabase = await freshDatabase("leases")
databases.push(leasesDatabase)
leasesContract(
  "postgres",
  () => PostgresLeases.layer.pipe(Layer.provide(PostgresClient.layer({ url: leasesDatabase.url, maxConnections: 4 })))
)
