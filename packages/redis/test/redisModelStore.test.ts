// The Redis model store decodes what it reads: a foreign document under a model key, a damaged
// audit entry or a bad count is a StorageError naming the key, never a value cast into the core.
import { ModelStore } from "@org/ml-core"
import { sampleEvent, sampleModel } from "@org/ml-core/testing"
import { Effect, Layer } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { RedisClient, RedisModelStore, registryKeys } from "../src/index.js"
import { connectOrFail, deleteKeysWithPrefix, redisUrl, uniquePrefix } from "../src/Testing.js"

const admin = await connectOrFail()
const prefix = uniquePrefix("model-store-decoding")
const keys = registryKeys(prefix)
afterAll(async () => {
  await deleteKeysWithPrefix(admin, prefix)
  await admin.quit()
})

const failureOf = <A, E>(program: Effect.Effect<A, E, ModelStore.ModelStore>) =>
  Effect.runPromise(
    Effect.flip(program).pipe(
      Effect.provide(RedisModelStore.layer.pipe(Layer.provide(RedisClient.layer({ url: redisUrl, prefix }))))
    ) as Effect.Effect<E>
  )

describe("RedisModelStore decodes what it reads", () => {
  it("names the key of a model document that does not decode", async () => {
    const model = sampleModel()
    await admin.set(keys.model(model.id), JSON.stringify({ ...model, revision: "one" }))
    const error = await failureOf(ModelStore.ModelStore.use((s) => s.get(model.id)))
    expect(error).toMatchObject({ _tag: "StorageError" })
    expect(error.message).toContain(`${keys.model(model.id)} is not valid: revision`)
  })

  it("names the list and position of an audit event that does not decode", async () => {
    const model = sampleModel()
    await admin.rpush(keys.auditOfModel(model.id), JSON.stringify(sampleEvent(model)), "{\"action\":\"deleted\"}")
    const error = await failureOf(ModelStore.ModelStore.use((s) => s.historyOf(model.id)))
    expect(error.message).toContain(`${keys.auditOfModel(model.id)}[1] is not valid`)
  })

  it("names the counts hash when a count is not a number", async () => {
    await admin.hset(keys.counts(), "draft", "many")
    const error = await failureOf(ModelStore.ModelStore.use((s) => s.countByStatus()))
    expect(error.message).toContain(`${keys.counts()} is not valid`)
    await admin.del(keys.counts())
  })
})
