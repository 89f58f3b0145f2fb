/** Drift detection over the memory layers: baselines, windows, checks, severities and alert hygiene. */
import { Effect, Fiber, Layer, PubSub } from "effect"
import { TestClock } from "effect/testing"
import { describe, expect, it } from "vitest"
import {
  defaultMonitorSettings,
  type DriftAlert,
  DriftAlerts,
  DriftDetector,
  DriftStore,
  Leases,
  MetricsSink,
  severityFor
} from "../src/index.js"
import { driftStoreContract } from "../src/testing/index.js"
import { makeSample } from "./golden/samples.js"

const run = <A, E>(
  program: Effect.Effect<
    A,
    E,
    DriftDetector.DriftDetector | DriftAlerts.DriftAlerts | DriftStore.DriftStore | MetricsSink.MetricsSink
  >
) => Effect.runPromise(Effect.provide(program, DriftDetector.layerMemory()) as Effect.Effect<A, E>)

const normalish = (seed: number, n: number, loc = 0, scale = 1) =>
  Array.from(makeSample({ seed, n, kind: "irwin", loc, scale, levels: 0 }))

const monitor = (settings: Record<string, unknown> = {}) =>
  DriftDetector.DriftDetector.use((d) =>
    d.createMonitor({
      features: [
        { name: "amount", kind: "feature", type: "numeric" },
        { name: "country", kind: "feature", type: "categorical" },
        { name: "score", kind: "prediction", type: "numeric" }
      ],
      settings: { windowSize: 1000, minWindow: 100, ...settings } as never
    })
  )

const failureOf = async (promise: Promise<unknown>) => {
  try {
    await promise
  } catch (error) {
    return error as { _tag: string; issues?: Array<{ path: Array<string | number> }> }
  }
  throw new Error("expected a failure")
}

describe("severity rule", () => {
  const bands = defaultMonitorSettings.severityThresholds
  const base = { missingShare: 0, baselineMissingShare: 0, bands }
  it("needs the drift method's verdict, then follows the PSI bands", () => {
    expect(severityFor({ ...base, psi: 0.8, drifted: false })).toBe("none") // small window, PSI by chance
    expect(severityFor({ ...base, psi: 0.02, drifted: true })).toBe("none") // huge window, tiny shift
    expect(severityFor({ ...base, psi: 0.15, drifted: true })).toBe("low")
    expect(severityFor({ ...base, psi: 0.3, drifted: true })).toBe("medium")
    expect(severityFor({ ...base, psi: 0.7, drifted: true })).toBe("high")
    expect(severityFor({ ...base, psi: 1.5, drifted: true })).toBe("critical")
    expect(severityFor({ ...base, psi: 0.01, drifted: false, missingShare: 0.3 })).toBe("medium")
  })
})

describe("drift detection", () => {
  it("raises an alert of the expected severity within one window of a known shift", async () => {
    const { before, after, alerts } = await run(Effect.scoped(Effect.gen(function*() {
      const d = yield* DriftDetector.DriftDetector
      const m = yield* monitor()
      const subscription = yield* (yield* DriftAlerts.DriftAlerts).subscribe
      yield* d.setBaseline(m.id, { amount: normalish(1, 10_000, 100, 20) })
      yield* d.recordBatch(m.id, { amount: normalish(2, 1000, 100, 20) })
      const before = yield* d.check(m.id)
      // The shift starts here: one window (1000 values) of amounts moved by about one standard deviation.
      yield* d.recordBatch(m.id, { amount: normalish(3, 1000, 112, 20) })
      const after = yield* d.check(m.id)
      return { before, after, alerts: yield* PubSub.takeUpTo(subscription, 100) }
    })))
    expect(before.features.find((f) => f.feature === "amount")!.severity).toBe("none")
    const amount = after.features.find((f) => f.feature === "amount")!
    expect(amount.severity).toBe("high")
    expect(amount.ksStatistic!).toBeGreaterThan(0.1)
    expect(alerts).toHaveLength(1)
    expect(alerts[0]).toMatchObject({ feature: "amount", kind: "alert", severity: "high" })
    expect(alerts[0]!.recommendation).toContain("Retrain")
    expect(amount.baselineShares).toHaveLength(10)
    expect(amount.currentShares).toHaveLength(10)
  })

  it("stays at low or below over a stationary stream of 100,000 values", async () => {
    const worst = await run(Effect.gen(function*() {
      const d = yield* DriftDetector.DriftDetector
      const m = yield* monitor()
      yield* d.setBaseline(m.id, { amount: normalish(10, 20_000), score: normalish(11, 20_000, 0.5, 0.1) })
      let worst = 0
      for (let w = 0; w < 100; w++) {
        yield* d.recordBatch(m.id, { amount: normalish(100 + w, 1000), score: normalish(300 + w, 1000, 0.5, 0.1) })
        const report = yield* d.check(m.id)
        for (const f of report.features) {
          worst = Math.max(worst, ["none", "low", "medium", "high", "critical"].indexOf(f.severity))
        }
      }
      return worst
    }))
    expect(worst).toBeLessThanOrEqual(1)
  })

  it("reports unseen categories and categorical drift", async () => {
    const report = await run(Effect.gen(function*() {
      const d = yield* DriftDetector.DriftDetector
      const m = yield* monitor()
      const countries = (n: number, weights: Record<string, number>) => {
        const out: Array<string> = []
        for (const [c, w] of Object.entries(weights)) for (let i = 0; i < Math.round(n * w); i++) out.push(c)
        return out
      }
      yield* d.setBaseline(m.id, { country: countries(5000, { de: 0.5, fr: 0.3, it: 0.2 }) })
      yield* d.recordRows(m.id, countries(1000, { de: 0.2, fr: 0.3, it: 0.2, br: 0.3 }).map((country) => ({ country })))
      return yield* d.check(m.id)
    }))
    const country = report.features.find((f) => f.feature === "country")!
    expect(country.unseenCategories).toEqual(["br"])
    expect(["high", "critical"]).toContain(country.severity)
  })

  it("keeps alert hygiene: cooldown, escalation at once, recovery recorded", async () => {
    const kinds = await Effect.runPromise(Effect.provide(
      Effect.gen(function*() {
        yield* TestClock.setTime(Date.UTC(2030, 0, 1))
        const d = yield* DriftDetector.DriftDetector
        const m = yield* monitor({ cooldownSeconds: 3600 })
        yield* d.setBaseline(m.id, { amount: normalish(1, 10_000) })
        const step = (loc: number, seed: number) =>
          d.recordBatch(m.id, { amount: normalish(seed, 1000, loc) }).pipe(Effect.andThen(d.check(m.id)))
        const out: Array<string> = []
        const note = (r: { alerts: ReadonlyArray<DriftAlert> }) =>
          out.push(r.alerts.map((a) => `${a.kind}:${a.severity}`).join(",") || "-")
        note(yield* step(0.25, 2)) // medium-ish shift -> alert
        yield* TestClock.adjust("10 minutes")
        note(yield* step(0.25, 3)) // same level inside the cooldown -> nothing
        yield* TestClock.adjust("10 minutes")
        note(yield* step(1.2, 4)) // much larger -> escalation at once
        yield* TestClock.adjust("10 minutes")
        note(yield* step(0, 5)) // back to normal -> recovery
        return out
      }),
      Layer.merge(DriftDetector.layerMemory(), TestClock.layer())
    ))
    expect(kinds[0]).toMatch(/^alert:(low|medium|high)$/)
    expect(kinds[1]).toBe("-")
    expect(kinds[2]).toMatch(/^escalation:(high|critical)$/)
    expect(kinds[3]).toBe("recovery:none")
  })

  it("versions baselines and keeps the old ones", async () => {
    const versions = await run(Effect.gen(function*() {
      const d = yield* DriftDetector.DriftDetector
      const m = yield* monitor()
      yield* d.setBaseline(m.id, { amount: normalish(1, 500) })
      yield* d.setBaseline(m.id, { amount: normalish(2, 500, 5) })
      return yield* (yield* DriftStore.DriftStore).baselines(m.id, "amount")
    }))
    expect(versions.map((b) => b.version)).toEqual([1, 2])
    expect(versions[1]!.type === "numeric" && versions[1]!.mean).toBeGreaterThan(4)
  })

  it("keeps a seeded uniform reservoir of 100,000 values for very large baselines", async () => {
    const baseline = await run(Effect.gen(function*() {
      const d = yield* DriftDetector.DriftDetector
      const m = yield* monitor()
      yield* d.setBaseline(m.id, { amount: normalish(7, 250_000) })
      return (yield* (yield* DriftStore.DriftStore).baselines(m.id, "amount"))[0]!
    }))
    expect(baseline.type).toBe("numeric")
    if (baseline.type === "numeric") {
      expect(baseline.count).toBe(250_000)
      expect(baseline.sample).toHaveLength(100_000)
      expect(baseline.sampled).toBe(true)
    }
  })

  it("rejects bad input naming the field and stores nothing", async () => {
    const result = await run(Effect.gen(function*() {
      const d = yield* DriftDetector.DriftDetector
      const m = yield* monitor()
      yield* d.setBaseline(m.id, { amount: [1, 2, 3] })
      const errors = yield* Effect.all([
        Effect.flip(d.recordBatch(m.id, { amount: [1, Number.NaN, Number.POSITIVE_INFINITY, "12" as never] })),
        Effect.flip(d.recordBatch(m.id, { colour: ["red"] })),
        Effect.flip(d.recordFeature("missing-monitor", "amount", 1)),
        Effect.flip(d.setBaseline(m.id, { score: [] })),
        Effect.flip(d.recordBatch(m.id, { country: [42 as never] }))
      ])
      return { errors, window: yield* (yield* DriftStore.DriftStore).window(m.id, "amount") }
    }))
    const [nan, unknownFeature, unknownMonitor, empty, wrongType] = result.errors as Array<
      { _tag: string; issues?: Array<{ path: Array<unknown> }> }
    >
    expect(nan!.issues!.map((i) => i.path.join("."))).toEqual(["amount.1", "amount.2", "amount.3"])
    expect(unknownFeature!.issues!.map((i) => i.path.join("."))).toEqual(["colour"])
    expect(unknownMonitor!._tag).toBe("MonitorNotFoundError")
    expect(empty!.issues!.map((i) => i.path.join("."))).toEqual(["score"])
    expect(wrongType!.issues!.map((i) => i.path.join("."))).toEqual(["country.0"])
    expect(result.window).toEqual([])
  })

  it("keeps windows to the last N values and reports checks since a time", async () => {
    const { window, reports } = await run(Effect.gen(function*() {
      const d = yield* DriftDetector.DriftDetector
      const m = yield* monitor({ windowSize: 10, minWindow: 5 })
      yield* d.recordBatch(m.id, { amount: Array.from({ length: 25 }, (_, i) => i) })
      yield* d.check(m.id)
      return {
        window: yield* (yield* DriftStore.DriftStore).window(m.id, "amount"),
        reports: yield* d.getDriftReports(m.id, "2000-01-01T00:00:00Z")
      }
    }))
    expect(window).toEqual([15, 16, 17, 18, 19, 20, 21, 22, 23, 24])
    expect(reports).toHaveLength(1)
  })
})

it("rejects monitors with invalid settings", async () => {
  const error = await failureOf(run(DriftDetector.DriftDetector.use((d) =>
    d.createMonitor({
      features: [{ name: "a", kind: "feature", type: "numeric" }, { name: "a", kind: "feature", type: "numeric" }],
      settings: { windowSize: 100, minWindow: 500 }
    })
  )))
  expect(error.issues!.map((i) => i.path.join("."))).toEqual(["features.1.name", "settings.minWindow"])
})

describe("alerts reach people", () => {
  it("posts signed alerts to webhooks, retries failures with backoff, and records every delivery", async () => {
    const requests: Array<{ url: string; headers: Record<string, string>; body: string }> = []
    let failures = 1
    const fakeFetch = (async (url: string, init: RequestInit) => {
      requests.push({ url, headers: init.headers as Record<string, string>, body: init.body as string })
      return failures-- > 0 ? new Response("busy", { status: 503 }) : new Response("ok")
    }) as unknown as typeof fetch
    const { deliveries, hook } = await Effect.runPromise(Effect.provide(
      Effect.gen(function*() {
        const d = yield* DriftDetector.DriftDetector
        const m = yield* monitor()
        const hook = yield* d.createWebhook({
          url: "https://alerts.example/hook",
          secret: "0123456789abcdef-secret",
          minSeverity: "medium"
        })
        yield* d.setBaseline(m.id, { amount: normalish(1, 5000) })
        yield* d.recordBatch(m.id, { amount: normalish(2, 1000, 1.5) })
        yield* d.check(m.id)
        // Deliveries run in the background: wait (bounded) until both attempts are recorded.
        let deliveries = yield* d.webhookDeliveries(hook.id)
        for (let i = 0; i < 250 && deliveries.length < 2; i++) {
          yield* Effect.sleep(20)
          deliveries = yield* d.webhookDeliveries(hook.id)
        }
        return { deliveries, hook }
      }),
      DriftDetector.layerMemory({ fetch: fakeFetch, retryDelayMillis: 1 })
    ))
    expect(deliveries.map((x) => [x.attempt, x.ok, x.status])).toEqual([[1, false, 503], [2, true, 200]])
    expect(requests).toHaveLength(2)
    expect(requests[0]!.headers["x-ml-signature"]).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/)
    const [, t, mac] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(requests[1]!.headers["x-ml-signature"]!)!
    expect(await DriftDetector.signWebhook(hook.secret, requests[1]!.body, Number(t))).toBe(`t=${t},v1=${mac}`)
    expect(JSON.parse(requests[1]!.body).alert).toMatchObject({ feature: "amount", kind: "alert" })
  })

  it("counts alerts and exposes drift scores as metrics", async () => {
    const snapshot = await run(Effect.gen(function*() {
      const d = yield* DriftDetector.DriftDetector
      const m = yield* monitor()
      yield* d.setBaseline(m.id, { amount: normalish(1, 5000) })
      yield* d.recordBatch(m.id, { amount: normalish(2, 1000, 1.5) })
      yield* d.check(m.id)
      return ((yield* MetricsSink.MetricsSink) as unknown as { snapshot: () => Map<string, number> }).snapshot()
    }))
    expect([...(snapshot as Map<string, number>).keys()].some((k) => k.startsWith("ml_drift_alerts_total{severity=")))
      .toBe(true)
    expect((snapshot as Map<string, number>).get("ml_drift_score{feature_name=\"amount\",type=\"psi\"}"))
      .toBeGreaterThan(0.5)
  })
})

describe("monitorAllFeatures", () => {
  it("checks each monitor once per interval across instances, and resumes when one dies", async () => {
    const counts = await Effect.runPromise(Effect.provide(
      Effect.gen(function*() {
        yield* TestClock.setTime(Date.UTC(2030, 0, 1))
        const d = yield* DriftDetector.DriftDetector
        const m = yield* monitor({ checkIntervalSeconds: 60 })
        yield* d.setBaseline(m.id, { amount: normalish(1, 1000) })
        yield* d.recordBatch(m.id, { amount: normalish(2, 500) })
        const a = yield* Effect.forkChild(d.monitorAllFeatures("instance-a", 1000))
        const b = yield* Effect.forkChild(d.monitorAllFeatures("instance-b", 1000))
        const reportsAt = () => d.getDriftReports(m.id).pipe(Effect.map((r) => r.length))
        // Checks fall due at t = 0, 60, 120, ... seconds (the lease lasts one interval).
        yield* TestClock.adjust("1 second")
        const first = yield* reportsAt()
        yield* TestClock.adjust("58 seconds")
        const sameInterval = yield* reportsAt()
        yield* TestClock.adjust("60 seconds")
        const second = yield* reportsAt()
        yield* Fiber.interrupt(a)
        yield* TestClock.adjust("181 seconds")
        const afterDeath = yield* reportsAt()
        yield* Fiber.interrupt(b)
        return [first, sameInterval, second, afterDeath]
      }),
      Layer.merge(DriftDetector.layerMemory(), TestClock.layer())
    ))
    expect(counts[0]).toBe(1)
    expect(counts[1]).toBe(1)
    expect(counts[2]).toBe(2)
    expect(counts[3]).toBe(6) // 120, 180, 240 and 300 s, by the surviving instance
  })
})

const sharedDrift = Effect.runSync(DriftStore.makeMemory)
const sharedLeases = Effect.runSync(Leases.makeMemory)
driftStoreContract(
  "memory",
  () => Layer.merge(Layer.succeed(DriftStore.DriftStore, sharedDrift), Layer.succeed(Leases.Leases, sharedLeases))
)
