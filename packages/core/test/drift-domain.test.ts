/** The pure parts of drift monitoring, tested directly: alert transitions, checks, drift tests, rules and schemas. */
import { Effect, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { chiSquareTest } from "../src/drift/tests/ChiSquare.js"
import {
  adjustPValues,
  assessFeatures,
  Baseline,
  benjaminiHochberg,
  categoricalTests,
  CreateWebhookInput,
  decodeInput,
  defaultMonitorSettings,
  DriftDetector,
  DriftReport,
  driftTests,
  ks2Samp,
  makeBaseline,
  Monitor,
  monitorSettings,
  numericTests,
  observationIssues,
  ObservationsBody,
  ReportsQuery,
  storedRecord,
  type TestedFeature,
  testFeature,
  transition,
  wantsAlert,
  type Webhook,
  webhookIssues,
  WindowValues
} from "../src/index.js"
import { makeSample } from "./golden/samples.js"

const normalish = (seed: number, n: number, loc = 0) =>
  Array.from(makeSample({ seed, n, kind: "irwin", loc, scale: 1, levels: 0 }))
const t0 = "2030-01-01T00:00:00.000Z"
const later = (minutes: number) => new Date(Date.parse(t0) + minutes * 60_000).toISOString()

describe("alert state machine", () => {
  it("alerts on a rise from none, escalates at once, and repeats only after the cooldown", () => {
    expect(transition(undefined, "none", t0, 3600)).toEqual({
      kind: undefined,
      previousSeverity: "none",
      state: undefined
    })
    expect(transition(undefined, "low", t0, 3600)).toEqual({
      kind: "alert",
      previousSeverity: "none",
      state: { severity: "low", at: t0 }
    })
    const medium = { severity: "medium" as const, at: t0 }
    expect(transition(medium, "high", later(1), 3600)).toMatchObject({ kind: "escalation", previousSeverity: "medium" })
    expect(transition(medium, "medium", later(59), 3600)).toEqual({
      kind: undefined,
      previousSeverity: "medium",
      state: undefined
    })
    expect(transition(medium, "medium", later(60), 3600)).toEqual({
      kind: "alert",
      previousSeverity: "medium",
      state: { severity: "medium", at: later(60) }
    })
  })

  it("records a recovery, and lowers the level short of none without alerting", () => {
    const high = { severity: "high" as const, at: t0 }
    expect(transition(high, "none", later(5), 3600)).toEqual({
      kind: "recovery",
      previousSeverity: "high",
      state: { severity: "none", at: later(5) }
    })
    // The time of the last alert is kept, so the cooldown still runs from it.
    expect(transition(high, "low", later(5), 3600)).toEqual({
      kind: undefined,
      previousSeverity: "high",
      state: { severity: "low", at: t0 }
    })
    expect(transition({ severity: "none", at: t0 }, "none", later(5), 0).state).toBeUndefined()
  })
})

describe("checks", () => {
  const settings = { ...defaultMonitorSettings, minWindow: 100 }
  const numeric = { name: "amount", kind: "feature" as const, type: "numeric" as const }
  const country = { name: "country", kind: "feature" as const, type: "categorical" as const }
  const baselineOf = (type: "numeric" | "categorical", values: ReadonlyArray<number | string | null>) =>
    makeBaseline({ monitorId: "m", feature: "f", type, values, version: 1, at: t0, settings })

  it("leaves a feature untested while its window is smaller than minWindow", () => {
    const tested = testFeature(numeric, baselineOf("numeric", normalish(1, 1000)), normalish(2, 99), settings)
    expect(tested).toMatchObject({ windowCount: 99, psi: null, ksStatistic: null, pValue: null, edges: null })
  })

  it("runs KS and PSI on numeric windows, on the baseline's frozen bins", () => {
    const baseline = baselineOf("numeric", normalish(1, 2000))
    const window = [...normalish(2, 500, 0.5), null]
    const tested = testFeature(numeric, baseline, window, settings)
    const ks = ks2Samp(baseline.type === "numeric" ? baseline.sample : [], normalish(2, 500, 0.5))
    expect(tested.ksStatistic).toBe(ks.statistic)
    expect(tested.pValue).toBe(ks.pValue)
    expect(tested.missingShare).toBeCloseTo(1 / 501)
    expect(tested.edges).toEqual(baseline.type === "numeric" ? baseline.edges : null)
    expect(tested.psi!).toBeGreaterThan(0.1)
  })

  it("runs chi-square and PSI on categorical windows and names unseen categories", () => {
    const baseline = baselineOf("categorical", [...Array(300).fill("de"), ...Array(200).fill("fr")])
    const tested = testFeature(country, baseline, [...Array(100).fill("de"), ...Array(100).fill("br")], settings)
    expect(tested.categories).toEqual(["br", "de", "fr"])
    expect(tested.unseenCategories).toEqual(["br"])
    expect(tested.ksStatistic).toBeNull()
    expect(tested.pValue!).toBeLessThan(1e-10)
    // One category in all: nothing to compare.
    expect(chiSquareTest.run({ ...baseline, counts: { de: 5 } } as never, { de: 7 }, settings)!.pValue).toBe(1)
  })

  it("corrects p-values across features and assigns severities only to tested features", () => {
    expect(adjustPValues([], "bonferroni")).toEqual([])
    expect(adjustPValues([0.01, 0.4], "bonferroni")).toEqual([0.02, 0.8])
    expect(adjustPValues([0.3, 0.6], "bonferroni")).toEqual([0.6, 1])
    expect(adjustPValues([0.01, 0.02, 0.5], "benjamini-hochberg")).toEqual(benjaminiHochberg([0.01, 0.02, 0.5]))
    expect(adjustPValues([0.01, 0.5], "none")).toEqual([0.01, 0.5])
    const base = {
      type: "numeric" as const,
      windowCount: 1000,
      missingShare: 0,
      baselineVersion: 1,
      baselineMissingShare: 0,
      ksStatistic: 0.2,
      edges: null,
      categories: null,
      baselineShares: null,
      currentShares: null,
      unseenCategories: []
    }
    // KS decides, as on a monitor created before drift methods.
    const ks = (pValue: number) => ({
      method: "ks",
      role: "significance" as const,
      chosenBy: "legacy" as const,
      valuesAsCategories: false,
      threshold: settings.pValueThreshold,
      result: { statistic: 0.2, pValue }
    })
    const features: Array<TestedFeature> = [
      { ...base, feature: "a", psi: 0.3, pValue: 0.001, pendingDrift: ks(0.001) },
      { ...base, feature: "b", psi: null, ksStatistic: null, pValue: null, pendingDrift: undefined },
      { ...base, feature: "c", psi: 2, pValue: 0.04, pendingDrift: ks(0.04) }
    ]
    const checks = assessFeatures(features, { ...settings, correction: "bonferroni" })
    expect(checks.map((c) => [c.feature, c.adjustedPValue, c.severity])).toEqual([
      ["a", 0.002, "medium"],
      ["b", null, "none"],
      ["c", 0.08, "none"] // significant alone, not after the correction
    ])
    expect(checks[0]).not.toHaveProperty("baselineMissingShare")
  })
})

describe("drift test registry", () => {
  it("lists the deciding significance and distance test first per feature type, with unique names", () => {
    for (const [tests, significance] of [[numericTests, "ks"], [categoricalTests, "chi-square"]] as const) {
      expect(tests.find((t) => t.role === "significance")!.name).toBe(significance)
      expect(tests.find((t) => t.role === "distance")!.name).toBe("psi")
      expect(new Set(tests.map((t) => t.name)).size).toBe(tests.length)
    }
    expect(driftTests.map((t) => `${t.appliesTo}:${t.name}`).sort()).toEqual([
      "categorical:chi-square",
      "categorical:fisher-exact",
      "categorical:hellinger",
      "categorical:jensen-shannon",
      "categorical:kl-divergence",
      "categorical:psi",
      "categorical:z-test",
      "numeric:fisher-exact",
      "numeric:hellinger",
      "numeric:jensen-shannon",
      "numeric:kl-divergence",
      "numeric:ks",
      "numeric:psi",
      "numeric:z-test"
    ])
  })
})

describe("monitor, observation and webhook rules", () => {
  it("merges settings input over configured defaults over built-ins, and names what the schema cannot", () => {
    const features = [{ name: "a", kind: "feature" as const, type: "numeric" as const }]
    const merged = monitorSettings({ features, settings: { windowSize: 500 } }, { windowSize: 200, minWindow: 50 })
    expect(merged.issues).toEqual([])
    expect(merged.settings).toMatchObject({ windowSize: 500, minWindow: 50, psiBins: 10 })
    const bad = monitorSettings({
      features: [],
      settings: { severityThresholds: { low: 0.5, medium: 0.25, high: 0.6, critical: 1 } }
    }, {})
    expect(bad.issues.map((i) => i.path.join("."))).toEqual(["features", "settings.severityThresholds"])
  })

  it("checks each observed value against its feature's type", () => {
    const monitor = {
      id: "m",
      modelId: null,
      features: [{ name: "x", kind: "feature" as const, type: "numeric" as const }, {
        name: "c",
        kind: "feature" as const,
        type: "categorical" as const
      }],
      settings: defaultMonitorSettings,
      createdAt: t0
    }
    const issues = observationIssues(monitor, { x: [1, null, "2" as never], c: ["a", 3 as never], y: [] }, (f, i) => [
      f,
      i
    ])
    expect(issues.map((i) => `${i.path.join(".")}: ${i.message}`)).toEqual([
      "x.2: must be a finite number from -1e+120 to 1e+120 or null, got \"2\"",
      "c.1: must be a string or null, got 3",
      "y: is not a feature of monitor m"
    ])
  })

  it("sends an alert to the webhooks of its monitor at or above their level, and every recovery", () => {
    const hook = (monitorId: string | null, minSeverity: Webhook["minSeverity"]): Webhook => ({
      id: "h",
      url: "https://example.invalid",
      secret: "x".repeat(16),
      monitorId,
      minSeverity,
      createdAt: t0
    })
    const alert = (kind: "alert" | "recovery", severity: "none" | "medium") =>
      ({ monitorId: "m1", kind, severity }) as never
    expect(wantsAlert(hook(null, "medium"), alert("alert", "medium"))).toBe(true)
    expect(wantsAlert(hook("m2", "low"), alert("alert", "medium"))).toBe(false)
    expect(wantsAlert(hook("m1", "high"), alert("alert", "medium"))).toBe(false)
    expect(wantsAlert(hook("m1", "high"), alert("recovery", "none"))).toBe(true)
    expect(webhookIssues({ url: "ftp://x", secret: "short" }).map((i) => i.path.join("."))).toEqual(["url", "secret"])
  })
})

describe("request schemas", () => {
  const messages = (effect: Effect.Effect<unknown, { issues: ReadonlyArray<{ path: ReadonlyArray<unknown> }> }>) =>
    Effect.runSync(Effect.flip(effect)).issues.map((i) => i.path.join("."))
  it("name the offending field as the server's decoders do", () => {
    const query = decodeInput(ReportsQuery, "query")
    expect(Effect.runSync(Effect.flip(query({ monitorId: "-bad" }))).message).toBe(
      "Invalid query: monitorId: must be a monitor id"
    )
    expect(Effect.runSync(query({ monitorId: "payments", since: "2030-01-01T00:00:00Z" }))).toEqual({
      monitorId: "payments",
      since: "2030-01-01T00:00:00Z"
    })
    const observations = decodeInput(ObservationsBody, "observations")
    expect(Effect.runSync(observations({ values: { a: [1, "x"] } }))).toEqual({ values: { a: [1, "x"] } })
    expect(Effect.runSync(Effect.flip(observations({ rows: Array(100_001).fill({}) }))).message).toContain(
      "must hold at most 100000 rows"
    )
    expect(messages(decodeInput(CreateWebhookInput, "webhook")({ url: "u", secret: "s", minSeverity: "huge" })))
      .toEqual(["minSeverity"])
  })
})

describe("stored records", () => {
  it("decode what the detector writes, after a JSON round trip", async () => {
    const { monitor, report } = await Effect.runPromise(Effect.provide(
      Effect.gen(function*() {
        const d = yield* DriftDetector.DriftDetector
        const monitor = yield* d.createMonitor({
          features: [{ name: "x", kind: "feature", type: "numeric" }, {
            name: "c",
            kind: "prediction",
            type: "categorical"
          }]
        })
        yield* d.setBaseline(monitor.id, {
          x: normalish(1, 2000),
          c: Array(500).fill("a").concat(Array(500).fill("b"))
        })
        yield* d.recordBatch(monitor.id, { x: normalish(2, 1000, 2), c: Array(1000).fill("z") })
        const report = yield* d.check(monitor.id)
        return { monitor, report }
      }),
      DriftDetector.layerMemory()
    ))
    const roundTrip = <A>(schema: Schema.Decoder<A>, value: A) =>
      storedRecord(schema).fromJson(JSON.stringify(value), "test")
    expect(report.features.map((f) => f.baselineVersion)).toEqual([1, 1])
    expect(report.alerts.length).toBeGreaterThan(0)
    expect(roundTrip(DriftReport, report)).toEqual(report)
    expect(roundTrip(Monitor, monitor)).toEqual(monitor)
    const numeric = makeBaseline({
      monitorId: "m",
      feature: "x",
      type: "numeric",
      values: normalish(3, 300),
      version: 1,
      at: t0,
      settings: defaultMonitorSettings
    })
    expect(roundTrip(Baseline, numeric)).toEqual(numeric)
  })

  it("fail naming where they were read, never passing a damaged value on", () => {
    const windows = storedRecord(WindowValues)
    expect(windows.orThrow([1, "a", null], "k")).toEqual([1, "a", null])
    expect(() => windows.orThrow([1, { a: 1 }], "drift:stats:numeric:m:x[3]")).toThrow(
      /drift:stats:numeric:m:x\[3\].*finite numbers, strings or nulls/
    )
    expect(() => storedRecord(Baseline).orThrow({ type: "numeric", version: 1 }, "file.jsonl:7")).toThrow(
      /file\.jsonl:7/
    )
  })

  it("keep a seeded reservoir: the same data gives the same sample", () => {
    const values = normalish(5, 100_050)
    const make = () =>
      makeBaseline({
        monitorId: "m",
        feature: "x",
        type: "numeric",
        values,
        version: 1,
        at: t0,
        settings: defaultMonitorSettings
      })
    const [a, b] = [make(), make()]
    expect(a.type === "numeric" && a.sampled).toBe(true)
    expect(a).toEqual(b)
  })
})
