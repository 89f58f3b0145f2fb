// The ModelStore contract on PostgreSQL, in a database of its own.
import { modelStoreContract } from "@org/ml-core/testing"
import { Layer } from "effect"
import { afterAll } from "vitest"
import { PostgresClient, PostgresModelStore } from "../src/index.js"
import { freshDatabase } from "../src/Testing.js"

const database = await freshDatabase("model_store")
afterAll(() => database.drop())

modelStoreContract(
  "postgres",
  () => PostgresModelStore.layer.pipe(Layer.provide(PostgresClient.layer({ url: database.url, maxConnections: 4 })))
)
