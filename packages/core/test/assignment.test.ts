/**
 * GrowthBook compatibility: the peer's public conformance vectors (test/conformance), and
 * 100,000 random (seed, user, weights, coverage) cases run through the real
 * @growthbook/growthbook SDK.
 */
import { GrowthBookClient } from "@growthbook/growthbook"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { chooseVariation, getBucketRanges, getEqualWeights, hash, inNamespace, makeRandom } from "../src/index.js"
import cases from "./conformance/growthbook-cases.json" with { type: "json" }

const round = (x: number) => Math.round(x * 1e6) / 1e6

describe("GrowthBook conformance vectors", () => {
  it("hash", () => {
    for (const [seed, value, version, expected] of cases.hash as Array<[string, string, number, number | null]>) {
      const actual = hash(seed, value, version)
      expect(actual === null ? null : round(actual)).toBe(expected)
    }
  })

  it("getBucketRange", () => {
    for (
      const [, [n, coverage, weights], expected] of cases.getBucketRange as Array<
        [string, [number, number, Array<number> | null], Array<[number, number]>]
      >
    ) {
      expect(getBucketRanges(n, coverage, weights).map(([a, b]) => [round(a), round(b)])).toEqual(expected)
    }
  })

  it("chooseVariation", () => {
    for (
      const [, n, ranges, expected] of cases.chooseVariation as Array<[string, number, Array<[number, number]>, number]>
    ) {
      expect(chooseVariation(n, ranges)).toBe(expected)
    }
  })

  it("inNamespace", () => {
    for (
      const [, id, namespace, expected] of cases.inNamespace as Array<
        [string, string, [string, number, number], boolean]
      >
    ) {
      expect(inNamespace(id, namespace)).toBe(expected)
    }
  })

  it("getEqualWeights", () => {
    for (const [n, expected] of cases.getEqualWeights as Array<[number, Array<number>]>) {
      const actual = getEqualWeights(n)
      expect(actual).toHaveLength(expected.length)
      actual.forEach((w, i) => expect(Math.abs(w - expected[i]!)).toBeLessThan(1e-6))
    }
  })
})

describe("agreement with the @growthbook/growthbook SDK", () => {
  it("assigns 100,000 random users exactly as the SDK does", () => {
    const client = new GrowthBookClient({})
    const random = makeRandom("growthbook-differential")
    const text = () => {
      const length = 1 + (random.nextUint32() % 24)
      let s = ""
      for (let i = 0; i < length; i++) s += String.fromCharCode(32 + (random.nextUint32() % 95))
      return s
    }
    let compared = 0
    for (let i = 0; i < 100_000; i++) {
      // (An empty seed makes the SDK fall back to the experiment key, so seeds are non-empty.)
      const seed = text()
      const userId = text()
      const variations = 2 + (random.nextUint32() % 3)
      const raw = Array.from({ length: variations }, () => 1 + (random.nextUint32() % 100))
      const total = raw.reduce((a, b) => a + b, 0)
      const weights = raw.map((w) => w / total)
      const coverage = random.nextUint32() % 4 === 0 ? (random.nextUint32() % 101) / 100 : 1
      const ours = chooseVariation(hash(seed, userId, 2)!, getBucketRanges(variations, coverage, weights))
      const theirs = client.runInlineExperiment(
        {
          key: `exp-${i}`,
          seed,
          hashVersion: 2,
          variations: Array.from({ length: variations }, (_, v) => v) as [number, number, ...Array<number>],
          weights,
          coverage
        },
        { attributes: { id: userId } }
      )
      expect(theirs.inExperiment).toBe(ours !== -1)
      if (ours !== -1) expect(theirs.variationId).toBe(ours)
      compared++
    }
    expect(compared).toBe(100_000)
  })

  it("hashes any string like the SDK's bucket values", () => {
    const client = new GrowthBookClient({})
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (seed, userId) => {
        const theirs = client.runInlineExperiment({ key: "k", seed, hashVersion: 2, variations: [0, 1] }, {
          attributes: { id: userId }
        })
        if (theirs.bucket !== undefined) expect(theirs.bucket).toBe(hash(seed, userId, 2))
      }),
      { numRuns: 2000 }
    )
  })
})
