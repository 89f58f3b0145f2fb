/**
 * Contract of the DriftStore and Leases ports, run against every adapter: atomic windows under
 * concurrent writers, versioned baselines, alert state, reports with retention, webhooks and
 * deliveries, and leases that exclude until they expire.
 */
import { Effect, Exit, type Layer } from "effect"
import { describe, expect, it } from "vitest"
import type { Baseline } from "../drift/Baseline.js"
import { DriftStore } from "../drift/DriftStore.js"
import { defaultMonitorSettings, type Monitor } from "../drift/Monitor.js"
import { baselineRowsWindow } from "../drift/multivariate/MultivariateRows.js"
import type { DriftReport } from "../drift/Report.js"
import { type Delivery, maxDeliveriesPerWebhook } from "../drift/Webhook.js"
import { Leases } from "../shared/Leases.js"
import { leasesContract } from "./LeasesContract.js"
import { exampleSignature } from "./SignatureContract.js"

export const sampleMonitor = (overrides: Partial<Monitor> = {}): Monitor => ({
  id: `mon-${Math.random().toString(36).slice(2, 10)}`,
  modelId: null,
  features: [{ name: "amount", kind: "feature", type: "numeric" }, {
    name: "country",
    kind: "feature",
    type: "categorical"
  }],
  settings: defaultMonitorSettings,
  createdAt: new Date().toISOString(),
  ...overrides
})

const baseline = (version: number): Baseline => ({
  type: "categorical",
  version,
  createdAt: new Date().toISOString(),
  count: 3,
  missingShare: 0,
  counts: { a: 2, b: 1 }
})

const report = (monitorId: string, at: string): DriftReport => ({
  id: `check-${Math.random().toString(36).slice(2)}`,
  monitorId,
  at,
  features: [],
  alerts: []
})

export const driftStoreContract = (adapter: string, makeLayer: () => Layer.Layer<DriftStore | Leases, unknown>) => {
  const run = <A, E>(program: Effect.Effect<A, E, DriftStore | Leases>): Promise<A> =>
    Effect.runPromise(Effect.provide(program, makeLayer()) as Effect.Effect<A, E>)

  describe(`DriftStore contract: ${adapter}`, () => {
    it("stores monitors once and lists them", async () => {
      const monitor = sampleMonitor()
      const { again, stored, listed } = await run(Effect.gen(function*() {
        const store = yield* DriftStore
        yield* store.insertMonitor(monitor)
        return {
          again: yield* Effect.exit(store.insertMonitor(monitor)),
          stored: yield* store.getMonitor(monitor.id),
          listed: yield* store.listMonitors()
        }
      }))
      expect(Exit.isFailure(again)).toBe(true)
      expect(stored).toEqual(monitor)
      expect(listed.map((m) => m.id)).toContain(monitor.id)
    })

    it("keeps the signature of a monitor created from a model", async () => {
      const monitor = sampleMonitor({ signature: exampleSignature })
      const stored = await run(Effect.gen(function*() {
        const store = yield* DriftStore
        yield* store.insertMonitor(monitor)
        return yield* store.getMonitor(monitor.id)
      }))
      expect(stored).toEqual(monitor)
    })

    it("keeps every baseline version in order", async () => {
      const monitor = sampleMonitor()
      const versions = await run(Effect.gen(function*() {
        const store = yield* DriftStore
        yield* store.insertMonitor(monitor)
        yield* store.addBaseline(monitor.id, "country", baseline(1))
        yield* store.addBaseline(monitor.id, "country", baseline(2))
        return yield* store.baselines(monitor.id, "country")
      }))
      expect(versions.map((b) => b.version)).toEqual([1, 2])
      expect(versions[0]).toMatchObject({ type: "categorical", version: 1, counts: { a: 2, b: 1 } })
    })

    it("keeps the last N values of a window, losing none of concurrent writers' values", async () => {
      const monitor = sampleMonitor()
      const { big, small } = await run(Effect.gen(function*() {
        const store = yield* DriftStore
        yield* store.insertMonitor(monitor)
        yield* Effect.all(
          Array.from(
            { length: 20 },
            (_, w) =>
              store.pushWindows(monitor.id, { amount: Array.from({ length: 50 }, (_, i) => w * 1000 + i) }, 10_000)
          ),
          { concurrency: "unbounded" }
        )
        yield* store.pushWindows(monitor.id, { country: ["a", null, "b"] }, 2)
        return { big: yield* store.window(monitor.id, "amount"), small: yield* store.window(monitor.id, "country") }
      }))
      expect(big).toHaveLength(1000)
      expect([...big].sort((a, b) => (a as number) - (b as number))).toEqual(
        Array.from({ length: 20 }, (_, w) => Array.from({ length: 50 }, (_, i) => w * 1000 + i)).flat()
      )
      expect(small).toEqual([null, "b"])
    })

    it("appends one call's batch to every feature's window, each sliding on its own", async () => {
      const monitor = sampleMonitor()
      const { amount, country } = await run(Effect.gen(function*() {
        const store = yield* DriftStore
        yield* store.insertMonitor(monitor)
        // Concurrent multi-feature batches: every value lands in its own feature's window.
        yield* Effect.all(
          Array.from({ length: 10 }, (_, w) =>
            store.pushWindows(monitor.id, {
              amount: [w * 10, w * 10 + 1],
              country: [`c${w}`]
            }, 100)),
          { concurrency: "unbounded" }
        )
        yield* store.pushWindows(monitor.id, { amount: [1000], country: [null, "z"] }, 5)
        return {
          amount: yield* store.window(monitor.id, "amount"),
          country: yield* store.window(monitor.id, "country")
        }
      }))
      expect(amount).toHaveLength(5)
      expect(amount[4]).toBe(1000)
      expect(country).toHaveLength(5)
      expect(country.slice(3)).toEqual([null, "z"])
      expect(new Set(country.slice(0, 3)).size).toBe(3)
    })

    it("keeps a multivariate monitor's settings and its baseline rows in reserved windows", async () => {
      const monitor = sampleMonitor({
        settings: { ...defaultMonitorSettings, multivariate: { pca: { varianceShare: 0.8 }, domainClassifier: {} } }
      })
      const amountRows = baselineRowsWindow("amount")
      const countryRows = baselineRowsWindow("country")
      const { amount, country, stored, values } = await run(Effect.gen(function*() {
        const store = yield* DriftStore
        yield* store.insertMonitor(monitor)
        yield* store.pushWindows(monitor.id, { amount: [1, 2, 3] }, 10)
        yield* store.pushWindows(
          monitor.id,
          { [amountRows]: [10, 11, 12, 13], [countryRows]: ["a", null, "b", "c"] },
          4
        )
        // A new baseline's rows (fewer of them) replace the old ones: push k values, keep the last k.
        yield* store.pushWindows(monitor.id, { [amountRows]: [20, null], [countryRows]: ["z", "y"] }, 2)
        return {
          amount: yield* store.window(monitor.id, amountRows),
          country: yield* store.window(monitor.id, countryRows),
          stored: yield* store.getMonitor(monitor.id),
          values: yield* store.window(monitor.id, "amount")
        }
      }))
      expect(amount).toEqual([20, null])
      expect(country).toEqual(["z", "y"])
      expect(values).toEqual([1, 2, 3])
      expect(stored?.settings.multivariate).toEqual(monitor.settings.multivariate)
    })

    it("slides the window across batches of any size", async () => {
      const monitor = sampleMonitor()
      const sizes = [3, 7, 1, 12, 5, 2, 9]
      let next = 0
      const batches = sizes.map((n) => Array.from({ length: n }, () => next++))
      const windows = await run(Effect.gen(function*() {
        const store = yield* DriftStore
        yield* store.insertMonitor(monitor)
        const seen: Array<ReadonlyArray<unknown>> = []
        for (const values of batches) {
          yield* store.pushWindows(monitor.id, { amount: values }, 10)
          seen.push(yield* store.window(monitor.id, "amount"))
        }
        return seen
      }))
      let all: Array<number> = []
      batches.forEach((values, i) => {
        all = [...all, ...values]
        expect(windows[i]).toEqual(all.slice(-10))
      })
    })

    it("remembers alert states and reports, pruned past the retention", async () => {
      const monitor = sampleMonitor()
      const result = await run(Effect.gen(function*() {
        const store = yield* DriftStore
        yield* store.insertMonitor(monitor)
        yield* store.setAlertState(monitor.id, "amount", { severity: "high", at: "2030-01-01T00:00:00.000Z" })
        yield* store.appendReport(report(monitor.id, "2030-01-01T00:00:00.000Z"), "2000-01-01T00:00:00.000Z")
        yield* store.appendReport(report(monitor.id, "2030-01-05T00:00:00.000Z"), "2030-01-02T00:00:00.000Z")
        return {
          states: yield* store.alertStates(monitor.id),
          all: yield* store.reports(monitor.id, undefined),
          since: yield* store.reports(monitor.id, "2030-01-04T00:00:00.000Z")
        }
      }))
      expect(result.states).toEqual({ amount: { severity: "high", at: "2030-01-01T00:00:00.000Z" } })
      expect(result.all.map((r) => r.at)).toEqual(["2030-01-05T00:00:00.000Z"])
      expect(result.since).toHaveLength(1)
    })

    it("finds a report by id, of any form, until the retention prunes it", async () => {
      const monitor = sampleMonitor()
      const other = sampleMonitor()
      // An id that names no time: the lookup may not lean on the id's form.
      const old = { ...report(monitor.id, "2030-01-01T00:00:00.000Z"), id: `custom/${Math.random()} report` }
      const kept = report(monitor.id, "2030-01-05T00:00:00.000Z")
      const otherMonitors = report(other.id, "2030-01-01T00:00:00.000Z")
      const result = await run(Effect.gen(function*() {
        const store = yield* DriftStore
        yield* store.insertMonitor(monitor)
        yield* store.insertMonitor(other)
        yield* store.appendReport(old, "2000-01-01T00:00:00.000Z")
        yield* store.appendReport(otherMonitors, "2000-01-01T00:00:00.000Z")
        const before = yield* store.getReport(old.id)
        yield* store.appendReport(kept, "2030-01-02T00:00:00.000Z")
        return {
          before,
          pruned: yield* store.getReport(old.id),
          kept: yield* store.getReport(kept.id),
          // Retention is per monitor: another monitor's report of the same age stays.
          otherMonitors: yield* store.getReport(otherMonitors.id),
          unknown: yield* store.getReport(`check-never-${Math.random().toString(36).slice(2)}`)
        }
      }))
      expect(result.before).toEqual(old)
      expect(result.pruned).toBeUndefined()
      expect(result.kept).toEqual(kept)
      expect(result.otherMonitors).toEqual(otherMonitors)
      expect(result.unknown).toBeUndefined()
    })

    it("stores webhooks and deliveries", async () => {
      const hook = {
        id: `hook-${Math.random().toString(36).slice(2)}`,
        url: "https://example.invalid/h",
        secret: "s".repeat(20),
        monitorId: null,
        minSeverity: "low" as const,
        createdAt: new Date().toISOString()
      }
      const result = await run(Effect.gen(function*() {
        const store = yield* DriftStore
        yield* store.putWebhook(hook)
        yield* store.appendDelivery({
          webhookId: hook.id,
          alertId: "a1",
          at: hook.createdAt,
          attempt: 1,
          ok: false,
          status: 503,
          error: "HTTP 503"
        })
        const listed = yield* store.listWebhooks()
        const deliveries = yield* store.deliveries(hook.id)
        const deleted = yield* store.deleteWebhook(hook.id)
        return { listed, deliveries, deleted, after: yield* store.listWebhooks() }
      }))
      expect(result.listed).toContainEqual(hook)
      expect(result.deliveries).toEqual([{
        webhookId: hook.id,
        alertId: "a1",
        at: hook.createdAt,
        attempt: 1,
        ok: false,
        status: 503,
        error: "HTTP 503"
      }])
      expect(result.deleted).toBe(true)
      expect(result.after.map((h) => h.id)).not.toContain(hook.id)
    })

    it(`keeps only the last ${maxDeliveriesPerWebhook} deliveries of each webhook`, async () => {
      const busy = `hook-busy-${Math.random().toString(36).slice(2)}`
      const quiet = `hook-quiet-${Math.random().toString(36).slice(2)}`
      const delivery = (webhookId: string, attempt: number): Delivery => ({
        webhookId,
        alertId: `alert-${attempt}`,
        at: new Date(Date.UTC(2030, 0, 1, 0, 0, attempt)).toISOString(),
        attempt,
        ok: true,
        status: 200,
        error: null
      })
      const overflow = 5
      const result = await run(Effect.gen(function*() {
        const store = yield* DriftStore
        yield* store.appendDelivery(delivery(quiet, 1))
        for (let attempt = 1; attempt <= maxDeliveriesPerWebhook + overflow; attempt++) {
          yield* store.appendDelivery(delivery(busy, attempt))
        }
        yield* store.appendDelivery(delivery(quiet, 2))
        const all = (yield* store.deliveries(undefined)).filter((d) => d.webhookId === busy || d.webhookId === quiet)
        return { busy: yield* store.deliveries(busy), quiet: yield* store.deliveries(quiet), all }
      }))
      // The oldest records of the busy webhook go; a quiet webhook's history is not pushed out by it.
      expect(result.busy).toHaveLength(maxDeliveriesPerWebhook)
      expect(result.busy[0]).toEqual(delivery(busy, overflow + 1))
      expect(result.busy.at(-1)).toEqual(delivery(busy, maxDeliveriesPerWebhook + overflow))
      expect(result.quiet.map((d) => d.attempt)).toEqual([1, 2])
      // Listed across webhooks, what is kept stays in the order it was appended.
      expect(result.all).toHaveLength(maxDeliveriesPerWebhook + 2)
      expect(result.all[0]).toEqual(delivery(quiet, 1))
      expect(result.all.at(-1)).toEqual(delivery(quiet, 2))
    })
  })
  // The drift scheduler's leases live in the same store: the Leases contract runs on it too.
  leasesContract(adapter, makeLayer)
}
