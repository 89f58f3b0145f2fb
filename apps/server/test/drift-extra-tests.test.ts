/**
 * Extra drift tests over HTTP: a monitor names them in settings.extraTests and each numeric
 * feature's report carries their statistics; an unknown or repeated name is a 400 naming the
 * field, and nothing is stored.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { json, makeTestApp } from "./helpers.js"

let t: Awaited<ReturnType<typeof makeTestApp>>
beforeAll(async () => {
  t = await makeTestApp({ ML_DRIFT_SCHEDULER_TICK_MS: "3600000" })
})
afterAll(() => t.close())

const request = (url: string, init?: RequestInit) => t.app.request(url, init)
let state = 3
const uniform = () => {
  state = (Math.imul(state, 1664525) + 1013904223) >>> 0
  return state / 4294967296
}
const normalish = (n: number, loc = 0) =>
  Array.from({ length: n }, () => loc + uniform() + uniform() + uniform() + uniform() - 2)

describe("extra drift tests over HTTP", () => {
  it("reports the named tests' statistics per numeric feature, beside KS and PSI", async () => {
    const created = await request(
      "/v1/drift/monitors",
      json({
        id: "extras",
        features: [{ name: "amount", kind: "feature", type: "numeric" }, {
          name: "country",
          kind: "feature",
          type: "categorical"
        }],
        settings: { extraTests: ["wasserstein", "anderson-darling"] }
      })
    )
    expect(created.status).toBe(201)
    expect(((await created.json()) as { settings: { extraTests: Array<string> } }).settings.extraTests).toEqual([
      "wasserstein",
      "anderson-darling"
    ])
    const country = Array.from({ length: 400 }, (_, i) => ["de", "fr"][i % 2])
    await request("/v1/drift/monitors/extras/baseline", json({ amount: normalish(3000), country }, { method: "PUT" }))
    await request(
      "/v1/drift/monitors/extras/observations",
      json({ values: { amount: normalish(500, 0.5), country: country.slice(0, 200) } })
    )
    const report = (await (await request("/v1/drift/monitors/extras/check", { method: "POST" })).json()) as {
      features: Array<{ feature: string; statistics?: Record<string, { statistic: number; pValue?: number }> }>
    }
    const amount = report.features.find((f) => f.feature === "amount")!
    expect(Object.keys(amount.statistics!)).toEqual(expect.arrayContaining(["wasserstein", "anderson-darling"]))
    expect(amount.statistics!["energy"]).toBeUndefined() // not named by the monitor
    expect(amount.statistics!["wasserstein"]!.statistic).toBeGreaterThan(0.3)
    expect(amount.statistics!["anderson-darling"]!.pValue).toBe(0.001)
    const categorical = report.features.find((f) => f.feature === "country")!
    expect(categorical.statistics?.["wasserstein"]).toBeUndefined()
  })

  it("rejects an unknown or repeated test name with a 400 naming settings.extraTests.<index>", async () => {
    const before = await t.snapshot()
    const response = await request(
      "/v1/drift/monitors",
      json({
        id: "bad-extras",
        features: [{ name: "amount", kind: "feature", type: "numeric" }],
        settings: { extraTests: ["energy", "mmd", "energy"] }
      })
    )
    expect(response.status).toBe(400)
    const problem = (await response.json()) as { errors: Array<{ path: string; message: string }> }
    expect(problem.errors.map((e) => e.path)).toEqual(["settings.extraTests.1", "settings.extraTests.2"])
    expect(problem.errors[0]!.message).toMatch(/must be one of wasserstein, energy, cramer-von-mises, anderson-darling/)
    expect(await t.snapshot()).toEqual(before)
  })
})
