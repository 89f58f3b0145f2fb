/**
 * User-supplied names in keys: one encoder (RedisKeys.keyPart) makes every name its own key
 * segment, so names holding `:`, `{`, `}`, spaces, `%` or any Unicode never collide, never make a
 * key that is another key plus a suffix, and never pick a Cluster hash tag; names without those
 * characters keep the exact keys earlier releases wrote. Data an earlier release wrote (no
 * instance marker) is migrated when a server adopts it.
 */
import type { Baseline, Experiment } from "@org/ml-core"
import { DriftStore, ExperimentStore, ModelStore, PipelineStore } from "@org/ml-core"
import { sampleEvent, sampleExperiment, sampleModel, sampleMonitor, samplePipeline } from "@org/ml-core/testing"
import { Effect, Layer } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import {
  RedisClient,
  RedisDriftStore,
  RedisExperimentStore,
  RedisKeys,
  RedisModelStore,
  RedisPipelineStore
} from "../src/index.js"
import { connectOrFail, prefixPool, redisUrl } from "../src/Testing.js"

const admin = await connectOrFail()
const prefixes = prefixPool(admin)
const freshPrefix = prefixes.fresh
afterAll(async () => {
  await prefixes.deleteAll()
  await admin.quit()
})

const tricky = [
  "f",
  "f:meta",
  "a:b",
  "a",
  "b",
  "{tag}",
  "with space",
  "tab\there",
  "100%",
  "%3A",
  "é",
  "名前",
  "🙂",
  ""
]

describe("RedisKeys.keyPart", () => {
  it("keeps names without special characters byte-identical (keys of earlier releases stay readable)", () => {
    for (const name of ["churn", "fraud-detector", "v1.2.3", "mon_01", "01J0ABCDEF", "é", "名前", "🙂"]) {
      expect(RedisKeys.keyPart(name)).toBe(name)
    }
  })

  it("is injective and leaves no separator or hash-tag brace in a segment", () => {
    const names = [...tricky, "%25", "%7Btag%7D", "a%3Ab", "\u00a0", "\u2028", "\ud800", "\udc00", "x\u0000y"]
    const encoded = names.map(RedisKeys.keyPart)
    expect(new Set(encoded).size).toBe(names.length)
    for (const part of encoded) expect(part).not.toMatch(/[:{}\s]/u)
  })
})

const stores = (prefix: string) =>
  Layer.mergeAll(
    RedisModelStore.layer,
    RedisExperimentStore.layer,
    RedisDriftStore.layer,
    RedisPipelineStore.layer
  ).pipe(Layer.provide(RedisClient.layer({ url: redisUrl, prefix })))

type Stores =
  | ModelStore.ModelStore
  | ExperimentStore.ExperimentStore
  | DriftStore.DriftStore
  | PipelineStore.PipelineStore

const run = <A, E>(prefix: string, effect: Effect.Effect<A, E, Stores>) =>
  Effect.runPromise(Effect.provide(effect, stores(prefix)) as Effect.Effect<A, E>)

const numericBaseline = (version: number): Baseline => ({
  type: "numeric",
  version,
  createdAt: new Date().toISOString(),
  count: 3,
  missingShare: 0,
  mean: version,
  sd: 1,
  quantiles: {},
  edges: [0, 1],
  shares: [1],
  sample: [version, version, version],
  sampled: false
})

describe("names with special characters through every store", () => {
  it("keeps features named alike apart: baselines, windows and alert states", async () => {
    const prefix = freshPrefix("keys-drift")
    // The monitor schema admits `:` in feature names; the store takes any name (the others are unlisted features).
    const monitor = sampleMonitor({
      id: "mon-1",
      features: ["f", "f:meta", "a:b", "a", "b"].map((name) => ({ name, kind: "feature" as const, type: "numeric" }))
    })
    const result = await run(
      prefix,
      Effect.gen(function*() {
        const store = yield* DriftStore.DriftStore
        yield* store.insertMonitor(monitor)
        for (const [i, name] of tricky.entries()) {
          yield* store.addBaseline(monitor.id, name, numericBaseline(i + 1))
          yield* store.pushWindows(monitor.id, { [name]: Array.from({ length: i + 1 }, () => i) }, 100)
          yield* store.pushWindows(monitor.id, { [name]: [i] }, 100)
        }
        const windows = yield* Effect.forEach(tricky, (name) => store.window(monitor.id, name))
        const baselines = yield* Effect.forEach(tricky, (name) => store.baselines(monitor.id, name))
        return { windows, baselines, monitor: yield* store.getMonitor(monitor.id) }
      })
    )
    expect(result.monitor).toEqual(monitor)
    tricky.forEach((_, i) => {
      expect(result.windows[i]).toEqual(Array.from({ length: i + 2 }, () => i))
      expect(result.baselines[i]!.map((b) => b.version)).toEqual([i + 1])
    })
    // Nothing escaped the prefix's hash tag or wrote a raw name.
    const written = await admin.keys(`${prefix}*`)
    expect(written.some((key) => key.slice(prefix.length).includes("{"))).toBe(false)
  })

  it("keeps sticky assignments of look-alike (experiment, user) pairs apart", async () => {
    const prefix = freshPrefix("keys-ab")
    const experiments = ["x", "x.a"].map((id) => sampleExperiment({ id }))
    const users = ["a:b", "a%3Ab", "a", "{u}", "u 1", "%", "名前", "🙂", "x.a:b"]
    const pairs: Array<[string, string]> = [...users.map((user): [string, string] => ["x", user]), ["x.a", "b"]]
    const found = await run(
      prefix,
      Effect.gen(function*() {
        const store = yield* ExperimentStore.ExperimentStore
        for (const experiment of experiments) yield* store.insert(experiment)
        for (const [index, [experimentId, userId]] of pairs.entries()) {
          const modelId = sampleModel().id
          yield* store.assignIfAbsent({ experimentId, userId, variant: index, modelId, at: new Date().toISOString() })
        }
        return yield* Effect.forEach(pairs, ([experimentId, userId]) => store.getAssignment(experimentId, userId))
      })
    )
    expect(found.map((a) => a?.variant)).toEqual(pairs.map((_, i) => i))
  })

  it("keeps the delivery records of look-alike webhook ids apart", async () => {
    const prefix = freshPrefix("keys-hooks")
    const hooks = ["h", "h:1", "{h}", "h 1", "h%", "名前"]
    const delivered = await run(
      prefix,
      Effect.gen(function*() {
        const store = yield* DriftStore.DriftStore
        for (const [index, webhookId] of hooks.entries()) {
          const attempt = index + 1
          const at = new Date(Date.UTC(2030, 0, 1, 0, 0, index)).toISOString()
          yield* store.appendDelivery({ webhookId, alertId: "a", at, attempt, ok: true, status: 200, error: null })
        }
        return yield* Effect.forEach(hooks, (webhookId) => store.deliveries(webhookId))
      })
    )
    expect(delivered.map((records) => records.map((d) => d.attempt))).toEqual(hooks.map((_, i) => [i + 1]))
  })

  it("reads models and pipelines whose names need no encoding at the keys of earlier releases", async () => {
    const prefix = freshPrefix("keys-models")
    const model = sampleModel({ name: "fraud.detector-v2_eu", version: "1.0.0" })
    const pipeline = samplePipeline({ id: "pipe.1-a_b" })
    await run(
      prefix,
      Effect.gen(function*() {
        yield* (yield* ModelStore.ModelStore).insert(model, sampleEvent(model))
        yield* (yield* PipelineStore.PipelineStore).insert(pipeline)
      })
    )
    expect(await admin.get(`${prefix}ml:model-version:${model.name}:${model.version}`)).toBe(model.id)
    expect(await admin.exists(`${prefix}ml:model:${model.id}`, `${prefix}ml:pipeline:${pipeline.id}`)).toBe(2)
  })
})

describe("data written by the previous release (no instance marker)", () => {
  it("is adopted: safe names read as they are, and feature, user and delivery keys are migrated", async () => {
    const prefix = freshPrefix("keys-legacy")
    // The keys exactly as the previous release wrote them.
    const model = sampleModel({ name: "legacy-model", version: "1.0.0" })
    await admin.set(`${prefix}ml:model:${model.id}`, JSON.stringify(model))
    await admin.zadd(`${prefix}ml:models`, 0, model.id)
    await admin.set(`${prefix}ml:model-version:${model.name}:${model.version}`, model.id)
    const monitor = sampleMonitor({
      id: "legacy-monitor",
      features: [{ name: "f", kind: "feature", type: "numeric" }, { name: "a:b", kind: "feature", type: "numeric" }]
    })
    await admin.set(`${prefix}drift:monitor:${monitor.id}`, JSON.stringify(monitor))
    await admin.sadd(`${prefix}drift:monitors`, monitor.id)
    await admin.rpush(`${prefix}drift:baseline:${monitor.id}:a:b`, JSON.stringify(numericBaseline(7)))
    await admin.rpush(`${prefix}drift:stats:numeric:${monitor.id}:a:b`, "2|[1,2]")
    await admin.hset(`${prefix}drift:stats:numeric:${monitor.id}:a:b:meta`, "count", 2, "skip", 0)
    await admin.rpush(`${prefix}drift:stats:numeric:${monitor.id}:f`, "1|[5]")
    await admin.hset(`${prefix}drift:stats:numeric:${monitor.id}:f:meta`, "count", 1, "skip", 0)
    const experiment: Experiment = sampleExperiment({ id: "legacy-exp" })
    await admin.set(`${prefix}ab:experiment:${experiment.id}`, JSON.stringify(experiment))
    await admin.zadd(`${prefix}ab:experiments`, 0, experiment.id)
    const assignment = {
      experimentId: experiment.id,
      userId: "user:42",
      variant: 1,
      modelId: model.id,
      at: model.createdAt
    }
    await admin.set(`${prefix}ab:assignment:${experiment.id}:user:42`, JSON.stringify(assignment))
    const delivery = (webhookId: string, attempt: number) => ({
      webhookId,
      alertId: "alert-1",
      at: new Date(Date.UTC(2030, 0, 1, 0, 0, attempt)).toISOString(),
      attempt,
      ok: false,
      status: 500,
      error: null
    })
    await admin.rpush(
      `${prefix}drift:deliveries`,
      ...[delivery("h1", 1), delivery("h2", 2), delivery("h1", 3)].map((d) => JSON.stringify(d))
    )

    const result = await run(
      prefix,
      Effect.gen(function*() {
        const models = yield* ModelStore.ModelStore
        const drift = yield* DriftStore.DriftStore
        const experiments = yield* ExperimentStore.ExperimentStore
        return {
          model: yield* models.findByNameVersion(model.name, model.version),
          baselines: yield* drift.baselines(monitor.id, "a:b"),
          window: yield* drift.window(monitor.id, "a:b"),
          f: yield* drift.window(monitor.id, "f"),
          assignment: yield* experiments.getAssignment(experiment.id, "user:42"),
          h1: yield* drift.deliveries("h1"),
          all: yield* drift.deliveries(undefined)
        }
      })
    )
    expect(result.model).toEqual(model)
    expect(result.baselines.map((b) => b.version)).toEqual([7])
    expect(result.window).toEqual([1, 2])
    expect(result.f).toEqual([5])
    expect(result.assignment).toEqual(assignment)
    expect(result.h1.map((d) => d.attempt)).toEqual([1, 3])
    expect(result.all.map((d) => d.attempt)).toEqual([1, 2, 3])
    expect(await admin.exists(`${prefix}drift:deliveries`)).toBe(0)
    expect(JSON.parse((await admin.get(RedisKeys.instanceKey(prefix)))!)).toMatchObject({ id: expect.any(String) })
  })
})
