/**
 * The Redis experiment store decodes what it reads: a damaged experiment, assignment or summary
 * is a StorageError naming its key, and the decoded experiment is reused only while its stored
 * text is unchanged.
 */
import { ExperimentStore, summarize } from "@org/ml-core"
import { sampleExperiment } from "@org/ml-core/testing"
import { Effect, Layer } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { RedisClient, RedisExperimentStore } from "../src/index.js"
import { connectOrFail, deleteKeysWithPrefix, redisUrl, uniquePrefix } from "../src/Testing.js"

const admin = await connectOrFail()
const prefix = uniquePrefix("experiments")
const keys = RedisExperimentStore.experimentKeys(prefix)
afterAll(async () => {
  await deleteKeysWithPrefix(admin, prefix)
  await admin.quit()
})

const storeLayer = RedisExperimentStore.layer.pipe(Layer.provide(RedisClient.layer({ url: redisUrl, prefix })))
const use = <A, E>(f: (store: ExperimentStore.ExperimentStoreShape) => Effect.Effect<A, E>) =>
  Effect.runPromise(Effect.provide(ExperimentStore.ExperimentStore.use(f), storeLayer) as Effect.Effect<A, E>)
const failure = <A, E>(f: (store: ExperimentStore.ExperimentStoreShape) => Effect.Effect<A, E>) =>
  use((store) => Effect.flip(f(store))) as Promise<{ readonly _tag: string; readonly message: string }>

describe("Redis experiment store decoding", () => {
  it("names the key of an experiment that does not decode", async () => {
    const experiment = sampleExperiment()
    await admin.set(keys.experiment(experiment.id), JSON.stringify({ ...experiment, variants: "two" }))
    const error = await failure((s) => s.get(experiment.id))
    expect(error._tag).toBe("StorageError")
    expect(error.message).toContain(keys.experiment(experiment.id))
    expect(error.message).toContain("variants")
  })

  it("reuses the decoded experiment while its stored text is unchanged, and decodes a changed one", async () => {
    const experiment = sampleExperiment()
    const { first, again, renamed } = await use((s) =>
      Effect.gen(function*() {
        yield* s.insert(experiment)
        const first = yield* s.get(experiment.id)
        const again = yield* s.get(experiment.id)
        yield* s.commit({ ...experiment, name: "renamed", revision: 2 }, 1)
        return { first, again, renamed: yield* s.get(experiment.id) }
      })
    )
    expect(first).toEqual(experiment)
    expect(again).toBe(first)
    expect(renamed).toMatchObject({ name: "renamed", revision: 2 })
    await admin.set(keys.experiment(experiment.id), "{\"id\":")
    expect((await failure((s) => s.get(experiment.id))).message).toContain("not JSON")
  })

  it("names the key of another writer's assignment that does not decode", async () => {
    const experiment = sampleExperiment()
    await admin.set(keys.assignment(experiment.id, "u1"), JSON.stringify({ experimentId: experiment.id, variant: -1 }))
    const assignment = {
      experimentId: experiment.id,
      userId: "u1",
      variant: 0,
      modelId: experiment.variants[0]!.modelId,
      at: experiment.createdAt
    }
    const error = await failure((s) => s.assignIfAbsent(assignment))
    expect(error.message).toContain(keys.assignment(experiment.id, "u1"))
    expect((await failure((s) => s.getAssignment(experiment.id, "u1"))).message).toContain("userId")
  })

  it("names the keys of a metric summary that does not decode", async () => {
    const experiment = sampleExperiment()
    await use((s) => s.mergeMetrics(experiment.id, [{ variant: 0, metric: "ctr", summary: summarize([1, 2]) }]))
    expect((await use((s) => s.counters(experiment.id, 2))).variants[0]!.metrics.ctr!.count).toBe(2)
    await admin.hset(keys.metrics(experiment.id), "1:ctr", "3|oops")
    const error = await failure((s) => s.counters(experiment.id, 2))
    expect(error.message).toContain(keys.metrics(experiment.id))
    expect(error.message).toContain("variants.1.metrics.ctr")
  })
})
