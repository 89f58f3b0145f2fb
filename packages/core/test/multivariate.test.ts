/**
 * Multivariate drift: a correlation flip with unchanged marginals is caught by the domain
 * classifier and by PCA reconstruction error and missed by the per-feature KS and PSI; under no
 * shift the detectors alarm near their nominal rates (seeded repeats, fixed seed); results are
 * deterministic by seed; a monitor's check reports them; bad settings and misaligned rows are
 * refused naming the field.
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import {
  assessFeatures,
  aucPermutationTest,
  checkMultivariate,
  CreateMonitorInput,
  decodeInput,
  defaultMonitorSettings,
  DriftDetector,
  type FeatureSpec,
  makeBaseline,
  makeRandom,
  testFeature
} from "../src/index.js"

/** n rows of two standard normal features with correlation `rho` (same marginals for any rho). */
const correlatedRows = (n: number, rho: number, seed: string) => {
  const random = makeRandom(seed)
  const x: Array<number> = []
  const y: Array<number> = []
  for (let i = 0; i < n; i++) {
    const a = random.normal()
    const b = random.normal()
    x.push(a)
    y.push(rho * a + Math.sqrt(1 - rho * rho) * b)
  }
  return { x, y }
}

const features: ReadonlyArray<FeatureSpec> = [
  { name: "x", kind: "feature", type: "numeric" },
  { name: "y", kind: "feature", type: "numeric" }
]

const both = { domainClassifier: {}, pca: {} }

/** The per-feature verdicts of the monitor's univariate tests (KS + PSI, BH-corrected). */
const univariate = (baseline: Record<string, Array<number>>, window: Record<string, Array<number>>) => {
  const settings = defaultMonitorSettings
  const tested = features.map((spec) =>
    testFeature(
      spec,
      makeBaseline({
        monitorId: "m",
        feature: spec.name,
        type: spec.type,
        values: baseline[spec.name]!,
        version: 1,
        at: "2030-01-01T00:00:00.000Z",
        settings
      }),
      window[spec.name]!,
      settings
    )
  )
  return assessFeatures(tested, settings)
}

describe("a correlation flip with unchanged marginals (+0.8 in the baseline, -0.8 in the window)", () => {
  const baseline = correlatedRows(5000, 0.8, "baseline")
  const flipped = correlatedRows(1000, -0.8, "window")

  it("is missed by KS and PSI per feature", () => {
    for (const check of univariate(baseline, flipped)) {
      expect(check.severity).toBe("none")
      expect(check.adjustedPValue!).toBeGreaterThan(0.05)
      expect(check.psi!).toBeLessThan(0.1)
    }
  })

  it("is caught by the domain classifier and by PCA reconstruction error", () => {
    const result = checkMultivariate({
      features,
      settings: both,
      pValueThreshold: 0.05,
      minWindow: 100,
      seed: "flip",
      baseline,
      window: flipped
    })
    expect(result.untested).toBeNull()
    expect(result.domainClassifier!.drifted).toBe(true)
    expect(result.domainClassifier!.auc).toBeGreaterThan(0.75)
    // 1000 permutations, none reaching the observed AUC: the smallest possible p-value.
    expect(result.domainClassifier!.pValue).toBeCloseTo(1 / 1001, 12)
    expect(result.pca!.drifted).toBe(true)
    expect(result.pca!.reconstructionError).toBeGreaterThan(result.pca!.upper)
    // With correlation 0.8 one component explains 90% of the variance (> 0.65): it is the one kept.
    expect(result.pca!.components).toBe(1)
    expect(result.drifted).toBe(true)
  })

  it("is not reported for a window with the baseline's correlation", () => {
    const same = correlatedRows(1000, 0.8, "window")
    const result = checkMultivariate({
      features,
      settings: both,
      pValueThreshold: 0.05,
      minWindow: 100,
      seed: "flip",
      baseline,
      window: same
    })
    expect(result.domainClassifier!.drifted).toBe(false)
    expect(result.pca!.drifted).toBe(false)
  })
})

describe("false alarms under no shift (200 seeded repeats, fixed seed)", () => {
  it("the domain classifier alarms near its 5% level and PCA near its 3-sd level", () => {
    const repeats = 200
    let classifierAlarms = 0
    let pcaAlarms = 0
    for (let r = 0; r < repeats; r++) {
      const result = checkMultivariate({
        features,
        settings: { domainClassifier: { permutations: 200 }, pca: {} },
        pValueThreshold: 0.05,
        minWindow: 100,
        seed: `repeat-${r}`,
        baseline: correlatedRows(1000, 0.6, `baseline-${r}`),
        window: correlatedRows(200, 0.6, `window-${r}`)
      })
      if (result.domainClassifier!.drifted) classifierAlarms++
      if (result.pca!.drifted) pcaAlarms++
    }
    // Binomial(200, 0.05) lies in [3, 19] with probability > 99.8%.
    expect(classifierAlarms).toBeGreaterThanOrEqual(3)
    expect(classifierAlarms).toBeLessThanOrEqual(19)
    // mean +- 3 sd has a 0.27% normal tail; with the sd estimated from 10 chunks, a few percent at most.
    expect(pcaAlarms).toBeLessThanOrEqual(10)
  }, 60_000)
})

describe("determinism and the permutation p-value", () => {
  const baseline = correlatedRows(600, 0.5, "b")
  const window = correlatedRows(300, 0.3, "w")
  const run = (seed: string) =>
    checkMultivariate({ features, settings: both, pValueThreshold: 0.05, minWindow: 10, seed, baseline, window })

  it("gives the same result for the same seed and data, another split for another seed", () => {
    expect(run("a")).toEqual(run("a"))
    expect(run("a").domainClassifier!.auc).not.toBe(run("b").domainClassifier!.auc)
    // PCA has no randomness: it does not depend on the seed.
    expect(run("a").pca).toEqual(run("b").pca)
  })

  it("is (1 + #{permuted AUC >= AUC}) / (1 + N)", () => {
    const separated = aucPermutationTest([0.1, 0.2, 0.3, 0.7, 0.8, 0.9], [0, 0, 0, 1, 1, 1], 999, "s")
    expect(separated.auc).toBe(1)
    // Only 1 of the 20 labellings reaches AUC 1: about 999/20 permutations do, plus the observed one.
    expect(separated.pValue).toBeGreaterThan(0.03)
    expect(separated.pValue).toBeLessThan(0.08)
    const reversed = aucPermutationTest([0.9, 0.8, 0.7, 0.3, 0.2, 0.1], [0, 0, 0, 1, 1, 1], 999, "s")
    expect(reversed.auc).toBe(0)
    expect(reversed.pValue).toBe(1)
  })

  it("reports untested without enough rows", () => {
    const small = checkMultivariate({
      features,
      settings: both,
      pValueThreshold: 0.05,
      minWindow: 100,
      seed: "s",
      baseline,
      window: correlatedRows(50, 0.5, "w")
    })
    expect(small.untested).toMatch(/minWindow \(100\)/)
    expect(small.drifted).toBe(false)
    const noBaseline = checkMultivariate({
      features,
      settings: both,
      pValueThreshold: 0.05,
      minWindow: 10,
      seed: "s",
      baseline: {},
      window
    })
    expect(noBaseline.untested).toMatch(/baseline rows/)
  })
})

const provide = <A, E>(program: Effect.Effect<A, E, DriftDetector.DriftDetector>) =>
  Effect.runPromise(Effect.provide(program, DriftDetector.layerMemory()) as Effect.Effect<A, E>)

const failure = (program: Effect.Effect<unknown, unknown, DriftDetector.DriftDetector>) =>
  provide(Effect.flip(program)) as Promise<{ _tag: string; issues: Array<{ path: Array<string | number> }> }>

const monitorInput = (multivariate: unknown, extra: Array<FeatureSpec> = []) =>
  ({
    id: "rows",
    features: [...features, { name: "score", kind: "prediction", type: "numeric" }, ...extra],
    settings: { windowSize: 1000, minWindow: 100, multivariate }
  }) as CreateMonitorInput

describe("a monitor with settings.multivariate", () => {
  it("reports both detectors in its check and alerts: the flip drifts, the features do not", async () => {
    const baseline = correlatedRows(5000, 0.8, "baseline")
    const window = correlatedRows(1000, -0.8, "window")
    const again = correlatedRows(1000, 0.8, "again")
    const { recovered, report } = await provide(Effect.gen(function*() {
      const detector = yield* DriftDetector.DriftDetector
      yield* detector.createMonitor(monitorInput(both))
      yield* detector.setBaseline("rows", baseline)
      // Rows without the prediction: it is not an input of the detectors, and its window stays empty.
      yield* detector.recordRows("rows", window.x.map((x, i) => ({ x, y: window.y[i]! })))
      const report = yield* detector.check("rows")
      // The baseline's correlation returns: the window slides to 1000 new rows.
      yield* detector.recordRows("rows", again.x.map((x, i) => ({ x, y: again.y[i]! })))
      return { report, recovered: yield* detector.check("rows") }
    }))
    expect(report.alerts.map((a) => [a.feature, a.kind, a.severity])).toEqual([["~multivariate", "alert", "high"]])
    expect(report.alerts[0]!.multivariate).toEqual(report.multivariate)
    expect(report.alerts[0]!.check).toBeUndefined()
    expect(recovered.multivariate!.drifted).toBe(false)
    expect(recovered.alerts.map((a) => [a.feature, a.kind, a.severity])).toEqual([[
      "~multivariate",
      "recovery",
      "none"
    ]])
    expect(report.features.map((f) => f.severity)).toEqual(["none", "none"])
    expect(report.multivariate!.baselineRows).toBe(5000)
    expect(report.multivariate!.windowRows).toBe(1000)
    expect(report.multivariate!.domainClassifier!.drifted).toBe(true)
    expect(report.multivariate!.pca!.drifted).toBe(true)
    expect(report.multivariate!.drifted).toBe(true)
  })

  it("keeps a seeded sample of baselineRows rows and pads absent row values with null", async () => {
    const baseline = correlatedRows(3000, 0.8, "baseline")
    const result = await provide(Effect.gen(function*() {
      const detector = yield* DriftDetector.DriftDetector
      yield* detector.createMonitor(monitorInput({ pca: {}, baselineRows: 1000 }))
      yield* detector.setBaseline("rows", baseline)
      const rows = Array.from({ length: 150 }, (_, i) => (i % 3 === 0 ? { x: baseline.x[i]! } : { x: 1, y: 2 }))
      yield* detector.recordRows("rows", rows)
      return yield* detector.check("rows")
    }))
    expect(result.multivariate!.baselineRows).toBe(1000)
    expect(result.multivariate!.windowRows).toBe(150)
    expect(result.multivariate!.domainClassifier).toBeNull()
  })

  it("is refused naming the field when it enables nothing or PCA lacks numeric features", async () => {
    const nothing = await failure(DriftDetector.DriftDetector.use((d) => d.createMonitor(monitorInput({}))))
    expect(nothing._tag).toBe("ValidationError")
    expect(nothing.issues.map((i) => i.path.join("."))).toEqual(["settings.multivariate"])
    const onePca = await failure(DriftDetector.DriftDetector.use((d) =>
      d.createMonitor({
        features: [{ name: "x", kind: "feature", type: "numeric" }],
        settings: { multivariate: { pca: {} } }
      })
    ))
    expect(onePca.issues.map((i) => i.path.join("."))).toEqual(["settings.multivariate.pca"])
  })

  it("bounds its work: at most 200 input features, window rows sampled down to 20,000", async () => {
    const many = Array.from(
      { length: 201 },
      (_, i): FeatureSpec => ({ name: `f${i}`, kind: "feature", type: "numeric" })
    )
    const tooMany = await failure(
      DriftDetector.DriftDetector.use((d) =>
        d.createMonitor({ features: many, settings: { multivariate: { domainClassifier: {} } } })
      )
    )
    expect(tooMany.issues.map((i) => [i.path.join("."), (i as unknown as { message: string }).message])).toEqual([
      ["settings.multivariate", "takes at most 200 features of kind feature, the monitor has 201"]
    ])
    const result = checkMultivariate({
      features,
      settings: { pca: {} },
      pValueThreshold: 0.05,
      minWindow: 100,
      seed: "s",
      baseline: correlatedRows(25_000, 0.8, "b"),
      window: correlatedRows(30_000, 0.8, "w")
    })
    expect([result.baselineRows, result.windowRows]).toEqual([20_000, 20_000])
  })

  it("refuses out-of-range options at decoding, naming the field and the limit", async () => {
    const decode = decodeInput(CreateMonitorInput, "monitor")
    const error = await Effect.runPromise(
      Effect.flip(decode({ features, settings: { multivariate: { domainClassifier: { permutations: 5 } } } }))
    )
    expect(error.message).toMatch(/settings.*multivariate.*domainClassifier.*permutations/s)
    expect(error.message).toMatch(/from 10 to 100000/)
  })

  it("refuses observations that would misalign its rows", async () => {
    const unequal = await failure(Effect.gen(function*() {
      const detector = yield* DriftDetector.DriftDetector
      yield* detector.createMonitor(monitorInput(both))
      return yield* detector.recordBatch("rows", { x: [1, 2, 3], y: [1, 2] })
    }))
    expect(unequal.issues.map((i) => i.path.join("."))).toEqual(["y"])
    const partial = await failure(Effect.gen(function*() {
      const detector = yield* DriftDetector.DriftDetector
      yield* detector.createMonitor(monitorInput(both))
      return yield* detector.recordFeature("rows", "x", 1)
    }))
    expect(partial.issues.map((i) => i.path.join("."))).toEqual(["y"])
    // The prediction alone is fine: it is not a row input.
    await provide(Effect.gen(function*() {
      const detector = yield* DriftDetector.DriftDetector
      yield* detector.createMonitor(monitorInput(both))
      yield* detector.recordFeature("rows", "score", 0.5)
    }))
  })
})
