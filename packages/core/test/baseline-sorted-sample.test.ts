/**
 * A numeric baseline keeps its reference sample in ascending order, so the tests that walk sorted
 * samples (KS, split PSI, Wasserstein, energy, Cramér-von Mises, Anderson-Darling) do not sort it
 * again at every check; a baseline stored earlier in any order gives the same check.
 */
import { describe, expect, it } from "vitest"
import {
  assessFeatures,
  defaultMonitorSettings,
  type FeatureSpec,
  makeBaseline,
  makeRandom,
  type MonitorSettings,
  testFeature
} from "../src/index.js"

const normals = (n: number, mean: number, seed: string) => {
  const random = makeRandom(seed)
  return Array.from({ length: n }, () => random.normal(mean, 1))
}

const isAscending = (xs: ReadonlyArray<number>) => xs.every((x, i) => i === 0 || xs[i - 1]! <= x)

const spec: FeatureSpec = { name: "amount", kind: "feature", type: "numeric" }

const baselineOf = (values: ReadonlyArray<number>) =>
  makeBaseline({
    monitorId: "m",
    feature: "amount",
    type: "numeric",
    values,
    version: 1,
    at: "2030-01-01T00:00:00.000Z",
    settings: defaultMonitorSettings
  })

describe("a numeric baseline's reference sample", () => {
  it("is stored in ascending order, whole or as a reservoir", () => {
    const small = baselineOf(normals(5000, 0, "small"))
    const large = baselineOf(normals(150_000, 0, "large"))
    expect(small.type === "numeric" && small.sample.length === 5000 && isAscending(small.sample)).toBe(true)
    expect(large.type === "numeric" && large.sampled && large.sample.length === 100_000 && isAscending(large.sample))
      .toBe(true)
  })

  it("gives the same check as a baseline stored in arrival order (earlier releases), every test included", () => {
    const values = normals(20_000, 0, "baseline")
    const sorted = baselineOf(values)
    if (sorted.type !== "numeric") throw new Error("numeric expected")
    const inArrivalOrder = { ...sorted, sample: values }
    const settings: MonitorSettings = {
      ...defaultMonitorSettings,
      extraTests: ["wasserstein", "energy", "cramer-von-mises", "anderson-darling"]
    } as MonitorSettings
    for (const shift of [0, 0.3]) {
      const window = normals(1000, shift, `window-${shift}`)
      const check = (baseline: typeof sorted) =>
        assessFeatures([testFeature(spec, baseline, window, settings)], settings)
      expect(check(sorted)).toEqual(check(inArrivalOrder))
    }
  })
})
