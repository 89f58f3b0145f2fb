/**
 * Targeting over HTTP, on the files store and on Redis (whose hot path plans the writes from its
 * cached definition, so the condition is evaluated in the planning step): creation refuses bad
 * conditions, namespaces and holdouts with 400s naming the field; assignment requests carry
 * attributes (bounded); a user the condition leaves out gets the control with inExperiment false
 * and no exposure; users with a sticky assignment keep it, also once they stop matching; the hash
 * attribute decides the variant.
 */
import { connectOrFail, deleteKeysWithPrefix, redisUrl, uniquePrefix } from "@org/ml-adapter-redis/testing"
import { makeTargetedAssigner, MAX_ATTRIBUTES, MAX_CONDITION_DEPTH } from "@org/ml-core"
import { afterAll, describe, expect, it } from "vitest"
import { json, makeTestApp, metadata } from "./helpers.js"

const admin = await connectOrFail()
const prefix = uniquePrefix("targeting")
afterAll(async () => {
  await deleteKeysWithPrefix(admin, prefix)
  await admin.quit()
})

type App = Awaited<ReturnType<typeof makeTestApp>>
type Answer = { variant: number; modelId: string; inExperiment: boolean; sticky: boolean }

const models = async (t: App, tag: string) =>
  Promise.all(["a", "b"].map(async (v) => {
    const created = (await (await t.app.request(
      "/v1/models",
      json(metadata({ name: "targeted", version: `${tag}-${v}-${Date.now()}` }))
    )).json()) as { id: string }
    await t.app.request(`/v1/models/${created.id}/artifact`, { method: "PUT", body: new Uint8Array([1]) })
    return created.id
  }))

const experimentBody = (ids: ReadonlyArray<string>, extra: Record<string, unknown>) => ({
  name: "targeted",
  targetMetric: "ctr",
  seed: "targeting-seed",
  variants: ids.map((modelId, i) => ({ modelId, isControl: i === 0, trafficPct: 50 })),
  ...extra
})

const problemText = async (response: Response) => JSON.stringify(await response.json())

const stores: ReadonlyArray<[string, () => Record<string, string>]> = [
  ["files", () => ({})],
  ["Redis", () => ({ ML_REDIS_URL: redisUrl, ML_REDIS_PREFIX: prefix })]
]

describe.each(stores)("targeting on %s", (_name, env) => {
  it("refuses bad conditions, namespaces, holdouts and attributes with 400s naming the field", async () => {
    const t = await makeTestApp(env())
    try {
      const ids = await models(t, "refusals")
      const refused = async (extra: Record<string, unknown>, ...parts: Array<string>) => {
        const response = await t.app.request("/v1/experiments", json(experimentBody(ids, extra)))
        expect(response.status).toBe(400)
        const text = await problemText(response)
        for (const part of parts) expect(text).toContain(part)
      }
      await refused({ condition: { country: { $inn: ["US"] } } }, "condition", "country.$inn", "unknown operator")
      await refused({ condition: { name: { $regex: "([a-z" } } }, "condition", "name.$regex", "regular expression")
      let deep: unknown = { a: 1 }
      for (let i = 0; i < MAX_CONDITION_DEPTH; i++) deep = { $not: deep }
      await refused({ condition: deep }, "condition", `nests deeper than ${MAX_CONDITION_DEPTH} levels`)
      await refused({ namespace: { id: "ns", start: 0.5, end: 0.5 } }, "namespace", "end")
      await refused({ holdout: { id: "h", share: 1 } }, "holdout", "share")
      await refused({ hashAttribute: "" }, "hashAttribute")

      const created = (await (await t.app.request(
        "/v1/experiments",
        json(experimentBody(ids, { condition: { country: "DE" } }))
      )).json()) as { id: string }
      await t.app.request(`/v1/experiments/${created.id}/start`, { method: "POST" })
      const assign = (body: unknown) => t.app.request(`/v1/experiments/${created.id}/assignments`, json(body))
      const tooMany = Object.fromEntries(Array.from({ length: MAX_ATTRIBUTES + 1 }, (_, i) => [`k${i}`, i]))
      for (
        const [body, part] of [
          [{ userId: "u", attributes: tooMany }, `at most ${MAX_ATTRIBUTES} attributes`],
          [{ userId: "u", attributes: { id: "other" } }, "is the userId"],
          [{ userId: "u", attributes: { bio: "x".repeat(2000) } }, "bio: must be at most 1024 characters"],
          [{ userId: "u", attributes: "DE" }, "attributes"],
          [{ userIds: ["u"], attributesByUser: { u: { id: 1 } } }, "attributesByUser"]
        ] as const
      ) {
        const response = await assign(body)
        expect(response.status).toBe(400)
        expect(await problemText(response)).toContain(part)
      }
    } finally {
      await t.close()
    }
  })

  it("serves the control with no exposure to users the condition leaves out; matching users stay sticky", async () => {
    const t = await makeTestApp(env())
    try {
      const ids = await models(t, "condition")
      const condition = { country: { $in: ["DE", "AT"] }, appVersion: { $vgte: "2.0.0" } }
      const created = await t.app.request("/v1/experiments", json(experimentBody(ids, { condition })))
      expect(created.status).toBe(201)
      const experiment = (await created.json()) as { id: string; condition: unknown }
      expect(experiment.condition).toEqual(condition)
      await t.app.request(`/v1/experiments/${experiment.id}/start`, { method: "POST" })
      const assign = async (body: unknown) => {
        const response = await t.app.request(`/v1/experiments/${experiment.id}/assignments`, json(body))
        expect(response.status).toBe(200)
        return response.json()
      }
      const exposures = async () =>
        ((await (await t.app.request(`/v1/experiments/${experiment.id}/results`)).json()) as {
          variants: Array<{ exposures: number }>
        }).variants.reduce((sum, v) => sum + v.exposures, 0)

      const outside =
        (await assign({ userId: "fr-user", attributes: { country: "FR", appVersion: "3.0.0" } })) as Answer
      expect(outside).toMatchObject({ variant: 0, modelId: ids[0], inExperiment: false, sticky: false })
      const old = (await assign({ userId: "old-app", attributes: { country: "DE", appVersion: "1.9.9" } })) as Answer
      expect(old.inExperiment).toBe(false)
      const noAttributes = (await assign({ userId: "anonymous" })) as Answer
      expect(noAttributes.inExperiment).toBe(false)
      expect(await exposures()).toBe(0)

      const attributes = { country: "DE", appVersion: "2.1.0" }
      const inside = (await assign({ userId: "de-user", attributes })) as Answer
      expect(inside).toMatchObject({ inExperiment: true, sticky: true })
      // The variant the pure targeting gives (checked against the GrowthBook SDK in core's tests).
      const expected = makeTargetedAssigner({
        seed: "targeting-seed",
        coverage: 1,
        mode: "ab",
        banditHistory: [],
        variants: ids.map((modelId, i) => ({ modelId, isControl: i === 0, trafficPct: 50 })),
        condition
      })("de-user", attributes)
      expect(inside.variant).toBe(expected)
      const again = (await assign({ userId: "de-user", attributes })) as Answer
      expect(again).toEqual(inside)
      expect(await exposures()).toBe(1)
      // A sticky user keeps the stored variant when no longer matching (GrowthBook's sticky bucketing):
      // no new exposure, and the same answer when matching again.
      const moved = (await assign({ userId: "de-user", attributes: { ...attributes, country: "FR" } })) as Answer
      expect(moved).toEqual(inside)
      expect(await assign({ userId: "de-user", attributes })).toEqual(inside)
      expect(await exposures()).toBe(1)

      const batch = (await assign({
        userIds: ["de-user", "fr-user", "at-user"],
        attributesByUser: {
          "de-user": attributes,
          "fr-user": { country: "FR" },
          "at-user": { ...attributes, country: "AT" }
        }
      })) as { items: Array<Answer> }
      expect(batch.items.map((a) => a.inExperiment)).toEqual([true, false, true])
      expect(batch.items[0]).toEqual(inside)
      expect(await exposures()).toBe(2)
    } finally {
      await t.close()
    }
  })

  it("hashes the hash attribute: users of one company share a variant; a user without it is left out", async () => {
    const t = await makeTestApp(env())
    try {
      const ids = await models(t, "hash-attribute")
      const created = (await (await t.app.request(
        "/v1/experiments",
        json(experimentBody(ids, { hashAttribute: "company", stickyAssignment: false }))
      )).json()) as { id: string; hashAttribute: string }
      expect(created.hashAttribute).toBe("company")
      await t.app.request(`/v1/experiments/${created.id}/start`, { method: "POST" })
      const userIds = Array.from({ length: 40 }, (_, i) => `user-${i}`)
      const batch = (await (await t.app.request(
        `/v1/experiments/${created.id}/assignments`,
        json({ userIds, attributesByUser: Object.fromEntries(userIds.map((u, i) => [u, { company: `c${i % 4}` }])) })
      )).json()) as { items: Array<Answer> }
      for (const [i, answer] of batch.items.entries()) {
        expect(answer.inExperiment).toBe(true)
        expect(answer.variant).toBe(batch.items[i % 4]!.variant)
      }
      const without = (await (await t.app.request(
        `/v1/experiments/${created.id}/assignments`,
        json({ userId: "loner" })
      )).json()) as Answer
      expect(without.inExperiment).toBe(false)
    } finally {
      await t.close()
    }
  })
})
