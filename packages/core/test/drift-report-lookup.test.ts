/** One drift report by id: found among later reports of every monitor, and nothing for an id no check made. */
import { Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import { expect, it } from "vitest"
import { DriftDetector } from "../src/index.js"

it("finds a report by id among later checks, and none for an unknown or malformed id", async () => {
  const found = await Effect.runPromise(Effect.provide(
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.UTC(2030, 0, 1))
      const d = yield* DriftDetector.DriftDetector
      const features = [{ name: "amount", kind: "feature" as const, type: "numeric" as const }]
      const a = yield* d.createMonitor({ id: "lookup-a", features })
      const b = yield* d.createMonitor({ id: "lookup-b", features })
      const first = yield* d.check(a.id)
      yield* TestClock.adjust("1 hour")
      const second = yield* d.check(b.id)
      yield* TestClock.adjust("1 hour")
      const third = yield* d.check(a.id)
      return {
        ids: [first.id, second.id, third.id],
        byId: yield* Effect.forEach([first.id, second.id, third.id], (id) => d.getDriftReport(id)),
        // Same time as the first report, another random part; then ids of another form.
        unknown: yield* Effect.forEach(
          [first.id.replace(/-[0-9a-z]+$/u, "-zzzzzzzz"), "check-zz-1", "not-a-report", "check-zzzzzzzzzzz-1"],
          (id) => d.getDriftReport(id)
        )
      }
    }),
    Layer.merge(DriftDetector.layerMemory(), TestClock.layer())
  ))
  expect(new Set(found.ids).size).toBe(3)
  expect(found.byId.map((r) => r?.id)).toEqual(found.ids)
  expect(found.byId.map((r) => r?.monitorId)).toEqual(["lookup-a", "lookup-b", "lookup-a"])
  expect(found.unknown).toEqual([undefined, undefined, undefined, undefined])
})
