/** A monitor's performance setting over the memory layers: validation, and CBPE in check reports. */
import { Effect } from "effect"
import { Layer } from "effect"
import { describe, expect, it } from "vitest"
import {
  AlertNotifier,
  DriftAlerts,
  DriftDetector,
  DriftStore,
  estimateWindow,
  MetricsSink,
  referencePerformance
} from "../src/index.js"
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
    // The baseline keeps its sample sorted, so the reference sums in that order.
    const expected = estimateWindow(confident, {
      reference: referencePerformance([...baseline].sort((a, b) => a - b)),
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

describe("performance alerts (~performance)", () => {
  const accuracyOf = (window: ReadonlyArray<number>, reference: ReadonlyArray<number>) =>
    estimateWindow(window, { reference: referencePerformance(reference) }).find((m) => m.metric === "accuracy")!

  it("alert, escalation and recovery through the alert state machine, delivered to webhooks", async () => {
    const baseline = probabilities("baseline", 5000, 1)
    const confident = probabilities("confident", 1000, 1)
    const unsure = probabilities("unsure", 1000, 0.2, 1)
    const guessing = probabilities("guessing", 1000, 0, 0.3)
    // A level between the unsure window's estimate and its band's upper end: only the estimate is
    // below it (medium); the guessing window's whole band is below it (high).
    const unsureAccuracy = accuracyOf(unsure, baseline)
    const level = (unsureAccuracy.estimate! + unsureAccuracy.upper!) / 2
    expect(accuracyOf(guessing, baseline).upper!).toBeLessThan(level)
    expect(accuracyOf(confident, baseline).estimate!).toBeGreaterThan(level)

    const notifier = Effect.runSync(AlertNotifier.makeMemory)
    const layer = DriftDetector.layerFromPorts().pipe(
      Layer.provideMerge(Layer.mergeAll(
        DriftStore.layerMemory,
        MetricsSink.layerMemory,
        DriftAlerts.layer,
        Layer.succeed(AlertNotifier.AlertNotifier, notifier)
      ))
    )
    const reports = await Effect.runPromise(Effect.provide(
      Effect.gen(function*() {
        const d = yield* DriftDetector.DriftDetector
        yield* d.createWebhook({ url: "https://a.example", secret: "0123456789abcdef", minSeverity: "medium" })
        const m = yield* d.createMonitor({
          features: [...features],
          settings: { windowSize: 1000, minWindow: 100, cooldownSeconds: 3600 },
          performance: { feature: "score", alertBelow: { accuracy: level } }
        })
        yield* d.setBaseline(m.id, { score: baseline })
        const checkWith = (window: ReadonlyArray<number>) =>
          d.recordBatch(m.id, { score: window }).pipe(Effect.andThen(d.check(m.id)))
        const reports = [
          yield* checkWith(confident),
          yield* checkWith(unsure),
          yield* d.check(m.id), // the same window within the cooldown: no repeat
          yield* checkWith(guessing),
          yield* checkWith(confident)
        ]
        const performanceDeliveries = () => notifier.delivered().filter((d) => d.alert.feature === "~performance")
        for (let i = 0; i < 100 && performanceDeliveries().length < 3; i++) yield* Effect.sleep(1)
        return reports
      }),
      layer
    ))
    // The score's own drift alerts (its distribution moves too) are the feature's, not these.
    const performanceAlerts = (r: typeof reports[number]) => r.alerts.filter((a) => a.feature === "~performance")
    const raised = reports.map((r) =>
      performanceAlerts(r).map((a) => [a.feature, a.kind, a.severity, a.previousSeverity, a.performance?.rows])
    )
    expect(raised).toEqual([
      [],
      [["~performance", "alert", "medium", "none", 1000]],
      [],
      [["~performance", "escalation", "high", "medium", 1000]],
      [["~performance", "recovery", "none", "high", 1000]]
    ])
    const [first] = performanceAlerts(reports[1]!)
    expect(first!.performance).toEqual(reports[1]!.performance)
    expect(first!.recommendation).toContain("accuracy")
    expect(first!.check).toBeUndefined()
    const delivered = notifier.delivered().filter((d) => d.alert.feature === "~performance")
    expect(delivered.map((d) => [d.alert.feature, d.alert.kind])).toEqual([
      ["~performance", "alert"],
      ["~performance", "escalation"],
      ["~performance", "recovery"]
    ])
  })

  it("leaves the alert state as it is while the window cannot be estimated", async () => {
    const reports = await run(Effect.gen(function*() {
      const d = yield* DriftDetector.DriftDetector
      const m = yield* d.createMonitor({
        features: [...features],
        settings: { windowSize: 1000, minWindow: 100 },
        performance: { feature: "score", alertBelow: { accuracy: 0.95 } }
      })
      yield* d.setBaseline(m.id, { score: probabilities("b", 2000, 1) })
      yield* d.recordBatch(m.id, { score: probabilities("w", 1000, 0, 0.3) })
      const alerting = yield* d.check(m.id)
      // Values that are not probabilities: no estimate, so neither a recovery nor a repeat.
      yield* d.recordBatch(m.id, { score: Array.from({ length: 1000 }, (_, i) => i) })
      const unestimated = yield* d.check(m.id)
      yield* d.recordBatch(m.id, { score: probabilities("w2", 1000, 0, 0.3) })
      const stillAlerting = yield* d.check(m.id)
      return { alerting, unestimated, stillAlerting }
    }))
    const performanceAlerts = (r: typeof reports.alerting) =>
      r.alerts.filter((a) => a.feature === "~performance").map((a) => [a.kind, a.severity])
    expect(performanceAlerts(reports.alerting)).toEqual([["alert", "high"]])
    expect(reports.unestimated.performance!.status).toBe("not-probabilities")
    expect(performanceAlerts(reports.unestimated)).toEqual([])
    // Still high from before, within the cooldown: no new alert.
    expect(performanceAlerts(reports.stillAlerting)).toEqual([])
  })
})
