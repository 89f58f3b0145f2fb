/** A monitor's performance setting over the memory layers: validation, and CBPE in check reports. */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { DriftDetector, estimateWindow, referencePerformance } from "../src/index.js"
import { makeRandom } from "../src/stats/Random.js"

const run = <A, E>(program: Effect.Effect<A, E, DriftDetector.DriftDetector>) =>
  Effect.runPromise(Effect.provide(program, DriftDetector.layerMemory()) as Effect.Effect<A, E>)

const features = [
  { name: "amount", kind: "feature", type: "numeric" },
  { name: "segment", kind: "prediction", type: "categorical" },
  { name: "score", kind: "prediction", type: "numeric" }
] as const

const probabilities = (seed: string, n: number, mean: number, sd = 1.5) => {
  const random = makeRandom(seed)
  return Array.from({ length: n }, () => 1 / (1 + Math.exp(-random.normal(mean, sd))))
}

const issuesOf = async (performance: unknown) => {
  const exit = await Effect.runPromiseExit(
    Effect.provide(
      DriftDetector.DriftDetector.use((d) => d.createMonitor({ features, performance } as never)),
      DriftDetector.layerMemory()
    )
  )
  if (exit._tag === "Success") throw new Error("expected a refusal")
  return JSON.stringify(exit.cause)
}

describe("monitor performance estimation (CBPE)", () => {
  it("refuses a setting that names no numeric prediction feature, naming the field", async () => {
    expect(await issuesOf({ feature: "nope" })).toContain("performance")
    expect(await issuesOf({ feature: "amount" })).toMatch(/kind \\"prediction\\"/)
    expect(await issuesOf({ feature: "segment" })).toMatch(/numeric feature/)
  })

  it("reports the estimate with its band in each check, and alerts below the level", async () => {
    const baseline = probabilities("baseline", 5000, 1)
    const confident = probabilities("window-1", 1000, 1)
    const unsure = probabilities("window-2", 1000, 0, 0.5)
    const reports = await run(Effect.gen(function*() {
      const d = yield* DriftDetector.DriftDetector
      const m = yield* d.createMonitor({
        features: [...features],
        settings: { windowSize: 1000, minWindow: 100 },
        performance: { feature: "score", alertBelow: { accuracy: 0.7 } }
      })
      expect(m.performance).toEqual({ feature: "score", alertBelow: { accuracy: 0.7 } })
      const none = yield* d.check(m.id)
      yield* d.setBaseline(m.id, { score: baseline })
      const few = yield* (d.recordBatch(m.id, { score: confident.slice(0, 50) }).pipe(Effect.andThen(d.check(m.id))))
      yield* d.recordBatch(m.id, { score: confident.slice(50) })
      const first = yield* d.check(m.id)
      yield* d.recordBatch(m.id, { score: unsure })
      const second = yield* d.check(m.id)
      return { none, few, first, second, stored: yield* d.getDriftReports(m.id) }
    }))
    expect(reports.none.performance).toMatchObject({ status: "no-baseline", metrics: [], alert: false })
    expect(reports.few.performance).toMatchObject({ status: "too-few-values", rows: 50 })
    const expected = estimateWindow(confident, {
      reference: referencePerformance(baseline),
      alertBelow: { accuracy: 0.7 }
    })
    expect(reports.first.performance).toEqual({
      feature: "score",
      threshold: 0.5,
      status: "estimated",
      rows: 1000,
      referenceRows: 5000,
      metrics: expected,
      alert: false
    })
    const accuracy = reports.second.performance!.metrics.find((m) => m.metric === "accuracy")!
    expect(accuracy.estimate).toBeLessThan(0.7)
    expect(accuracy.alert).toBe(true)
    expect(reports.second.performance!.alert).toBe(true)
    expect(reports.stored.map((r) => r.performance?.status)).toEqual([
      "no-baseline",
      "too-few-values",
      "estimated",
      "estimated"
    ])
  })

  it("says when the prediction's values are not probabilities", async () => {
    const report = await run(Effect.gen(function*() {
      const d = yield* DriftDetector.DriftDetector
      const m = yield* d.createMonitor({ features: [...features], performance: { feature: "score" } })
      yield* d.setBaseline(m.id, { score: probabilities("b", 500, 0) })
      yield* d.recordBatch(m.id, { score: Array.from({ length: 200 }, (_, i) => i) })
      return yield* d.check(m.id)
    }))
    expect(report.performance).toMatchObject({ status: "not-probabilities", metrics: [] })
  })
})
