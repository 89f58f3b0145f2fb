/**
 * Who takes part in an experiment (Targeting.ts) against the @growthbook/growthbook SDK's run():
 * random experiments with conditions, hash attributes, namespaces, coverage and weights, on
 * random attribute sets; the fallback attribute against a run on the fallback itself; holdouts
 * against a GrowthBook experiment of the holdout's seed and coverage; and the conformance
 * vectors' "run" cases on conditions, hash attributes and namespaces (their outcome: in or out).
 */
import { GrowthBookClient } from "@growthbook/growthbook"
import { describe, expect, it } from "vitest"
import { holdoutSeed, makeTargetedAssigner, type TargetedExperiment } from "../src/experiments/Targeting.js"
import { makeRandom } from "../src/index.js"
import cases from "./conformance/growthbook-cases.json" with { type: "json" }

const base = (variants: number, seed: string): TargetedExperiment => ({
  seed,
  coverage: 1,
  mode: "ab",
  banditHistory: [],
  variants: Array.from({ length: variants }, (_, i) => ({
    modelId: `m${i}`,
    isControl: i === 0,
    trafficPct: 100 / variants
  }))
})

describe("agreement with the GrowthBook SDK's run()", () => {
  it("on 10,000 random targeted experiments and users", () => {
    const client = new GrowthBookClient({})
    const random = makeRandom("targeting-differential")
    const int = (n: number) => random.nextUint32() % n
    const pick = <A>(items: ReadonlyArray<A>): A => items[int(items.length)]!
    const conditions = [
      { country: { $in: ["US", "CA"] } },
      { $or: [{ age: { $gte: 18 } }, { premium: true }] },
      { appVersion: { $vgte: "2.0.0" } },
      { "device.os": { $regex: "^i" } },
      { $not: { country: "FR" } },
      { tags: { $elemMatch: { $eq: "beta" } } },
      // Reads the user id (the "id" attribute).
      { $or: [{ id: { $regex: "7$" } }, { country: "FR" }] }
    ]
    let inCount = 0
    for (let i = 0; i < 10_000; i++) {
      const variations = 2 + int(3)
      const raw = Array.from({ length: variations }, () => 1 + int(100))
      const total = raw.reduce((a, b) => a + b, 0)
      const experiment: TargetedExperiment = {
        ...base(variations, `seed-${int(50)}`),
        coverage: int(3) === 0 ? int(101) / 100 : 1,
        variants: raw.map((w, v) => ({ modelId: `m${v}`, isControl: v === 0, trafficPct: (100 * w) / total })),
        ...(int(2) === 0 ? { condition: pick(conditions) } : {}),
        ...(int(3) === 0 ? { hashAttribute: pick(["company", "deviceId", "age"]) } : {}),
        ...(int(3) === 0
          ? { namespace: { id: pick(["ns1", "ns2"]), start: int(50) / 100, end: (50 + int(51)) / 100 } }
          : {})
      }
      const userId = `user-${int(100_000)}`
      const attributes = {
        ...(int(4) !== 0 ? { country: pick(["US", "CA", "FR", "DE"]) } : {}),
        ...(int(4) !== 0 ? { age: int(60) } : {}),
        ...(int(2) === 0 ? { premium: int(2) === 0 } : {}),
        ...(int(2) === 0 ? { appVersion: pick(["1.9.9", "2.0.0", "2.0.0-rc.1", "v10.1.0"]) } : {}),
        ...(int(2) === 0 ? { device: { os: pick(["ios", "android", "iPadOS"]) } } : {}),
        ...(int(2) === 0 ? { tags: pick([["beta"], ["x", "beta"], [], ["alpha"]]) } : {}),
        ...(int(2) === 0 ? { company: `c${int(20)}` } : {}),
        ...(int(2) === 0 ? { deviceId: `d${int(1000)}` } : {})
      }
      const ours = makeTargetedAssigner(experiment)(userId, attributes)
      const theirs = client.runInlineExperiment(
        {
          key: `exp-${i}`,
          seed: experiment.seed,
          hashVersion: 2,
          variations: Array.from({ length: variations }, (_, v) => v) as [number, number, ...Array<number>],
          weights: experiment.variants.map((v) => v.trafficPct / 100),
          coverage: experiment.coverage,
          ...(experiment.condition ? { condition: experiment.condition as never } : {}),
          ...(experiment.hashAttribute ? { hashAttribute: experiment.hashAttribute } : {}),
          ...(experiment.namespace
            ? { namespace: [experiment.namespace.id, experiment.namespace.start, experiment.namespace.end] }
            : {})
        },
        { attributes: { ...attributes, id: userId } }
      )
      expect({ i, inExperiment: typeof ours === "number" }).toEqual({ i, inExperiment: theirs.inExperiment })
      if (typeof ours === "number") {
        expect(ours).toBe(theirs.variationId)
        inCount++
      }
    }
    // Both outcomes occur often.
    expect(inCount).toBeGreaterThan(2000)
    expect(inCount).toBeLessThan(8000)
  })

  it("hashes the fallback attribute, as the SDK hashes it, when the hash attribute is missing", () => {
    const client = new GrowthBookClient({})
    const experiment = { ...base(3, "fallback-seed"), hashAttribute: "company", fallbackAttribute: "deviceId" }
    const assign = makeTargetedAssigner(experiment)
    for (let i = 0; i < 2000; i++) {
      const deviceId = `device-${i}`
      const viaFallback = client.runInlineExperiment(
        { key: "k", seed: "fallback-seed", hashVersion: 2, variations: [0, 1, 2], hashAttribute: "deviceId" },
        { attributes: { id: `u${i}`, deviceId } }
      )
      expect(assign(`u${i}`, { deviceId })).toBe(viaFallback.variationId)
      const viaPrimary = client.runInlineExperiment(
        { key: "k", seed: "fallback-seed", hashVersion: 2, variations: [0, 1, 2], hashAttribute: "company" },
        { attributes: { id: `u${i}`, company: `c${i}` } }
      )
      expect(assign(`u${i}`, { deviceId, company: `c${i}` })).toBe(viaPrimary.variationId)
    }
    expect(assign("u1", {})).toBe("hashAttribute")
  })

  it("keeps a holdout's users out: those of a GrowthBook experiment of the holdout's seed and coverage", () => {
    const client = new GrowthBookClient({})
    const holdout = { id: "q3-global", share: 0.1 }
    const first = makeTargetedAssigner({ ...base(2, "first"), holdout })
    const second = makeTargetedAssigner({ ...base(4, "second"), holdout })
    let held = 0
    for (let i = 0; i < 20_000; i++) {
      const userId = `user-${i}`
      const peer = client.runInlineExperiment(
        {
          key: "holdout",
          seed: holdoutSeed(holdout.id),
          hashVersion: 2,
          variations: [0, 1],
          weights: [1, 0],
          coverage: holdout.share
        },
        { attributes: { id: userId } }
      )
      const out = first(userId) === "holdout"
      expect(out).toBe(peer.inExperiment)
      expect(second(userId) === "holdout").toBe(out)
      if (out) held++
    }
    // 20,000 draws at 10%: 2,000 expected, sd 42; six sd either side.
    expect(held).toBeGreaterThan(2000 - 6 * 42)
    expect(held).toBeLessThan(2000 + 6 * 42)
  })

  it("gives experiments on disjoint ranges of one namespace no common user", () => {
    const left = makeTargetedAssigner({ ...base(2, "a"), namespace: { id: "checkout", start: 0, end: 0.5 } })
    const right = makeTargetedAssigner({ ...base(2, "b"), namespace: { id: "checkout", start: 0.5, end: 1 } })
    let inLeft = 0
    for (let i = 0; i < 10_000; i++) {
      const a = typeof left(`u${i}`) === "number"
      const b = typeof right(`u${i}`) === "number"
      expect(a && b).toBe(false)
      expect(a || b).toBe(true)
      if (a) inLeft++
    }
    expect(Math.abs(inLeft - 5000)).toBeLessThan(6 * 50)
  })
})

describe("GrowthBook conformance vectors: run cases on conditions, hash attributes and namespaces", () => {
  type RunCase = [string, { attributes: Record<string, unknown> }, Record<string, unknown>, unknown, boolean, boolean]
  const relevant = (cases.run as unknown as Array<RunCase>).filter(([, , experiment]) =>
    ["condition", "hashAttribute", "namespace"].some((k) => k in experiment) &&
    !["filters", "parentConditions"].some((k) => k in experiment) &&
    !JSON.stringify(experiment).includes("$inGroup")
  )
  it("agrees on who is in the experiment", () => {
    expect(relevant.length).toBeGreaterThanOrEqual(5)
    for (const [name, context, raw, , inExperiment] of relevant) {
      const variations = (raw.variations as Array<unknown>).length
      const experiment = {
        ...base(variations, String(raw.seed ?? raw.key)),
        ...(raw.condition ? { condition: raw.condition as Record<string, unknown> } : {}),
        ...(raw.hashAttribute ? { hashAttribute: raw.hashAttribute as string } : {}),
        ...(raw.namespace
          ? {
            namespace: (([id, start, end]: [string, number, number]) => ({ id, start, end }))(
              raw.namespace as [string, number, number]
            )
          }
          : {})
      }
      const { id, ...attributes } = context.attributes
      // The vectors hash with version 1; who is in or out does not depend on the version here
      // (coverage 1), and the variant is compared with the SDK above.
      expect(typeof makeTargetedAssigner(experiment)(String(id), attributes) === "number", name).toBe(inExperiment)
    }
  })
})
