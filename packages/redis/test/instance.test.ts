/**
 * The instance marker on the shared test Redis (a unique prefix; only that prefix's keys are
 * touched): instances starting together agree on one marker, a deleted marker refuses every
 * store call before it reaches Redis (the message names the marker and init-redis), and
 * `confirm` (init-redis) lets running instances resume. Sticky assignments and dimension
 * breakdowns expire after their experiment completes (delivery records per webhook: the drift
 * store contract).
 */
import { InstanceFile } from "@org/ml-adapter-fs"
import { ExperimentStore, ModelStore, summarize } from "@org/ml-core"
import { sampleEvent, sampleExperiment, sampleModel } from "@org/ml-core/testing"
import { Effect, Exit, Layer, ManagedRuntime } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { RedisClient, RedisExperimentStore, RedisInstance, RedisKeys, RedisModelStore } from "../src/index.js"
import { connectOrFail, deleteKeysWithPrefix, prefixPool, redisUrl } from "../src/Testing.js"

const admin = await connectOrFail()
const prefixes = prefixPool(admin)
const dirs: Array<string> = []
const freshPrefix = prefixes.fresh
afterAll(async () => {
  await prefixes.deleteAll()
  await admin.quit()
  for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true })
})

const modelRuntime = (prefix: string, options: Partial<RedisClient.RedisOptions> = {}) =>
  ManagedRuntime.make(
    RedisModelStore.layer.pipe(
      Layer.provide(RedisClient.layer({ url: redisUrl, prefix, checkIntervalMillis: 50, ...options }))
    )
  )

describe("Redis instance marker", () => {
  it("is agreed on by instances that start together on a new prefix", async () => {
    const prefix = freshPrefix("instance-agree")
    const runtimes = Array.from({ length: 5 }, () => modelRuntime(prefix))
    try {
      await Promise.all(runtimes.map((r) => r.runPromise(ModelStore.ModelStore.use((s) => s.ping()))))
      const marker = JSON.parse((await admin.get(RedisKeys.instanceKey(prefix)))!) as RedisInstance.InstanceMarker
      expect(marker.id).toMatch(/^[0-9a-f-]{36}$/)
      const model = sampleModel()
      await runtimes[0]!.runPromise(ModelStore.ModelStore.use((s) => s.insert(model, sampleEvent(model))))
      for (const runtime of runtimes) {
        expect(await runtime.runPromise(ModelStore.ModelStore.use((s) => s.get(model.id)))).toEqual(model)
      }
    } finally {
      await Promise.all(runtimes.map((r) => r.dispose()))
    }
  })

  it("refuses every call once the marker is gone, and resumes after init-redis confirms", async () => {
    const prefix = freshPrefix("instance-lost")
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "ml-redis-instance-"))
    dirs.push(dir)
    const instanceFile = path.join(dir, "redis-instance.json")
    const remembered = InstanceFile.open(instanceFile)
    const logs: Array<string> = []
    const runtime = modelRuntime(prefix, { remembered, log: (line) => logs.push(line) })
    try {
      const model = sampleModel()
      await runtime.runPromise(ModelStore.ModelStore.use((s) => s.insert(model, sampleEvent(model))))
      const known = JSON.parse(await fs.readFile(instanceFile, "utf8"))[prefix] as RedisInstance.InstanceMarker
      // As if the prefix were emptied (only our own keys; never FLUSHDB on the shared Redis).
      await deleteKeysWithPrefix(admin, prefix)
      await new Promise((resolve) => setTimeout(resolve, 300))
      const late = sampleModel({ version: "late" })
      const refused = await runtime.runPromiseExit(
        ModelStore.ModelStore.use((s) => s.insert(late, sampleEvent(late)))
      )
      expect(Exit.isFailure(refused)).toBe(true)
      expect(String(refused)).toMatch(/instance marker .* is missing/)
      expect(String(refused)).toContain("init-redis")
      expect(await admin.exists(RedisKeys.registryKeys(prefix).model(late.id))).toBe(0)
      expect(logs.filter((line) => line.includes("instance marker"))).toHaveLength(1)

      const confirm = await RedisClient.connect({ url: redisUrl })
      try {
        const { marker, written } = await RedisInstance.confirm(confirm, { prefix, remembered })
        expect(written).toBe(true)
        expect(marker.replaces).toBe(known.id)
      } finally {
        confirm.disconnect()
      }
      await new Promise((resolve) => setTimeout(resolve, 300))
      await runtime.runPromise(ModelStore.ModelStore.use((s) => s.insert(late, sampleEvent(late))))
      expect(await runtime.runPromise(ModelStore.ModelStore.use((s) => s.get(model.id)))).toBeUndefined()
    } finally {
      await runtime.dispose()
    }
  })

  it("refuses a registration or a change in the script when the marker went away since the last check", async () => {
    const prefix = freshPrefix("instance-script")
    const runtime = modelRuntime(prefix, { checkIntervalMillis: 3_600_000, log: () => undefined })
    try {
      const model = sampleModel()
      await runtime.runPromise(ModelStore.ModelStore.use((s) => s.insert(model, sampleEvent(model))))
      await admin.del(RedisKeys.instanceKey(prefix))
      const late = sampleModel({ version: "late" })
      const inserted = await runtime.runPromiseExit(
        ModelStore.ModelStore.use((s) => s.insert(late, sampleEvent(late)))
      )
      expect(String(inserted)).toMatch(/instance marker .* is missing/)
      expect(await admin.exists(RedisKeys.registryKeys(prefix).model(late.id))).toBe(0)
      const changed = { ...model, description: "changed", revision: 2 }
      const committed = await runtime.runPromiseExit(
        ModelStore.ModelStore.use((s) =>
          s.commit({ expected: [{ id: model.id, revision: 1 }], put: [changed], events: [] })
        )
      )
      expect(String(committed)).toMatch(/instance marker .* is missing/)
      expect(JSON.parse((await admin.get(RedisKeys.registryKeys(prefix).model(model.id)))!)).toEqual(model)
    } finally {
      await runtime.dispose()
    }
  })

  it("refuses to start on an empty prefix the data directory knew, unless told to accept it", async () => {
    const prefix = freshPrefix("instance-start")
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "ml-redis-instance-"))
    dirs.push(dir)
    const instanceFile = path.join(dir, "redis-instance.json")
    const remembered = InstanceFile.open(instanceFile)
    const ping = (options: Partial<RedisClient.RedisOptions>) => {
      const runtime = modelRuntime(prefix, { remembered, log: () => undefined, ...options })
      return runtime.runPromiseExit(ModelStore.ModelStore.use((s) => s.ping())).finally(() => runtime.dispose())
    }
    expect(Exit.isSuccess(await ping({}))).toBe(true)
    await admin.del(RedisKeys.instanceKey(prefix))
    const refused = await ping({})
    expect(String(refused)).toMatch(/instance marker .* is missing and Redis holds no data/)
    expect(Exit.isSuccess(await ping({ acceptEmpty: true }))).toBe(true)
    expect(Exit.isSuccess(await ping({}))).toBe(true)
    // Another Redis (a different marker) is refused too.
    await admin.set(RedisKeys.instanceKey(prefix), JSON.stringify({ id: "other", createdAt: "2020-01-01T00:00:00Z" }))
    expect(String(await ping({}))).toMatch(/is other .*, not/)
  })
})

/** Polls `read` until it gives `expected` (10 s at most), so a background sweep can finish. */
const settled = async (read: () => Promise<number>, expected: number) => {
  for (let attempt = 0; attempt < 200 && (await read()) !== expected; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return read()
}

describe("sticky assignments in Redis", () => {
  it("gives the sticky assignments of a completed experiment its own or the configured retention as TTL", async () => {
    const prefix = freshPrefix("assignment-ttl")
    const experiment = sampleExperiment({ id: "ttl", status: "running" })
    const other = sampleExperiment({ id: "ttl-other", status: "running" })
    const ownRetention = sampleExperiment({ id: "ttl-own", status: "running", assignmentRetentionSeconds: 60 })
    const keys = RedisKeys.experimentKeys(prefix)
    await Effect.runPromise(Effect.provide(
      Effect.gen(function*() {
        const store = yield* ExperimentStore.ExperimentStore
        yield* store.insert(experiment)
        yield* store.insert(other)
        yield* store.insert(ownRetention)
        for (const userId of ["u1", "u:2", "u 3"]) {
          for (const { id } of [experiment, other, ownRetention]) {
            yield* store.assignIfAbsent({ experimentId: id, userId, variant: 0, modelId: sampleModel().id, at: "x" })
          }
        }
        for (const completed of [experiment, ownRetention]) {
          yield* store.commit({ ...completed, status: "completed", revision: completed.revision + 1 }, 1)
        }
        // The TTLs are set by a background sweep after the completion (flat completion cost).
        yield* Effect.promise(() => settled(() => admin.hlen(keys.assignmentExpiry()), 0))
      }),
      RedisExperimentStore.layerWith({ assignmentRetentionSeconds: 3600 }).pipe(
        Layer.provide(RedisClient.layer({ url: redisUrl, prefix }))
      )
    ))
    for (const userId of ["u1", "u:2", "u 3"]) {
      const ttl = await admin.ttl(keys.assignment(experiment.id, userId))
      expect(ttl).toBeGreaterThan(3500)
      expect(ttl).toBeLessThanOrEqual(3600)
      expect(await admin.ttl(keys.assignment(other.id, userId))).toBe(-1)
      const own = await admin.ttl(keys.assignment(ownRetention.id, userId))
      expect(own).toBeGreaterThan(0)
      expect(own).toBeLessThanOrEqual(60)
    }
  })

  it("gives a completed experiment's dimension breakdowns the same retention as its assignments", async () => {
    const prefix = freshPrefix("breakdown-ttl")
    const completed = sampleExperiment({ id: "bd-ttl", status: "running" })
    const running = sampleExperiment({ id: "bd-ttl-running", status: "running" })
    const keys = RedisKeys.experimentKeys(prefix)
    const breakdownKeys = (id: string) => [
      keys.dimensionValues(id),
      keys.dimensionMetrics(id),
      keys.dimensionExposures(id)
    ]
    const summary = summarize([1, 2])
    await Effect.runPromise(Effect.provide(
      Effect.gen(function*() {
        const store = yield* ExperimentStore.ExperimentStore
        for (const experiment of [completed, running]) {
          yield* store.insert(experiment)
          yield* store.mergeDimensionMetrics(experiment.id, [
            { dimension: "country", value: "de", variant: 0, metric: "ctr", summary }
          ])
          yield* store.addDimensionExposures(experiment.id, [{
            dimension: "country",
            value: "de",
            variant: 1,
            count: 3
          }])
        }
        yield* store.commit({ ...completed, status: "completed", revision: completed.revision + 1 }, 1)
        yield* Effect.promise(() => settled(() => admin.hlen(keys.assignmentExpiry()), 0))
      }),
      RedisExperimentStore.layerWith({ assignmentRetentionSeconds: 3600 }).pipe(
        Layer.provide(RedisClient.layer({ url: redisUrl, prefix }))
      )
    ))
    for (const key of breakdownKeys(completed.id)) {
      const ttl = await admin.ttl(key)
      expect(ttl, key).toBeGreaterThan(3500)
      expect(ttl, key).toBeLessThanOrEqual(3600)
    }
    for (const key of breakdownKeys(running.id)) expect(await admin.ttl(key), key).toBe(-1)
  })

  it("sets the TTL a crash left undone when a store is next made on the prefix", async () => {
    const prefix = freshPrefix("assignment-ttl-crash")
    const keys = RedisKeys.experimentKeys(prefix)
    // What a process that crashed right after completing left behind: the record, no TTLs yet.
    await admin.set(keys.assignment("crashed", "u1"), "{}")
    await admin.hset(keys.dimensionExposures("crashed"), "country\x1fde\x1f0", "1")
    await admin.hset(keys.assignmentExpiry(), "crashed", "120")
    expect(await admin.ttl(keys.assignment("crashed", "u1"))).toBe(-1)
    await Effect.runPromise(Effect.provide(
      Effect.promise(() => settled(() => admin.hlen(keys.assignmentExpiry()), 0)),
      RedisExperimentStore.layer.pipe(Layer.provide(RedisClient.layer({ url: redisUrl, prefix })))
    ))
    for (const key of [keys.assignment("crashed", "u1"), keys.dimensionExposures("crashed")]) {
      const ttl = await admin.ttl(key)
      expect(ttl, key).toBeGreaterThan(100)
      expect(ttl, key).toBeLessThanOrEqual(120)
    }
  })
})
