/**
 * CBPE (drift/performance/Cbpe.ts): formulas against an independent numpy/scipy computation
 * (test/golden/generate_cbpe.py: pairwise expected AUC, scipy's Mann-Whitney U for the realized
 * one), and the band's coverage on a simulated calibrated stream with covariate drift (fixed seed).
 */
import { describe, expect, it } from "vitest"
import {
  estimatedPerformance,
  estimateWindow,
  expectedConfusion,
  PERFORMANCE_METRICS,
  realizedConfusion,
  realizedPerformance,
  referencePerformance,
  standardErrors
} from "../src/drift/performance/Cbpe.js"
import { makeRandom } from "../src/stats/Random.js"
import golden from "./golden/cbpe.json" with { type: "json" }

const close = (actual: number | null, expected: number | null) => {
  if (expected === null) expect(actual).toBeNull()
  else expect(Math.abs(actual! - expected)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(expected)))
}

describe("CBPE formulas match numpy/scipy", () => {
  for (const c of golden.cases) {
    it(c.name, () => {
      const expected = expectedConfusion(c.probabilities, c.threshold)
      const realized = realizedConfusion(c.probabilities, c.labels, c.threshold)
      for (const k of ["tp", "fp", "fn", "tn"] as const) {
        close(expected[k], c.expectedConfusion[k])
        close(realized[k], c.realizedConfusion[k])
      }
      const estimated = estimatedPerformance(c.probabilities, c.threshold)
      const truth = realizedPerformance(c.probabilities, c.labels, c.threshold)
      const errors = standardErrors(referencePerformance(c.probabilities, c.threshold), c.windowRows)
      for (const m of PERFORMANCE_METRICS) {
        close(estimated[m], c.estimated[m])
        close(truth[m], c.realized[m])
        close(errors[m], c.standardErrors[m])
      }
    })
  }

  it("leaves precision undefined without predicted positives and AUC undefined with one class", () => {
    const low = [0.1, 0.2, 0.3]
    expect(estimatedPerformance(low).precision).toBeNull()
    expect(realizedPerformance(low, [0, 0, 0]).rocAuc).toBeNull()
    expect(estimatedPerformance([0, 0]).rocAuc).toBeNull()
  })

  it("names the input at fault", () => {
    expect(() => expectedConfusion([0.2, 1.5])).toThrow(/probabilities\[1\]/)
    expect(() => expectedConfusion([])).toThrow(/probabilities/)
    expect(() => realizedConfusion([0.2], [2])).toThrow(/labels\[0\]/)
    expect(() => realizedConfusion([0.2, 0.4], [1])).toThrow(/labels/)
    expect(() => expectedConfusion([0.2], 1)).toThrow(/threshold/)
  })
})

describe("CBPE on a simulated calibrated stream", () => {
  const sigmoid = (z: number) => 1 / (1 + Math.exp(-z))

  it("the estimate lies within its band of the realized accuracy in >= 95% of windows", () => {
    const random = makeRandom("cbpe-coverage")
    const reference = referencePerformance(Array.from({ length: 5000 }, () => sigmoid(random.normal(0.5, 1.5))))
    const windows = 200
    const covered = Object.fromEntries(PERFORMANCE_METRICS.map((m) => [m, 0])) as Record<string, number>
    let accuracyMoved = 0
    for (let k = 0; k < windows; k++) {
      // Covariate drift: the score distribution wanders, the model stays calibrated.
      const mean = 0.5 + 1.5 * Math.sin(k / 15)
      const sd = 1 + 0.8 * Math.abs(Math.cos(k / 23))
      const probabilities = Array.from({ length: 500 }, () => sigmoid(random.normal(mean, sd)))
      const labels = probabilities.map((p) => (random.uniform() < p ? 1 : 0))
      const results = estimateWindow(probabilities, { reference, labels })
      for (const r of results) {
        if (r.realized !== null && r.lower !== null && r.realized >= r.lower && r.realized <= r.upper!) {
          covered[r.metric]!++
        }
      }
      const accuracy = results.find((r) => r.metric === "accuracy")!
      if (Math.abs(accuracy.estimate! - reference.values.accuracy!) > 0.05) accuracyMoved++
    }
    // The drift moves accuracy well beyond the reference's in many windows, and CBPE follows it.
    expect(accuracyMoved).toBeGreaterThan(windows / 4)
    expect(covered["accuracy"]! / windows).toBeGreaterThanOrEqual(0.95)
    expect(covered["precision"]! / windows).toBeGreaterThanOrEqual(0.9)
    expect(covered["recall"]! / windows).toBeGreaterThanOrEqual(0.9)
    expect(covered["rocAuc"]! / windows).toBeGreaterThanOrEqual(0.9)
  })

  it("alerts when an estimate falls below its threshold", () => {
    const random = makeRandom("cbpe-alert")
    const confident = Array.from({ length: 400 }, () => sigmoid(random.normal(0, 4)))
    const unsure = Array.from({ length: 400 }, () => sigmoid(random.normal(0, 0.3)))
    const alertBelow = { accuracy: 0.7 }
    const accuracyOf = (p: Array<number>) => estimateWindow(p, { alertBelow }).find((r) => r.metric === "accuracy")!
    expect(accuracyOf(confident)).toMatchObject({ alert: false, alertBelow: 0.7 })
    expect(accuracyOf(unsure).alert).toBe(true)
    expect(accuracyOf(unsure).estimate).toBeLessThan(0.6)
  })
})
