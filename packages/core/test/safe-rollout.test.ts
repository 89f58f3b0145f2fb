/**
 * Safe rollouts: the guardrail's always-valid p-value against an independent numpy implementation
 * (golden/generate_guardrails.py), the pure pause/ramp rule, and the use case over the memory
 * stores: a degraded treatment pauses (control served, audited as system, alerted once), a
 * healthy one ramps on the Clock, and a creation that combines a ramp with a coverage is refused.
 */
import { Effect, Layer, Schema } from "effect"
import { TestClock } from "effect/testing"
import { describe, expect, it } from "vitest"
import * as GuardrailAlerts from "../src/experiments/GuardrailAlerts.js"
import { guardrailAlert } from "../src/experiments/GuardrailAlerts.js"
import {
  AbTests,
  type CreateExperimentInput,
  DriftAlert,
  type Experiment,
  ExperimentStore,
  guardrailChecks,
  guardrailPValue,
  makeRandom,
  ModelRegistry,
  RampSchedule,
  rolloutChange,
  summarize
} from "../src/index.js"
import { streamOf } from "../src/testing/index.js"
import golden from "./golden/guardrails.json" with { type: "json" }

describe("guardrail p-value", () => {
  it("equals the numpy mSPRT of the shifted difference (golden/generate_guardrails.py)", () => {
    for (const c of golden.cases) {
      const direction = c.direction as "increase" | "decrease"
      const got = guardrailPValue(summarize(c.treatment), summarize(c.control), direction, c.threshold)
      expect(got.difference).toBeCloseTo(c.difference, 12)
      if (c.pValue === 1) expect(got.pValue).toBe(1)
      else expect(Math.abs(got.pValue - c.pValue) / c.pValue).toBeLessThan(1e-9)
    }
  })
})

const models = ["01ARZ3NDEKTSV4RRFFQ69G5FA1", "01ARZ3NDEKTSV4RRFFQ69G5FA2"] as const
const pureExperiment = {
  status: "running" as const,
  startedAt: "2030-01-01T00:00:00.000Z",
  alpha: 0.05,
  variants: models.map((modelId, i) => ({ modelId, isControl: i === 0, trafficPct: 50 })),
  guardrails: [{ metric: "latency_ms", direction: "increase" as const }],
  ramp: { steps: [0.05, 0.25, 0.5], intervalMinutes: 60 }
}
const totalsOf = (control: ReadonlyArray<number>, treatment: ReadonlyArray<number>) => [
  { metrics: { latency_ms: summarize(control) } },
  { metrics: { latency_ms: summarize(treatment) } }
]
const draws = (seed: string, n: number, mean: number) => {
  const random = makeRandom(seed)
  return Array.from({ length: n }, () => random.normal(mean, 10))
}
const start = Date.parse(pureExperiment.startedAt)

describe("rollout rule", () => {
  it("pauses on a guardrail significantly worse, naming the treatment and the level", () => {
    const change = rolloutChange(pureExperiment, totalsOf(draws("c", 400, 100), draws("t", 400, 110)), start)
    expect(change._tag).toBe("Pause")
    if (change._tag !== "Pause") return
    expect(change.pause).toMatchObject({ metric: "latency_ms", modelId: models[1], level: 0.05 })
    expect(change.pause.pValue).toBeLessThan(0.05)
    expect(change.pause.reason).toContain("significantly higher on guardrail latency_ms")
  })

  it("never pauses on an improvement, nor below the minimum samples", () => {
    expect(rolloutChange(pureExperiment, totalsOf(draws("c", 400, 110), draws("t", 400, 90)), start)._tag).toBe("Hold")
    expect(guardrailChecks(pureExperiment, totalsOf(draws("c", 29, 100), draws("t", 400, 200)))).toEqual([])
  })

  it("a threshold tolerates a worsening up to it", () => {
    const totals = totalsOf(draws("c", 400, 100), draws("t", 400, 103))
    expect(rolloutChange(pureExperiment, totals, start)._tag).toBe("Pause")
    const tolerant = {
      ...pureExperiment,
      guardrails: [{ metric: "latency_ms", direction: "increase" as const, threshold: 5 }]
    }
    expect(rolloutChange(tolerant, totals, start)._tag).toBe("Hold")
  })

  it("ramps one step per interval while the guardrails hold, and stops at the last step", () => {
    const healthy = totalsOf(draws("c", 400, 100), draws("t", 400, 100))
    expect(rolloutChange(pureExperiment, healthy, start + 59 * 60_000)._tag).toBe("Hold")
    expect(rolloutChange(pureExperiment, healthy, start + 60 * 60_000)).toEqual({ _tag: "Ramp", coverage: 0.25 })
    const advanced = (n: number) => ({
      ...pureExperiment,
      rolloutHistory: Array.from({ length: n }, (_, i) => ({
        at: new Date(start + (i + 1) * 3_600_000).toISOString(),
        actor: "system",
        action: "ramp_advanced" as const,
        reason: "r"
      }))
    })
    expect(rolloutChange(advanced(1), healthy, start + 90 * 60_000)._tag).toBe("Hold")
    expect(rolloutChange(advanced(1), healthy, start + 120 * 60_000)).toEqual({ _tag: "Ramp", coverage: 0.5 })
    expect(rolloutChange(advanced(2), healthy, start + 1000 * 60_000)._tag).toBe("Hold")
  })
})

describe("guardrail alert", () => {
  it("is a valid webhook alert carrying the evidence", () => {
    const pause = {
      at: "2030-01-01T00:00:00.000Z",
      metric: "latency_ms",
      modelId: models[1],
      direction: "increase" as const,
      difference: 3,
      pValue: 1e-6,
      level: 0.05,
      reason: "worse"
    }
    const alert = guardrailAlert({ id: "exp-1" }, pause)
    expect(Schema.decodeUnknownSync(DriftAlert)(alert)).toEqual(alert)
    expect(alert).toMatchObject({ monitorId: "experiment:exp-1", feature: "~guardrail", severity: "critical" })
  })
})

const world = (alerts: GuardrailAlerts.MemoryGuardrailAlerts) =>
  AbTests.layer({ ...AbTests.defaultAbTestSettings, minSamplesPerVariant: 100 }).pipe(
    Layer.provideMerge(ExperimentStore.layerMemory),
    Layer.provideMerge(ModelRegistry.layerMemory()),
    Layer.provide(Layer.succeed(GuardrailAlerts.GuardrailAlerts, alerts)),
    Layer.merge(TestClock.layer())
  )

const withModels = (input: (ids: ReadonlyArray<string>) => CreateExperimentInput) =>
  Effect.gen(function*() {
    const registry = yield* ModelRegistry.ModelRegistry
    const ids = yield* Effect.forEach([0, 1], (i) =>
      registry.registerModel(
        { name: "guarded", version: String(i), algorithm: "a", framework: "f" },
        streamOf([
          new Uint8Array([i])
        ])
      ).pipe(
        Effect.tap((m) => registry.promoteModel(m.id, "testing")),
        Effect.map((m) => m.id)
      ))
    const ab = yield* AbTests.AbTests
    const created = yield* ab.createExperiment(input(ids))
    return yield* ab.startExperiment(created.id, "alice")
  })

const guarded = (ids: ReadonlyArray<string>): CreateExperimentInput => ({
  name: "guarded",
  targetMetric: "revenue",
  variants: ids.map((modelId, i) => ({ modelId, isControl: i === 0, trafficPct: 50 })),
  stickyAssignment: false,
  guardrails: [{ metric: "latency_ms", direction: "increase" }],
  ramp: { steps: [0.05, 0.25, 0.5], intervalMinutes: 60 }
})

const feedLatency = (e: Experiment, control: ReadonlyArray<number>, treatment: ReadonlyArray<number>) =>
  AbTests.AbTests.use((ab) =>
    ab.recordMetrics(e.id, [
      ...control.map((value) => ({ modelId: e.variants[0]!.modelId, metric: "latency_ms", value })),
      ...treatment.map((value) => ({ modelId: e.variants[1]!.modelId, metric: "latency_ms", value }))
    ])
  )

describe("safe rollouts (use case)", () => {
  it("a degraded treatment is paused at a results look: control served, audited as system, alerted once", async () => {
    const alerts = Effect.runSync(GuardrailAlerts.makeMemory)
    const { after, assigned, e, second } = await Effect.runPromise(Effect.provide(
      Effect.gen(function*() {
        yield* TestClock.setTime(start)
        const ab = yield* AbTests.AbTests
        const e = yield* withModels(guarded)
        expect(e.coverage).toBe(0.05)
        expect(e.rolloutHistory?.map((h) => [h.action, h.actor, h.coverage])).toEqual([["ramp_started", "alice", 0.05]])
        yield* feedLatency(e, draws("c", 300, 100), draws("t", 300, 112))
        yield* ab.getExperimentResults(e.id)
        const after = yield* ab.getExperiment(e.id)
        const second = yield* ab.checkSafeRollout(e.id)
        const assigned = yield* ab.getModelAssignments(e.id, Array.from({ length: 50 }, (_, i) => `u${i}`))
        return { after, assigned, e, second }
      }),
      world(alerts)
    ))
    expect(after.status).toBe("paused")
    expect(after.pausedByGuardrail).toMatchObject({ metric: "latency_ms", modelId: e.variants[1]!.modelId })
    expect(after.rolloutHistory?.at(-1)).toMatchObject({ actor: "system", action: "guardrail_paused" })
    expect(second.revision).toBe(after.revision)
    expect(new Set(assigned.map((a) => a.modelId))).toEqual(new Set([e.variants[0]!.modelId]))
    expect(alerts.sent().map((s) => s.experimentId)).toEqual([e.id])
  })

  it("starting again clears the guardrail pause", async () => {
    const alerts = Effect.runSync(GuardrailAlerts.makeMemory)
    const resumed = await Effect.runPromise(Effect.provide(
      Effect.gen(function*() {
        yield* TestClock.setTime(start)
        const ab = yield* AbTests.AbTests
        const e = yield* withModels(guarded)
        yield* feedLatency(e, draws("c", 300, 100), draws("t", 300, 112))
        yield* ab.checkSafeRollout(e.id)
        return yield* ab.startExperiment(e.id, "bob")
      }),
      world(alerts)
    ))
    expect(resumed.status).toBe("running")
    expect(resumed.pausedByGuardrail).toBeUndefined()
    expect(resumed.coverage).toBe(0.05)
  })

  it("a healthy treatment ramps 5% -> 25% -> 50% one interval apart, each step audited", async () => {
    const alerts = Effect.runSync(GuardrailAlerts.makeMemory)
    const coverages = await Effect.runPromise(Effect.provide(
      Effect.gen(function*() {
        yield* TestClock.setTime(start)
        const ab = yield* AbTests.AbTests
        const e = yield* withModels(guarded)
        yield* feedLatency(e, draws("c", 300, 100), draws("t", 300, 100))
        const seen: Array<number> = []
        for (let minute = 30; minute <= 240; minute += 30) {
          yield* TestClock.setTime(start + minute * 60_000)
          yield* ab.checkSafeRollouts()
          seen.push((yield* ab.getExperiment(e.id)).coverage)
        }
        const final = yield* ab.getExperiment(e.id)
        expect(final.rolloutHistory?.filter((h) => h.action === "ramp_advanced").map((h) => h.actor)).toEqual([
          "system",
          "system"
        ])
        return seen
      }),
      world(alerts)
    ))
    expect(coverages).toEqual([0.05, 0.25, 0.25, 0.5, 0.5, 0.5, 0.5, 0.5])
    expect(alerts.sent()).toEqual([])
  })

  it("refuses a ramp together with a coverage, and a ramp that does not increase", async () => {
    const alerts = Effect.runSync(GuardrailAlerts.makeMemory)
    const failure = await Effect.runPromise(Effect.provide(
      Effect.flip(withModels((ids) => ({ ...guarded(ids), coverage: 0.5 }))),
      world(alerts)
    ))
    expect(failure).toMatchObject({ _tag: "ValidationError" })
    expect(JSON.stringify(failure)).toContain("coverage")
    expect(() => Schema.decodeUnknownSync(RampSchedule)({ steps: [0.5, 0.25], intervalMinutes: 60 })).toThrow(
      "must increase from step to step"
    )
    expect(() => Schema.decodeUnknownSync(RampSchedule)({ steps: [0.5], intervalMinutes: 0 })).toThrow(
      "must be between 0.01 and 525600 minutes"
    )
  })
})
