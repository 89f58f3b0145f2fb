/**
 * The numeric drift statistics against scipy 1.10.1 (test/golden/drift_tests.py ->
 * drift_tests.json): Wasserstein and energy distances, the two-sample Cramér-von Mises test
 * (exact and asymptotic) and the k-sample Anderson-Darling test with its critical values and
 * capped p-value. Every miss is collected so one failing assertion lists them all.
 */
import { describe, expect, it } from "vitest"
import {
  andersonKSamp,
  besselK,
  cramerVonMises2Samp,
  energyDistance,
  numpyStd,
  wassersteinDistance
} from "../src/index.js"
import golden from "./golden/drift_tests.json" with { type: "json" }
import { makeSample, type SampleSpec } from "./golden/samples.js"

const sample = (spec: unknown) => makeSample(spec as SampleSpec)

const close = (
  misses: Array<string>,
  label: string,
  actual: number,
  expected: number,
  relative: number,
  absolute = 0
) => {
  const error = Math.abs(actual - expected)
  if (!(error <= absolute || error <= relative * Math.abs(expected))) {
    misses.push(`${label}: got ${actual}, scipy ${expected} (abs ${error.toExponential(2)})`)
  }
}

describe("numeric drift statistics match scipy 1.10.1", () => {
  it("wasserstein_distance, its normed value and energy_distance", () => {
    const misses: Array<string> = []
    for (const c of golden.twoSample) {
      const a = sample(c.baseline)
      const b = sample(c.current)
      close(misses, `${c.name} wasserstein`, wassersteinDistance(a, b), c.wasserstein, 1e-13)
      close(
        misses,
        `${c.name} normed`,
        wassersteinDistance(a, b) / Math.max(numpyStd(a), 0.001),
        c.wassersteinNormed,
        1e-13
      )
      close(misses, `${c.name} energy`, energyDistance(a, b), c.energy, 1e-13)
    }
    expect(misses).toEqual([])
  })

  it("cramervonmises_2samp, exact up to 20 values per sample and asymptotic above", () => {
    const misses: Array<string> = []
    for (const c of golden.twoSample) {
      const r = cramerVonMises2Samp(sample(c.baseline), sample(c.current))
      expect(r.method).toBe(c.cvm.method)
      close(misses, `${c.name} T`, r.statistic, c.cvm.statistic, 1e-12, 1e-14)
      close(misses, `${c.name} p`, r.pValue, c.cvm.pValue, 1e-10, 1e-13)
    }
    for (const c of golden.cvmMethods) {
      for (const method of ["exact", "asymptotic"] as const) {
        const r = cramerVonMises2Samp(c.x, c.y, { method })
        close(misses, `${c.name} ${method} T`, r.statistic, c[method].statistic, 1e-12, 1e-14)
        close(misses, `${c.name} ${method} p`, r.pValue, c[method].pValue, 1e-10, 1e-13)
      }
    }
    expect(misses).toEqual([])
  })

  it("anderson_ksamp: statistic, critical values and the capped interpolated p-value", () => {
    const misses: Array<string> = []
    const cases = [
      ...golden.twoSample.map((c) => ({ name: c.name, samples: [c.baseline, c.current], ...c.anderson })),
      ...golden.andersonK
    ]
    for (const c of cases) {
      const r = andersonKSamp(c.samples.map(sample))
      close(misses, `${c.name} A2`, r.statistic, c.statistic, 1e-12, 1e-13)
      r.criticalValues.forEach((v, i) => close(misses, `${c.name} critical[${i}]`, v, c.criticalValues[i]!, 1e-15))
      close(misses, `${c.name} p`, r.pValue, c.pValue, 1e-12)
    }
    expect(misses).toEqual([])
    // The cap and the floor are reached in the golden set.
    expect(cases.map((c) => c.pValue)).toEqual(expect.arrayContaining([0.25, 0.001]))
  })

  it("besselK(1/4, x) equals scipy.special.kv", () => {
    const misses: Array<string> = []
    for (const [x, v] of golden.besselK) close(misses, `K(1/4, ${x})`, besselK(0.25, x!), v!, 1e-13)
    expect(misses).toEqual([])
  })
})
