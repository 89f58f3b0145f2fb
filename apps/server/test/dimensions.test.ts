/**
 * Dimension breakdowns over HTTP, on the filesystem store and on Redis: observations and exposures
 * carry dimensions, GET .../results/breakdown?dimension= answers per value with p-values adjusted
 * across the breakdown, and dimensions beyond the limits are refused with a 400 naming the field,
 * storing nothing.
 */
import { connectOrFail, deleteKeysWithPrefix, redisUrl, uniquePrefix } from "@org/ml-adapter-redis/testing"
import { makeRandom } from "@org/ml-core"
import { afterAll, describe, expect, it } from "vitest"
import { json, makeTestApp, metadata } from "./helpers.js"

const admin = await connectOrFail()
const prefix = uniquePrefix("dimensions")
afterAll(async () => {
  await deleteKeysWithPrefix(admin, prefix)
  await admin.quit()
})

interface Breakdown {
  correction: string
  tests: number
  values: Array<{
    value: string
    variants: Array<{ exposures: number }>
    comparisons: Array<
      { metric: string; pValue: number; breakdownAdjustedPValue: number; significantlyBetter: boolean }
    >
  }>
}

describe.each([["fs", {}], ["redis", { ML_REDIS_URL: redisUrl, ML_REDIS_PREFIX: prefix }]])(
  "dimension breakdowns over HTTP (%s)",
  (_name, env: Record<string, string>) => {
    it("answers per value with adjusted p-values, and refuses dimensions beyond the limits", async () => {
      const t = await makeTestApp(env)
      const request = async (p: string, init?: RequestInit) => await t.app.request(p, init)
      try {
        const ids: Array<string> = []
        for (const version of ["1", "2"]) {
          const name = `sliced-${_name}-${Date.now()}`
          ids.push(
            ((await (await request("/v1/models", json(metadata({ name, version })))).json()) as { id: string }).id
          )
        }
        const created = (await (await request(
          "/v1/experiments",
          json({
            name: "sliced",
            targetMetric: "revenue",
            variants: ids.map((modelId, i) => ({ modelId, isControl: i === 0, trafficPct: 50 }))
          })
        )).json()) as { id: string }
        expect((await request(`/v1/experiments/${created.id}/start`, { method: "POST" })).status).toBe(200)
        const random = makeRandom(`sliced-${_name}`)
        const observations = ["de", "fr"].flatMap((country) =>
          ids.flatMap((modelId, variant) =>
            Array.from({ length: 200 }, () => ({
              modelId,
              metric: "revenue",
              value: random.normal(10 + (country === "de" && variant === 1 ? 1 : 0), 1),
              dimensions: { country }
            }))
          )
        )
        expect((await request(`/v1/experiments/${created.id}/metrics`, json({ observations }))).status).toBe(202)
        expect(
          (await request(
            `/v1/experiments/${created.id}/exposures`,
            json({ exposures: [{ modelId: ids[1], count: 4, dimensions: { country: "fr" } }] })
          )).status
        ).toBe(202)
        const response = await request(`/v1/experiments/${created.id}/results/breakdown?dimension=country`)
        expect(response.status).toBe(200)
        const breakdown = (await response.json()) as Breakdown
        expect(breakdown.correction).toBe("benjamini-hochberg")
        expect(breakdown.tests).toBe(2)
        expect(breakdown.values.map((v) => v.value)).toEqual(["de", "fr"])
        const [de, fr] = breakdown.values
        expect(de!.comparisons[0]!.significantlyBetter).toBe(true)
        expect(fr!.comparisons[0]!.significantlyBetter).toBe(false)
        expect(fr!.variants[1]!.exposures).toBe(4)
        // BH with two tests: the larger p stays, the smaller is doubled unless the larger is smaller.
        const ps = breakdown.values.map((v) => v.comparisons[0]!.pValue)
        const adjusted = breakdown.values.map((v) => v.comparisons[0]!.breakdownAdjustedPValue)
        expect(adjusted[1]).toBeCloseTo(Math.min(1, ps[1]!), 12)
        expect(adjusted[0]).toBeCloseTo(Math.min(2 * ps[0]!, ps[1]!), 12)

        const before = await t.snapshot()
        const refused = await request(
          `/v1/experiments/${created.id}/metrics`,
          json({
            observations: [{
              modelId: ids[0],
              metric: "revenue",
              value: 1,
              dimensions: Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`d${i}`, "x"]))
            }]
          })
        )
        expect(refused.status).toBe(400)
        expect(JSON.stringify(await refused.json())).toContain("must hold at most 5 dimensions, got 6")
        expect(await t.snapshot()).toEqual(before)
        const missing = await request(`/v1/experiments/${created.id}/results/breakdown`)
        expect(missing.status).toBe(400)
        expect(JSON.stringify(await missing.json())).toContain("dimension is required")
        const badName = await request(`/v1/experiments/${created.id}/results/breakdown?dimension=9x`)
        expect(badName.status).toBe(400)
        expect(JSON.stringify(await badName.json())).toContain("dimension")
      } finally {
        await t.close()
      }
    })
  }
)
