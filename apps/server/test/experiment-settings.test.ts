/**
 * Changing the targeting condition and the metric caps of a running experiment (PATCH, issue 18):
 * new assignments follow the new condition while users with a sticky assignment keep theirs; caps
 * apply to the values recorded from then on; every change is recorded (settingChanges, with the
 * principal) and bumps the revision; a bad condition or cap is a 400 naming the field and changes
 * nothing; a completed experiment refuses changes (409).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { json, makeTestApp, metadata } from "./helpers.js"

let t: Awaited<ReturnType<typeof makeTestApp>>
beforeAll(async () => {
  t = await makeTestApp({ ML_AB_MIN_SAMPLES: "5" })
})
afterAll(() => t.close())

const request = (url: string, init?: RequestInit) => t.app.request(url, init)
const body = async <A>(response: Response | Promise<Response>) => (await (await response).json()) as A
let models = 0
const model = async () => {
  const created = await body<{ id: string }>(
    request("/v1/models", json(metadata({ name: "settings-model", version: `s-${models++}` })))
  )
  await request(`/v1/models/${created.id}/artifact`, { method: "PUT", body: new Uint8Array([1]) })
  await request(`/v1/models/${created.id}/promote`, json({ status: "testing" }))
  return created.id
}

interface Stored {
  readonly revision: number
  readonly condition?: unknown
  readonly metricCaps?: unknown
  readonly settingChanges?: ReadonlyArray<Record<string, unknown>>
}
interface Problem {
  readonly status: number
  readonly errors: ReadonlyArray<{ readonly path: string; readonly message: string }>
}

const startedExperiment = async (extra: Record<string, unknown>) => {
  const [control, treatment] = [await model(), await model()]
  const created = await request(
    "/v1/experiments",
    json({
      name: "settings",
      targetMetric: "revenue",
      variants: [
        { modelId: control, isControl: true, trafficPct: 50 },
        { modelId: treatment, isControl: false, trafficPct: 50 }
      ],
      ...extra
    })
  )
  expect(created.status).toBe(201)
  const { id } = await body<{ id: string }>(created)
  expect((await request(`/v1/experiments/${id}/start`, { method: "POST" })).status).toBe(200)
  return { id, control, treatment }
}

const patch = (id: string, change: unknown) => request(`/v1/experiments/${id}`, json(change, { method: "PATCH" }))
const usersOf = (group: string) => Array.from({ length: 200 }, (_, i) => `${group}-${i}`)
const assign = (id: string, users: ReadonlyArray<string>, country: string) =>
  body<{ items: Array<{ inExperiment: boolean; sticky: boolean }> }>(request(
    `/v1/experiments/${id}/assignments`,
    json({ userIds: users, attributesByUser: Object.fromEntries(users.map((u) => [u, { country }])) })
  ))

describe("changing the condition and caps of a running experiment", () => {
  it("targets new assignments with the new condition; sticky users keep theirs; the change is recorded", async () => {
    const e = await startedExperiment({ condition: { country: "DE" }, stickyAssignment: true })
    const early = usersOf("early")
    expect((await assign(e.id, early, "DE")).items.every((a) => a.inExperiment)).toBe(true)
    expect((await assign(e.id, usersOf("fr"), "FR")).items.some((a) => a.inExperiment)).toBe(false)

    const changed = await patch(e.id, { condition: { country: { $in: ["FR", "AT"] } }, onBehalfOf: "alice" })
    expect(changed.status).toBe(200)
    const stored = await body<Stored>(changed)
    expect(stored.condition).toEqual({ country: { $in: ["FR", "AT"] } })
    expect(stored.revision).toBe(3)
    expect(stored.settingChanges).toEqual([
      expect.objectContaining({ condition: { country: { $in: ["FR", "AT"] } }, onBehalfOf: "alice" })
    ])
    expect(stored.settingChanges![0]!.actor).toEqual(expect.any(String))
    // Users in the experiment before keep their variant although DE no longer matches.
    expect((await assign(e.id, early, "DE")).items.every((a) => a.inExperiment && a.sticky)).toBe(true)
    // New users are targeted with the new condition.
    const newcomers = await body<{ items: Array<{ inExperiment: boolean }> }>(request(
      `/v1/experiments/${e.id}/assignments`,
      json({
        userIds: ["n-1", "n-2", "n-3"],
        attributesByUser: { "n-1": { country: "AT" }, "n-2": { country: "DE" }, "n-3": { country: "FR" } }
      })
    ))
    expect(newcomers.items.map((a) => a.inExperiment)).toEqual([true, false, true])

    // null removes the condition: everyone is targeted.
    const removed = await body<Stored>(patch(e.id, { condition: null }))
    expect(removed.condition).toBeUndefined()
    expect(removed.settingChanges!.map((c) => c.condition)).toEqual([{ country: { $in: ["FR", "AT"] } }, null])
    const anyone = await body<{ inExperiment: boolean }>(
      request(`/v1/experiments/${e.id}/assignments`, json({ userId: "n-4", attributes: { country: "JP" } }))
    )
    expect(anyone.inExperiment).toBe(true)
    // The stored definition is the one served.
    expect((await body<Stored>(request(`/v1/experiments/${e.id}`))).revision).toBe(removed.revision)
  })

  it("applies changed caps to the values recorded from then on and reports the current caps", async () => {
    const e = await startedExperiment({ metricCaps: { revenue: { upper: 100 } } })
    const record = (values: ReadonlyArray<number>) =>
      request(
        `/v1/experiments/${e.id}/metrics`,
        json({ observations: values.map((value) => ({ modelId: e.control, metric: "revenue", value })) })
      )
    expect((await record([500, 50])).status).toBe(202)
    const changed = await body<Stored>(patch(e.id, { metricCaps: { revenue: { upper: 200, lower: 60 } } }))
    expect(changed.metricCaps).toEqual({ revenue: { upper: 200, lower: 60 } })
    expect(changed.settingChanges).toEqual([
      expect.objectContaining({ metricCaps: { revenue: { upper: 200, lower: 60 } } })
    ])
    expect((await record([500, 50])).status).toBe(202)
    const results = await body<{
      metricCaps: unknown
      variants: Array<{ metrics: Record<string, { n: number; mean: number }> }>
    }>(request(`/v1/experiments/${e.id}/results`))
    expect(results.metricCaps).toEqual({ revenue: { upper: 200, lower: 60 } })
    // Before the change: 100 and 50; after: 200 and 60.
    expect(results.variants[0]!.metrics.revenue).toMatchObject({ n: 4, mean: (100 + 50 + 200 + 60) / 4 })
    const uncapped = await body<Stored>(patch(e.id, { metricCaps: null }))
    expect(uncapped.metricCaps).toBeUndefined()
  })

  it("answers a bad condition or cap with a 400 naming the field, changing nothing", async () => {
    const e = await startedExperiment({ condition: { country: "DE" } })
    const before = await body<Stored>(request(`/v1/experiments/${e.id}`))
    for (
      const [change, path, message] of [
        [{ condition: { country: { $in: "DE" } } }, "condition", /country\.\$in: must be an array/],
        [{ condition: { country: { $bogus: 1 } } }, "condition", /\$bogus/],
        [{ metricCaps: { revenue: { upper: 1, lower: 5 } } }, "metricCaps.revenue.lower", /at most upper/],
        [{ metricCaps: { revenue: { upper: 1e200 } } }, "metricCaps.revenue.upper", /1e\+120/]
      ] as const
    ) {
      const problem = await body<Problem>(patch(e.id, change))
      expect(problem.status, JSON.stringify(change)).toBe(400)
      expect(problem.errors.map((x) => x.path)).toContain(path)
      expect(problem.errors.map((x) => x.message).join(" ")).toMatch(message)
    }
    expect(await body<Stored>(request(`/v1/experiments/${e.id}`))).toEqual(before)
  })

  it("refuses changes to a completed experiment (409)", async () => {
    const e = await startedExperiment({})
    expect((await request(`/v1/experiments/${e.id}/complete`, json({}))).status).toBe(200)
    expect((await patch(e.id, { condition: { country: "DE" } })).status).toBe(409)
    expect((await patch(e.id, { metricCaps: { revenue: { upper: 1 } } })).status).toBe(409)
  })
})
