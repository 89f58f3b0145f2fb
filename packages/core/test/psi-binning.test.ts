/**
 * The PSI binning rule for baselines whose minimum carries heavy mass (constant or
 * zero-inflated features): only repeated edges collapse, so an edge equal to the minimum stays
 * and values below the baseline's range get a bin of their own. References: numpy, via
 * test/golden/drift_tests.py (drift_tests.json, "psiBinning").
 */
import { describe, expect, it } from "vitest"
import { psi, psiBins } from "../src/index.js"
import golden from "./golden/drift_tests.json" with { type: "json" }

describe("PSI bins keep edges equal to the baseline minimum", () => {
  it("a constant baseline has one edge at its value, and values below it count", () => {
    const bins = psiBins(Array(50).fill(7), { bins: 10 })
    expect(bins.edges).toEqual([7])
    expect(bins.baselineShares).toEqual([0, 1])
    const result = psi(bins, [...Array(20).fill(1), ...Array(10).fill(7)])
    expect(result.value).toBeCloseTo(6.6, 2)
  })

  it("uniform bins of a constant baseline collapse to the same one edge", () => {
    expect(psiBins(Array(20).fill(-3), { bins: 5, strategy: "uniform" }).edges).toEqual([-3])
  })

  it.each(golden.psiBinning.map((c) => [c.name, c] as const))("%s equals numpy", (_name, c) => {
    const bins = psiBins(c.baseline, { bins: c.bins, strategy: c.strategy as "quantile" | "uniform" })
    expect(bins.edges).toEqual(c.edges)
    expect(bins.baselineShares).toEqual(c.baselineShares)
    const result = psi(bins, c.current)
    expect(result.currentShares).toEqual(c.currentShares)
    expect(Math.abs(result.value - c.value)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(c.value)))
  })
})
