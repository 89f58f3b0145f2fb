/**
 * The LocalEvaluator follows the server's experiment stream (issue 18's SDK part), checked on real
 * servers over sockets: two instances share Redis, the evaluator listens to one and a re-split made
 * through the other reaches it within a second; with the stream gone it falls back to polling;
 * `assignSticky` keeps users on their variant across a re-split exactly as the server's sticky
 * assignments do (same users, same answers), through the memory and the Redis sticky stores.
 */
import { Redis } from "ioredis"
import { afterAll, describe, expect, it } from "vitest"
import { createClient, type LocalEvaluator, memoryStickyStore, type StickyStore } from "../src/index.js"
import { redisStickyStore } from "../src/RedisStickyStore.js"
import { registerModels, variants, within } from "./growthBookSdk.js"
import { useServer } from "./serverFixture.js"

const redisUrl = process.env["ML_TEST_REDIS_URL"] ?? "redis://127.0.0.1:6379"
const prefix = `gbsdk-local-${process.pid}-${Date.now().toString(36)}:`
const env = { ML_REDIS_URL: redisUrl, ML_REDIS_PREFIX: prefix }
const first = useServer(env)
const second = useServer(env)
const redis = new Redis(redisUrl)

afterAll(async () => {
  // Only this file's keys: the shared Redis serves other suites too.
  for (const pattern of [`${prefix}*`, `{${prefix}*`, `*${prefix}*`]) {
    let cursor = "0"
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000)
      cursor = next
      if (keys.length > 0) await redis.del(...keys)
    } while (cursor !== "0")
  }
  await redis.quit()
})

const setup = async (sticky: boolean) => {
  const ml = createClient({ baseUrl: first.url })
  const ids = await registerModels(ml, 2)
  const experiment = await ml.experiments.create({
    name: "local-stream",
    targetMetric: "conversion",
    stickyAssignment: sticky,
    variants: variants(ids, [50, 50])
  })
  await ml.experiments.start(experiment.id)
  return { ml, ids, experiment }
}

const treatedShare = (local: LocalEvaluator, experimentId: string, treatment: string) => {
  let treated = 0
  for (let i = 0; i < 1_000; i++) if (local.assign(experimentId, `share-${i}`).modelId === treatment) treated++
  return treated / 1_000
}

describe("LocalEvaluator over server-sent events", () => {
  it("sees a re-split made through another instance within a second", async () => {
    const { experiment, ids, ml } = await setup(false)
    // Polling every minute: only the stream can deliver the change in time.
    const local = ml.experiments.local({ refreshIntervalMs: 60_000 })
    await local.whenReady()
    await within(3_000, () => local.isStreaming())
    expect(treatedShare(local, experiment.id, ids[1]!)).toBeGreaterThan(0.4)

    const other = createClient({ baseUrl: second.url })
    await other.experiments.update(experiment.id, { trafficPct: [0, 100] })
    const elapsed = await within(3_000, () => treatedShare(local, experiment.id, ids[1]!) === 1)
    expect(elapsed).toBeLessThan(1_000)
    await local.close()
  })

  it("falls back to polling when the server has no stream, and picks changes up from the poll", async () => {
    const { experiment, ids, ml } = await setup(false)
    // A fetch that refuses the stream (as a proxy that buffers or blocks event streams would).
    const noStream: typeof fetch = (input, init) =>
      String(input).includes("/v1/experiment-stream")
        ? Promise.resolve(new Response("blocked", { status: 502 }))
        : fetch(input, init)
    const errors: Array<unknown> = []
    const local = createClient({ baseUrl: first.url, fetch: noStream }).experiments.local({
      refreshIntervalMs: 200,
      reconnectDelayMs: 50,
      onError: (e) => errors.push(e)
    })
    await local.whenReady()
    await ml.experiments.update(experiment.id, { trafficPct: [0, 100] })
    await within(3_000, () => treatedShare(local, experiment.id, ids[1]!) === 1)
    expect(local.isStreaming()).toBe(false)
    expect(errors.length).toBeGreaterThan(0)
    await local.close()
  })

  const stores: ReadonlyArray<[string, () => StickyStore]> = [
    ["memory", () => memoryStickyStore()],
    ["Redis", () => redisStickyStore(redis, { prefix: `${prefix}sticky-${Math.random().toString(36).slice(2)}:` })]
  ]
  it.each(stores)("assignSticky keeps users across a re-split like the server's sticky assignments (%s)", async (
    _name,
    makeStore
  ) => {
    const { experiment, ids, ml } = await setup(true)
    const local = ml.experiments.local({ refreshIntervalMs: 60_000, stickyStore: makeStore() })
    await local.whenReady()
    await within(3_000, () => local.isStreaming())
    const early = Array.from({ length: 400 }, (_, i) => `early-${i}`)
    const late = Array.from({ length: 400 }, (_, i) => `late-${i}`)
    const ours = async (userIds: ReadonlyArray<string>) =>
      Promise.all(userIds.map(async (u) => (await local.assignSticky(experiment.id, u)).modelId))
    const servers = async (userIds: ReadonlyArray<string>) =>
      (await ml.experiments.getModelAssignments(experiment.id, userIds)).map((a) => a.modelId)

    const before = await ours(early)
    expect(before).toEqual(await servers(early))
    expect(new Set(before).size).toBe(2)

    await ml.experiments.update(experiment.id, { trafficPct: [100, 0] })
    await within(3_000, () => treatedShare(local, experiment.id, ids[1]!) === 0)
    // Users seen before keep their variant, new users follow the new split: on both sides.
    expect(await ours(early)).toEqual(before)
    expect(await servers(early)).toEqual(before)
    const after = await ours(late)
    expect(new Set(after)).toEqual(new Set([ids[0]]))
    expect(after).toEqual(await servers(late))
    // The plain (non-sticky) assignment follows the split for everyone.
    expect(early.every((u) => local.assign(experiment.id, u).modelId === ids[0])).toBe(true)
    await local.close()
  })
})

describe("redisStickyStore", () => {
  it("sets if absent across clients (the first writer wins everywhere) and applies the expiry", async () => {
    const storePrefix = `${prefix}race:`
    const clients = [redis, new Redis(redisUrl)]
    const stores = clients.map((c) => redisStickyStore(c, { prefix: storePrefix, ttlSeconds: 120 }))
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => stores[i % 2]!.setIfAbsent("exp", "user", { variant: i, modelId: `m${i}` }))
    )
    expect(new Set(answers.map((a) => a.variant)).size).toBe(1)
    expect(await stores[1]!.get("exp", "user")).toEqual(answers[0])
    const ttl = await redis.ttl(`${storePrefix}exp:user`)
    expect(ttl).toBeGreaterThan(100)
    expect(ttl).toBeLessThanOrEqual(120)
    // Keys encode both parts: "a:b" + "c" and "a" + "b:c" are different users' keys.
    await stores[0]!.setIfAbsent("a:b", "c", { variant: 0, modelId: "x" })
    expect(await stores[0]!.get("a", "b:c")).toBeUndefined()
    // A value that is not an assignment reads as none.
    await redis.set(`${storePrefix}exp:broken`, "{not json")
    expect(await stores[0]!.get("exp", "broken")).toBeUndefined()
    await clients[1]!.quit()
  })
})
