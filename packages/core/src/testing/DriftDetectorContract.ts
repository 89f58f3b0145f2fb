/**
 * Behaviour of the DriftDetector use case over whatever serves it: a window from the baseline's
 * distribution does not drift, a shifted one does, reports are kept per monitor, and unknown or
 * duplicate monitors are refused.
 */
import { Effect, type Layer } from "effect"
import { describe, expect, it } from "vitest"
import { DriftDetector } from "../drift/DriftDetector.js"
import { failureTag, runOn, uniqueName } from "./UseCaseFixtures.js"

/** n values spread evenly over [shift, shift + 1), in a scrambled order. */
const spread = (n: number, shift: number) => Array.from({ length: n }, (_, i) => ((i * 7919) % n) / n + shift)

export const driftDetectorContract = (adapter: string, makeLayer: () => Layer.Layer<DriftDetector, unknown>) => {
  const run = runOn(makeLayer)
  const monitored = (id: string) =>
    Effect.gen(function*() {
      const drift = yield* DriftDetector
      yield* drift.createMonitor({
        id,
        features: [{ name: "x", kind: "feature", type: "numeric" }],
        settings: { windowSize: 1000, minWindow: 50 }
      })
      yield* drift.setBaseline(id, { x: spread(400, 0) })
      return drift
    })

  describe(`DriftDetector on ${adapter}`, () => {
    it("finds no drift in a window from the baseline's distribution", async () => {
      const report = await run(Effect.gen(function*() {
        const id = uniqueName("calm")
        const drift = yield* monitored(id)
        yield* drift.recordBatch(id, { x: spread(400, 0) })
        return yield* drift.check(id)
      }))
      const x = report.features.find((f) => f.feature === "x")!
      // Identical samples: the KS statistic is 0 and its p-value 1.
      expect([x.windowCount, x.ksStatistic, x.pValue, x.severity]).toEqual([400, 0, 1, "none"])
      expect(report.alerts).toEqual([])
    })

    it("finds drift in a shifted window, raises an alert and keeps the report under its monitor", async () => {
      const { id, report, reports } = await run(Effect.gen(function*() {
        const id = uniqueName("shifted")
        const drift = yield* monitored(id)
        yield* drift.recordRows(id, spread(400, 0.50125).map((x) => ({ x })))
        const report = yield* drift.check(id)
        return { id, report, reports: yield* drift.getDriftReports(id) }
      }))
      const x = report.features.find((f) => f.feature === "x")!
      // Baseline i/400, window j/400 + 0.50125 (no ties): the CDFs differ most just below the
      // window's smallest value, where 201 of 400 baseline values and no window value lie.
      expect(x.ksStatistic).toBeCloseTo(201 / 400, 12)
      expect(x.pValue).toBeLessThan(1e-6)
      expect(x.severity).not.toBe("none")
      expect(report.alerts.map((a) => a.monitorId)).toContain(id)
      expect(reports.map((r) => r.id)).toContain(report.id)
    })

    it("refuses a second monitor of the same id and values for an unknown monitor", async () => {
      const { duplicate, unknown, missing } = await run(Effect.gen(function*() {
        const id = uniqueName("twice")
        const drift = yield* monitored(id)
        return {
          duplicate: yield* Effect.exit(drift.createMonitor({
            id,
            features: [{ name: "y", kind: "feature", type: "numeric" }]
          })),
          unknown: yield* Effect.exit(drift.recordBatch(uniqueName("nobody"), { x: [1] })),
          missing: yield* Effect.exit(drift.getMonitor(uniqueName("nobody")))
        }
      }))
      expect(failureTag(duplicate)).toBe("MonitorConflictError")
      expect(failureTag(unknown)).toBe("MonitorNotFoundError")
      expect(failureTag(missing)).toBe("MonitorNotFoundError")
    })
  })
}
