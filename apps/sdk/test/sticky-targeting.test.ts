/**
 * Sticky users who stop matching the targeting (issue 18): a user who has a sticky variant keeps
 * it when their attributes no longer pass the condition, as GrowthBook's sticky bucketing does
 * (it skips the filters, namespace and condition once a bucket is stored). Checked user by user
 * on real servers (files: the use case's reads; Redis: the one-script hot path) against the SDK's
 * `assignSticky` and the real `@growthbook/growthbook` SDK with a sticky bucket service, reading
 * our GrowthBook payload: 400 users first assigned under one set of attributes, then asked again
 * after a re-split with attributes that move half of the matching users out of the condition and
 * half of the others into it.
 */
import {
  clearCache,
  configureCache,
  GrowthBookClient,
  type StickyAssignmentsDocument,
  StickyBucketService
} from "@growthbook/growthbook"
import { Redis } from "ioredis"
import { afterAll, describe, expect, it } from "vitest"
import { createClient, memoryStickyStore } from "../src/index.js"
import { registerModels, variants } from "./growthBookSdk.js"
import { useServer } from "./serverFixture.js"

configureCache({ disableCache: true })
afterAll(() => clearCache())

const redisUrl = process.env["ML_TEST_REDIS_URL"] ?? "redis://127.0.0.1:6379"
const prefix = `sticky-targeting-${process.pid}-${Date.now().toString(36)}:`
const servers = [
  { label: "files", server: useServer() },
  { label: "Redis", server: useServer({ ML_REDIS_URL: redisUrl, ML_REDIS_PREFIX: prefix }) }
]
afterAll(async () => {
  // Only this file's keys: the shared Redis serves other suites too.
  const redis = new Redis(redisUrl)
  for (const pattern of [`${prefix}*`, `{${prefix}*`]) {
    let cursor = "0"
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000)
      cursor = next
      if (keys.length > 0) await redis.del(...keys)
    } while (cursor !== "0")
  }
  await redis.quit()
})

/** GrowthBook's sticky bucket documents in memory (the SDK ships browser, cookie and Redis ones). */
class MemoryStickyBucketService extends StickyBucketService {
  readonly docs = new Map<string, StickyAssignmentsDocument>()
  async getAssignments(attributeName: string, attributeValue: string) {
    return this.docs.get(this.getKey(attributeName, attributeValue)) ?? null
  }
  async saveAssignments(doc: StickyAssignmentsDocument) {
    this.docs.set(this.getKey(doc.attributeName, doc.attributeValue), doc)
  }
}

const USERS = 400
const countries = ["DE", "AT", "FR", "US"]
const userIds = Array.from({ length: USERS }, (_, i) => `user-${i}`)
/** Before: DE and AT match. After: DE -> FR and AT -> US stop matching, FR -> DE and US -> AT start. */
const attributesAt = (phase: 0 | 1) => (i: number) => ({ country: countries[(i + 2 * phase) % countries.length]! })

describe.each(servers)("sticky users who stop matching the targeting ($label)", ({ server }) => {
  it("keep their variant on the server, in local evaluation and in GrowthBook's sticky bucketing", async () => {
    const ml = createClient({ baseUrl: server.url })
    const ids = await registerModels(ml, 2)
    const experiment = await ml.experiments.create({
      name: "sticky-targeting",
      targetMetric: "conversion",
      stickyAssignment: true,
      variants: variants(ids, [50, 50]),
      condition: { country: { $in: ["DE", "AT"] } }
    } as never)
    await ml.experiments.start(experiment.id)
    const connection = await ml.createSdkConnection({ name: "sticky", projectFilter: [experiment.id] })
    const stickyStore = memoryStickyStore()
    const buckets = new MemoryStickyBucketService()

    const answers = async (phase: 0 | 1) => {
      const attributes = userIds.map((_, i) => attributesAt(phase)(i))
      const ours = await ml.experiments.getModelAssignments(
        experiment.id,
        userIds,
        Object.fromEntries(userIds.map((u, i) => [u, attributes[i]!]))
      )
      // A fresh evaluator on the current definition; the sticky store carries over.
      const local = ml.experiments.local({ streaming: false, refreshIntervalMs: 60_000, stickyStore })
      await local.whenReady()
      const locals = []
      for (const [i, u] of userIds.entries()) locals.push(await local.assignSticky(experiment.id, u, attributes[i]))
      await local.close()
      const gb = new GrowthBookClient({ apiHost: server.url, clientKey: connection.clientKey })
      expect((await gb.init({ timeout: 5_000, streaming: false })).success).toBe(true)
      const theirs = []
      for (const [i, u] of userIds.entries()) {
        const context = await gb.applyStickyBuckets({ attributes: { id: u, ...attributes[i] } }, buckets)
        theirs.push(gb.evalFeature(experiment.id, context))
      }
      gb.destroy()
      return { ours, locals, theirs }
    }

    const before = await answers(0)
    await ml.experiments.update(experiment.id, { trafficPct: [10, 90] })
    const after = await answers(1)

    for (const { locals, ours, theirs } of [before, after]) {
      expect(locals.map((a) => a.modelId)).toEqual(ours.map((a) => a.modelId))
      expect(locals.map((a) => a.inExperiment)).toEqual(ours.map((a) => a.inExperiment))
      expect(theirs.map((r) => r.value)).toEqual(ours.map((a) => a.modelId))
      expect(theirs.map((r) => r.experimentResult?.inExperiment ?? false)).toEqual(ours.map((a) => a.inExperiment))
    }
    // Not vacuous: users who matched before and not after keep their treatment (not the control),
    // and users who match only now follow the new split.
    const leftTargeting = userIds.flatMap((_, i) => (i % 4 < 2 ? [i] : []))
    const keptTreatment = leftTargeting.filter((i) => before.ours[i]!.modelId === ids[1])
    expect(keptTreatment.length).toBeGreaterThan(50)
    for (const i of keptTreatment) {
      expect(after.ours[i]).toMatchObject({ modelId: ids[1], inExperiment: true })
      expect(after.theirs[i]!.experimentResult?.stickyBucketUsed).toBe(true)
    }
    const joined = userIds.flatMap((_, i) => (i % 4 >= 2 ? [i] : []))
    expect(joined.every((i) => before.ours[i]!.inExperiment === false)).toBe(true)
    const treatedShare = joined.filter((i) => after.ours[i]!.modelId === ids[1]).length / joined.length
    expect(treatedShare).toBeGreaterThan(0.8)
  }, 120_000)
})
