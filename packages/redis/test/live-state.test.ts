// A pipeline's live learner state in Redis: written as format-2 bytes (sparse, binary), and a
// format-1 JSON value written by an earlier release still reads back as the same learner.
import { encodeLearnerState, isBinaryLearnerState, loadLearner, PipelineStore } from "@org/ml-core"
import { samplePipeline, trainedHashedLearner } from "@org/ml-core/testing"
import { Effect, Layer } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { RedisClient, RedisPipelineStore } from "../src/index.js"
import { connectOrFail, deleteKeysWithPrefix, redisUrl, uniquePrefix } from "../src/Testing.js"

const admin = await connectOrFail()
const prefix = uniquePrefix("live-state")
const keys = RedisPipelineStore.pipelineKeys(prefix)

afterAll(async () => {
  await deleteKeysWithPrefix(admin, prefix)
  await admin.quit()
})

const run = <A, E>(program: Effect.Effect<A, E, PipelineStore.PipelineStore>): Promise<A> =>
  Effect.runPromise(
    Effect.provide(program, RedisPipelineStore.layer.pipe(Layer.provide(RedisClient.layer({ url: redisUrl, prefix }))))
  )

describe("live learner state in Redis", () => {
  it("is stored as format-2 bytes: the touched slots of a 2^20-slot learner, not every slot", async () => {
    const pipeline = samplePipeline()
    const state = trainedHashedLearner(20).learner.state()
    await run(Effect.gen(function*() {
      yield* (yield* PipelineStore.PipelineStore).setLiveState(pipeline.id, state)
    }))
    const stored = await admin.getBuffer(keys.part(pipeline.id, "state"))
    expect(stored).not.toBeNull()
    expect(isBinaryLearnerState(stored!)).toBe(true)
    expect(stored!.equals(encodeLearnerState(state))).toBe(true)
    // Format 1 spelled all 2^20 slots of four arrays: tens of megabytes of zeros.
    expect(stored!.length * 10).toBeLessThan(JSON.stringify(state).length)
  })

  it("reads a format-1 JSON value an earlier release wrote; the next write replaces it by format 2", async () => {
    const pipeline = samplePipeline()
    const { learner, probes } = trainedHashedLearner(12)
    const key = keys.part(pipeline.id, "state")
    await admin.set(key, JSON.stringify(learner.state()))
    const legacy = await run(Effect.gen(function*() {
      return yield* (yield* PipelineStore.PipelineStore).liveState(pipeline.id)
    }))
    expect(legacy).toEqual(learner.state())
    const restored = loadLearner(legacy)
    for (const features of probes) expect(restored.predict(features)).toBe(learner.predict(features))
    await run(Effect.gen(function*() {
      yield* (yield* PipelineStore.PipelineStore).setLiveState(pipeline.id, legacy!)
    }))
    expect(isBinaryLearnerState((await admin.getBuffer(key))!)).toBe(true)
  })

  it("names the key when the stored bytes are damaged", async () => {
    const pipeline = samplePipeline()
    const bytes = Buffer.from(encodeLearnerState(trainedHashedLearner(8).learner.state()))
    bytes[bytes.length - 10]! ^= 0xff
    const key = keys.part(pipeline.id, "state")
    await admin.set(key, bytes)
    const exit = await Effect.runPromiseExit(
      Effect.provide(
        Effect.gen(function*() {
          return yield* (yield* PipelineStore.PipelineStore).liveState(pipeline.id)
        }),
        RedisPipelineStore.layer.pipe(Layer.provide(RedisClient.layer({ url: redisUrl, prefix })))
      )
    )
    expect(exit._tag).toBe("Failure")
    expect(String(exit)).toContain(key)
    expect(String(exit)).toContain("CRC-32")
  })
})
