/**
 * The binned and binary drift tests over HTTP: a check's report carries every applicable test's
 * statistic per feature, read back unchanged from the stored reports.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { json, makeTestApp } from "./helpers.js"

let t: Awaited<ReturnType<typeof makeTestApp>>
beforeAll(async () => {
  t = await makeTestApp({ ML_DRIFT_SCHEDULER_TICK_MS: "3600000" })
})
afterAll(() => t.close())

const request = (url: string, init?: RequestInit) => t.app.request(url, init)

interface Statistic {
  readonly statistic: number | null
  readonly pValue?: number
}
interface Report {
  readonly features: ReadonlyArray<{ feature: string; statistics?: Record<string, Statistic> }>
}

describe("extra drift statistics over HTTP", () => {
  it("reports the z-test and Fisher's exact test for a 0/1 feature and the distances for every feature", async () => {
    const created = await request(
      "/v1/drift/monitors",
      json({
        id: "binary-flags",
        features: [
          { name: "flag", kind: "feature", type: "numeric" },
          { name: "tier", kind: "feature", type: "categorical" }
        ],
        settings: { windowSize: 2000, minWindow: 100 }
      })
    )
    expect(created.status).toBe(201)
    // The case: a baseline of 5,000 ones, then a window of 700 zeros and 300 ones.
    const baseline = await request(
      "/v1/drift/monitors/binary-flags/baseline",
      json({ flag: Array(5000).fill(1), tier: Array.from({ length: 300 }, (_, i) => ["a", "b", "c"][i % 3]) }, {
        method: "PUT"
      })
    )
    expect(baseline.status).toBe(200)
    const recorded = await request(
      "/v1/drift/monitors/binary-flags/observations",
      json({
        values: {
          flag: [...Array(700).fill(0), ...Array(300).fill(1)],
          tier: Array.from({ length: 300 }, (_, i) => ["a", "b", "c"][i % 3])
        }
      })
    )
    expect(recorded.status).toBe(202)
    const report = (await (await request("/v1/drift/monitors/binary-flags/check", { method: "POST" })).json()) as Report
    const flag = report.features.find((f) => f.feature === "flag")!.statistics!
    // statsmodels' proportions_ztest([300, 5000], [1000, 5000]): z = -62.95, p = 0; scipy's fisher_exact: p = 0.
    expect(flag["z-test"]!.statistic).toBeCloseTo(-62.94651817966896, 10)
    expect(flag["z-test"]!.pValue).toBe(0)
    expect(flag["fisher-exact"]).toEqual({ statistic: 0, pValue: 0 })
    expect(Object.keys(flag)).toEqual(
      expect.arrayContaining(["ks", "psi", "jensen-shannon", "kl-divergence", "hellinger"])
    )
    // Three categories: the binary tests do not apply; identical shares are at distance 0.
    const tier = report.features.find((f) => f.feature === "tier")!.statistics!
    expect(tier).not.toHaveProperty("z-test")
    expect(tier["jensen-shannon"]).toEqual({ statistic: 0 })
    expect(tier.hellinger).toEqual({ statistic: 0 })

    const stored = (await (await request("/v1/drift/reports?monitorId=binary-flags")).json()) as {
      items: ReadonlyArray<Report>
    }
    expect(stored.items[0]!.features).toEqual(report.features)
  })
})
