// Registry search and key-value tags over HTTP: the example query, 400s naming the bad
// token and its position, cursor paging, tags set/deleted one key at a time with their audit events,
// and the bounds on tags refused with 400s naming the field.
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { json, makeTestApp, metadata } from "./helpers.js"

const t = await makeTestApp()
afterAll(t.close)

interface Model {
  readonly id: string
  readonly name: string
  readonly version: string
  readonly keyValueTags?: Record<string, string>
  readonly metrics: Record<string, number>
}
interface Problem {
  readonly detail?: string
  readonly errors?: ReadonlyArray<{ readonly path: string; readonly message: string }>
}

const register = async (fields: Record<string, unknown>): Promise<Model> => {
  const response = await t.app.request("/v1/models", json(metadata(fields)))
  expect(response.status, await response.clone().text()).toBe(201)
  return (await response.json()) as Model
}
const search = (query: Record<string, string>) =>
  t.app.request(`/v1/models/search?${new URLSearchParams(query).toString()}`)

const models: Record<string, Model> = {}

beforeAll(async () => {
  models.riskGood = await register({
    name: "churn",
    version: "1",
    metrics: { auc: 0.95 },
    keyValueTags: { team: "risk" }
  })
  models.riskBad = await register({
    name: "churn",
    version: "2",
    metrics: { auc: 0.8 },
    keyValueTags: { team: "risk" }
  })
  models.growth = await register({
    name: "churn",
    version: "3",
    metrics: { auc: 0.97 },
    keyValueTags: { team: "growth" }
  })
  models.riskBetter = await register({
    name: "churn",
    version: "4",
    metrics: { auc: 0.99 },
    keyValueTags: { team: "risk" },
    tags: ["gpu"]
  })
  models.other = await register({ name: "fraud", version: "1", metrics: { auc: 0.99 }, keyValueTags: { team: "risk" } })
})

describe("GET /v1/models/search", () => {
  it("answers the issue's example, in the order asked", async () => {
    const response = await search({
      filter: "name = 'churn' AND tags.team = 'risk' AND metrics.auc > 0.9 AND status IN ('draft', 'staging')",
      orderBy: "metrics.auc DESC"
    })
    expect(response.status).toBe(200)
    const page = (await response.json()) as { items: Array<Model>; nextCursor: string | null }
    expect(page.items.map((m) => m.id)).toEqual([models.riskBetter!.id, models.riskGood!.id])
    expect(page.nextCursor).toBeNull()
  })

  it("matches plain labels with labels = 'L' and pages with the cursor", async () => {
    const labelled = (await (await search({ filter: "labels = 'gpu'" })).json()) as { items: Array<Model> }
    expect(labelled.items.map((m) => m.id)).toEqual([models.riskBetter!.id])
    const seen: Array<string> = []
    let cursor: string | null = null
    do {
      const response = await search({
        filter: "metrics.auc >= 0.8",
        orderBy: "metrics.auc",
        limit: "2",
        ...(cursor ? { cursor } : {})
      })
      expect(response.status).toBe(200)
      const page = (await response.json()) as { items: Array<Model>; nextCursor: string | null }
      seen.push(...page.items.map((m) => `${m.name}@${m.version}`))
      cursor = page.nextCursor
    } while (cursor)
    expect(seen).toEqual(["churn@2", "churn@1", "churn@3", "churn@4", "fraud@1"])
  })

  it.each([
    ["name = 'churn' ANDD status = 'draft'", "unexpected token 'ANDD' at 15"],
    ["name = 'churn", "unterminated string at 7"],
    ["nmae = 'churn'", "unknown field 'nmae' at 0"],
    ["metrics.auc > 'high'", "metrics.auc compares with numbers: got 'high' at 14"],
    ["name = 'x' OR 1 = 1", "unexpected token 'OR' at 11"],
    ["name = 'x'; DROP TABLE ml_models", "unexpected token ';' at 10"]
  ])("answers 400 naming the token of %s", async (filter, message) => {
    const response = await search({ filter })
    expect(response.status).toBe(400)
    const problem = (await response.json()) as Problem
    expect(problem.errors).toEqual([{ path: "filter", message }])
    expect(problem.detail).toContain(message)
  })

  it("answers 400 for a bad order, a foreign cursor and an over-long filter, naming each field", async () => {
    const order = (await (await search({ orderBy: "metrics.auc SIDEWAYS" })).json()) as Problem
    expect(order.errors).toEqual([{ path: "orderBy", message: "unexpected token 'SIDEWAYS' at 12" }])
    const first = (await (await search({ orderBy: "name", limit: "1" })).json()) as { nextCursor: string }
    const foreign = await search({ orderBy: "metrics.auc DESC", cursor: first.nextCursor })
    expect(foreign.status).toBe(400)
    expect(((await foreign.json()) as Problem).errors?.[0]?.path).toBe("cursor")
    const long = await search({ filter: `name = '${"x".repeat(5000)}'` })
    expect(long.status).toBe(400)
    expect(((await long.json()) as Problem).errors?.[0]).toMatchObject({ path: "filter", message: /4096/ })
    const control = await search({ filter: "name = 'a\u0000'" })
    expect(control.status).toBe(400)
  })
})

describe("key-value tags", () => {
  it("sets and deletes one key at a time, auditing tag_set and tag_deleted", async () => {
    const model = await register({ name: "tagged", version: "1" })
    const set = await t.app.request(
      `/v1/models/${model.id}/tags/${encodeURIComponent("cost center")}`,
      json({ value: "eu-7" }, { method: "PUT" })
    )
    expect(set.status).toBe(200)
    expect(((await set.json()) as Model).keyValueTags).toEqual({ "cost center": "eu-7" })
    const again = await t.app.request(`/v1/models/${model.id}/tags/owner`, json({ value: "ana" }, { method: "PUT" }))
    expect(((await again.json()) as Model).keyValueTags).toEqual({ "cost center": "eu-7", owner: "ana" })
    const found = (await (await search({ filter: "tags.`cost center` = 'eu-7'" })).json()) as { items: Array<Model> }
    expect(found.items.map((m) => m.id)).toEqual([model.id])
    const deleted = await t.app.request(`/v1/models/${model.id}/tags/owner`, { method: "DELETE" })
    expect(deleted.status).toBe(200)
    expect(((await deleted.json()) as Model).keyValueTags).toEqual({ "cost center": "eu-7" })
    // Deleting an absent key, or setting the same value, changes nothing and audits nothing.
    await t.app.request(`/v1/models/${model.id}/tags/owner`, { method: "DELETE" })
    await t.app.request(`/v1/models/${model.id}/tags/owner2`, { method: "DELETE" })
    const patched = await t.app.request(
      `/v1/models/${model.id}`,
      json({ keyValueTags: { stage: "beta" } }, { method: "PATCH" })
    )
    expect(((await patched.json()) as Model).keyValueTags).toEqual({ "cost center": "eu-7", stage: "beta" })
    const history = (await (await t.app.request(`/v1/models/${model.id}/history`)).json()) as Array<
      { action: string; changes?: Record<string, { from: unknown; to: unknown }> }
    >
    expect(history.map((e) => e.action)).toEqual(["registered", "tag_set", "tag_set", "tag_deleted", "updated"])
    expect(history[1]!.changes).toEqual({ "keyValueTags.cost center": { from: null, to: "eu-7" } })
    expect(history[3]!.changes).toEqual({ "keyValueTags.owner": { from: "ana", to: null } })
  })

  it("refuses control characters, over-long values and more than 64 keys with 400s naming the field", async () => {
    const model = await register({ name: "bounded", version: "1" })
    const put = (key: string, value: string) =>
      t.app.request(`/v1/models/${model.id}/tags/${encodeURIComponent(key)}`, json({ value }, { method: "PUT" }))
    const control = await put("team", "risk\nsecurity")
    expect(control.status).toBe(400)
    expect(((await control.json()) as Problem).errors?.[0]?.path).toBe("value")
    const long = await put("team", "x".repeat(1025))
    expect(long.status).toBe(400)
    expect(((await long.json()) as Problem).errors?.[0]?.message).toMatch(/1024/)
    const badKey = await put("k\u202E", "x")
    expect(badKey.status).toBe(400)
    expect(((await badKey.json()) as Problem).errors?.[0]?.path).toBe("key")
    const tooMany = await t.app.request(
      "/v1/models",
      json(metadata({
        name: "bounded",
        version: "2",
        keyValueTags: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"]))
      }))
    )
    expect(tooMany.status).toBe(400)
    expect(((await tooMany.json()) as Problem).errors?.[0]).toMatchObject({ path: "keyValueTags", message: /64/ })
    for (let i = 0; i < 64; i++) expect((await put(`k${i}`, "v")).status).toBe(200)
    const sixtyFifth = await put("k64", "v")
    expect(sixtyFifth.status).toBe(400)
    expect(((await sixtyFifth.json()) as Problem).errors?.[0]).toMatchObject({ path: "key", message: /64/ })
    expect((await put("k0", "changed")).status).toBe(200)
  })
})
