/**
 * The GrowthBook features payload (GrowthBookPayload.ts) evaluated by the real
 * @growthbook/growthbook SDK: the shared conformance vectors' `run` cases that our experiments can
 * express (hash version 2) give the vector's value; every `run` case that maps onto an experiment
 * (conditions, hash attributes, namespaces, weights, coverage) gives, through the payload, what
 * our own targeting answers on the same definition and attributes; holdouts (a `filters` entry)
 * and holdout-plus-namespace agree with Targeting.ts over random users; paused and completed
 * experiments are force rules with the control or the winner; a feature is named by the
 * experiment's feature key, and of experiments sharing one the unfinished one is served.
 */
import { GrowthBook } from "@growthbook/growthbook"
import { describe, expect, it } from "vitest"
import type { Experiment } from "../src/experiments/Experiment.js"
import { featureKeyOf, growthBookPayload, modelWhenNotRunning } from "../src/experiments/GrowthBookPayload.js"
import { makeTargetedAssigner } from "../src/experiments/Targeting.js"
import { sampleExperiment } from "../src/testing/index.js"
import cases from "./conformance/growthbook-cases.json" with { type: "json" }

type RunCase = [
  string,
  { attributes?: Record<string, unknown>; [key: string]: unknown },
  Record<string, unknown>,
  unknown,
  boolean,
  boolean
]

/** Context and experiment fields that have no counterpart in our experiments. */
const unsupportedContext = ["forcedVariations", "qaMode", "url", "enabled", "features", "savedGroups"]
const unsupportedExperiment = [
  "force",
  "active",
  "filters",
  "ranges",
  "parentConditions",
  "fallbackAttribute",
  "url",
  "include",
  "groups"
]

/** The vector's experiment as one of ours (variations become model ids m0, m1, ...), or why not. */
const asExperiment = (spec: Record<string, unknown>): Experiment | string => {
  const variations = spec.variations as ReadonlyArray<unknown>
  if (variations.length < 2) return "fewer than two variations"
  const unsupported = unsupportedExperiment.find((k) => k in spec)
  if (unsupported !== undefined) return unsupported
  const weights = (spec.weights as ReadonlyArray<number> | undefined) ?? variations.map(() => 1 / variations.length)
  const namespace = spec.namespace as [string, number, number] | undefined
  return sampleExperiment({
    id: String(spec.key),
    status: "running",
    seed: (spec.seed as string | undefined) ?? String(spec.key),
    coverage: (spec.coverage as number | undefined) ?? 1,
    variants: variations.map((_, i) => ({ modelId: `m${i}`, isControl: i === 0, trafficPct: (weights[i] ?? 0) * 100 })),
    ...(spec.hashAttribute === undefined ? {} : { hashAttribute: spec.hashAttribute as string }),
    ...(spec.condition === undefined ? {} : { condition: spec.condition as Experiment["condition"] & object }),
    ...(namespace === undefined ? {} : { namespace: { id: namespace[0], start: namespace[1], end: namespace[2] } })
  })
}

const evaluate = (experiment: Experiment, attributes: Record<string, unknown>) => {
  const gb = new GrowthBook({ attributes, features: growthBookPayload([experiment]).features as never })
  const result = gb.evalFeature(experiment.id)
  gb.destroy()
  return result
}

/** Our own answer: the variant's model, or the control for a user left out (a null id is no id). */
const ours = (experiment: Experiment, attributes: Record<string, unknown>) => {
  const { id, ...rest } = attributes
  const targeted = makeTargetedAssigner(experiment)(id === undefined || id === null ? "" : String(id), rest as never)
  return experiment.variants[typeof targeted === "number" ? targeted : 0]!.modelId
}

const runCases = (cases as unknown as { run: Array<RunCase> }).run
const applicable = runCases.flatMap(([name, context, spec, value, inExperiment]) => {
  if (unsupportedContext.some((k) => k in context)) return []
  const experiment = asExperiment(spec)
  if (typeof experiment === "string") return []
  return [{ name, attributes: context.attributes ?? {}, spec, experiment, value, inExperiment }]
})

describe("GrowthBook payload through the GrowthBook SDK", () => {
  it("maps most conformance run cases onto our experiments", () => {
    expect(applicable.length).toBeGreaterThan(40)
  })

  it("gives the vectors' values for the run cases of hash version 2", () => {
    const v2 = applicable.filter((c) => c.spec.hashVersion === 2)
    expect(v2.length).toBeGreaterThan(0)
    for (const c of v2) {
      const variations = c.spec.variations as ReadonlyArray<unknown>
      const index = c.inExperiment ? variations.findIndex((v) => JSON.stringify(v) === JSON.stringify(c.value)) : 0
      const result = evaluate(c.experiment, c.attributes)
      expect(result.value, c.name).toBe(`m${index}`)
      expect(result.source, c.name).toBe(c.inExperiment ? "experiment" : "defaultValue")
    }
  })

  it("gives what our targeting gives for every mappable run case (conditions, hash attributes, namespaces)", () => {
    for (const c of applicable) {
      // The vectors' users, and more users on the same attributes, so the split itself is compared too.
      for (let i = 0; i < 50; i++) {
        const attributes = i === 0 ? c.attributes : { ...c.attributes, id: `${String(c.attributes.id ?? "")}-${i}` }
        expect(evaluate(c.experiment, attributes).value, `${c.name} #${i}`).toBe(ours(c.experiment, attributes))
      }
    }
  })

  it("expresses holdouts (alone and with a namespace) as GrowthBook filters that agree with Targeting.ts", () => {
    const definitions = [
      sampleExperiment({ status: "running", holdout: { id: "h1", share: 0.2 } }),
      sampleExperiment({
        status: "running",
        coverage: 0.8,
        hashAttribute: "account",
        holdout: { id: "h2", share: 0.35 },
        namespace: { id: "ns", start: 0.2, end: 0.9 }
      })
    ]
    for (const experiment of definitions) {
      const outcomes = new Map<string, number>()
      for (let i = 0; i < 3_000; i++) {
        const attributes = { id: `user-${i}`, account: `acct-${i % 1_000}` }
        const expected = ours(experiment, attributes)
        expect(evaluate(experiment, attributes).value, `${experiment.id} user-${i}`).toBe(expected)
        outcomes.set(expected, (outcomes.get(expected) ?? 0) + 1)
      }
      // Not vacuous: the holdout and namespace leave users out, and the rest are split.
      expect(outcomes.size).toBe(2)
    }
  })

  it("serves paused experiments their control and completed ones their winner, as force rules", () => {
    const base = sampleExperiment({})
    const [control, treatment] = base.variants.map((v) => v.modelId)
    const paused = { ...base, id: "paused", status: "paused" as const }
    const won = {
      ...base,
      id: "won",
      status: "completed" as const,
      decision: { outcome: "winner" as const, winnerModelId: treatment!, reason: "" }
    }
    const payload = growthBookPayload([paused, won])
    expect(payload.features.paused!.rules).toEqual([{ id: "paused:paused", force: control }])
    expect(payload.features.won!.rules).toEqual([{ id: "won:completed", force: treatment }])
    expect(modelWhenNotRunning(won)).toBe(treatment)
    for (const experiment of [paused, won]) {
      expect(evaluate(experiment, { id: "anyone" }).source).toBe("force")
    }
  })

  it("names each feature by the experiment's feature key; a successor takes over a completed one's key", () => {
    const base = sampleExperiment({})
    const [control, treatment] = base.variants.map((v) => v.modelId)
    const running = {
      ...base,
      id: "checkout-v2",
      featureKey: "checkout-model",
      status: "running" as const,
      variants: base.variants.map((v, i) => ({ ...v, trafficPct: i === 0 ? 0 : 100 })),
      updatedAt: "2025-01-01T00:00:00.000Z"
    }
    const predecessor = {
      ...base,
      id: "checkout-v1",
      featureKey: "checkout-model",
      status: "completed" as const,
      decision: { outcome: "no_significant_difference" as const, winnerModelId: null, reason: "" },
      // Changed later than its successor: still not the one served.
      updatedAt: "2025-02-01T00:00:00.000Z"
    }
    const plain = { ...base, id: "plain", status: "paused" as const }
    for (const order of [[running, predecessor, plain], [predecessor, plain, running]]) {
      const payload = growthBookPayload(order)
      expect(Object.keys(payload.features).sort()).toEqual(["checkout-model", "plain"])
      const gb = new GrowthBook({ attributes: { id: "u1" }, features: payload.features as never })
      expect(gb.getFeatureValue("checkout-model", "missing")).toBe(treatment)
      expect(gb.getFeatureValue("plain", "missing")).toBe(control)
      expect(gb.getFeatureValue("checkout-v2", "missing")).toBe("missing")
      gb.destroy()
    }
    expect([featureKeyOf(running), featureKeyOf(plain)]).toEqual(["checkout-model", "plain"])
  })
})
