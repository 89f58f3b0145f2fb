// The composed mode on a Redis Cluster (three local masters started here) beside PostgreSQL: the
// contract suites of the ports whose hot paths go to Redis, and the hot keys spread over the nodes.
import { freshDatabase, type TestDatabase } from "@org/ml-adapter-postgres/testing"
import { startLocalCluster, uniquePrefix } from "@org/ml-adapter-redis/testing"
import { ExperimentStore } from "@org/ml-core"
import {
  driftStoreContract,
  experimentStoreContract,
  pipelineStoreContract,
  sampleExperiment
} from "@org/ml-core/testing"
import { Effect } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import * as ComposedStores from "../src/ComposedStores.js"

const cluster = await startLocalCluster()
const databases: Array<TestDatabase> = []
afterAll(async () => {
  await cluster.stop()
  for (const database of databases) await database.drop()
}, 60_000)

/** A database and a key prefix of its own per suite, as one deployment. */
const deployment = async (label: string) => {
  const database = await freshDatabase(`composed_cluster_${label}`)
  databases.push(database)
  const prefix = uniquePrefix(`composed-${label}`)
  return () =>
    ComposedStores.layer({
      postgres: { url: database.url, maxConnections: 3 },
      redis: { url: "", clusterNodes: cluster.nodes, prefix }
    })
}

experimentStoreContract("composed on a cluster", await deployment("experiments"))
driftStoreContract("composed on a cluster", await deployment("drift"))
pipelineStoreContract("composed on a cluster", await deployment("pipelines"))

describe("the composed stores on a cluster", () => {
  it("spread the assignments of several experiments over more than one node", async () => {
    const layer = await deployment("spread")
    await Effect.runPromise(
      ExperimentStore.ExperimentStore.use((store) =>
        Effect.forEach(Array.from({ length: 12 }, () => sampleExperiment()), (experiment) =>
          Effect.andThen(
            store.insert(experiment),
            store.assignIfAbsent({
              experimentId: experiment.id,
              userId: "u1",
              variant: 0,
              modelId: experiment.variants[0]!.modelId,
              at: new Date().toISOString()
            })
          ))
      ).pipe(Effect.provide(layer()))
    )
    expect((await cluster.keysPerNode()).filter((keys) => keys > 1).length).toBeGreaterThan(1)
  })
})
