/**
 * CUPED on ratio metrics (CupedRatio.ts) against golden/generate_cuped_ratio.py: the pooled slopes
 * from statsmodels OLS, each arm's adjusted and plain ratio with the delta-method standard error
 * (numpy), the difference's interval and z-test (scipy), all within 1e-9 relative; the arm summary
 * merges in any split exactly as it summarizes all rows at once.
 */
import { describe, expect, it } from "vitest"
import { cupedRatioTest, mergeRatioMoments, type RatioRow, summarizeRatioRows } from "../src/stats/CupedRatio.js"
import golden from "./golden/cuped_ratio.json" with { type: "json" }

const close = (actual: number, expected: number, what: string) =>
  expect(Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-300), what).toBeLessThan(1e-9)

const rows = (raw: ReadonlyArray<ReadonlyArray<number>>) => raw as unknown as ReadonlyArray<RatioRow>

describe("CUPED on ratio metrics", () => {
  it.each(golden.cases.map((c) => [c.name, c] as const))("equals the independent computation (%s)", (_name, c) => {
    const result = cupedRatioTest(summarizeRatioRows(rows(c.treatment)), summarizeRatioRows(rows(c.control)), {
      alpha: c.alpha
    })
    if (typeof result === "string") throw new Error(result)
    const e = c.expected
    close(result.theta.numerator, e.thetaNumerator, "theta numerator")
    close(result.theta.denominator, e.thetaDenominator, "theta denominator")
    for (const arm of ["control", "treatment"] as const) {
      for (const key of ["ratio", "standardError", "unadjustedRatio", "unadjustedStandardError"] as const) {
        close(result[arm][key], e[arm][key], `${arm} ${key}`)
      }
    }
    close(result.difference, e.difference, "difference")
    close(result.differenceInterval.lower, e.lower, "lower")
    close(result.differenceInterval.upper, e.upper, "upper")
    close(result.pValue, e.pValue, "p-value")
    close(result.varianceReduction, e.varianceReduction, "variance reduction")
  })

  it("merges arm summaries in any split as summarizing all rows at once", () => {
    const all = rows(golden.cases[1]!.control)
    const whole = summarizeRatioRows(all)
    const merged = [0, 137, 400, all.length].slice(1).reduce(
      (acc, end, i, ends) => mergeRatioMoments(acc, summarizeRatioRows(all.slice(i === 0 ? 0 : ends[i - 1]!, end))),
      summarizeRatioRows([])
    )
    expect(merged.count).toBe(whole.count)
    merged.means.forEach((m, i) => close(m, whole.means[i]!, `mean ${i}`))
    merged.comoments.forEach((c, k) => close(c, whole.comoments[k]!, `comoment ${k}`))
  })

  it("names why there is no comparison", () => {
    const one = summarizeRatioRows([[1, 1, 1, 1]])
    const flat = summarizeRatioRows([[1, 1, 1, 1], [2, 2, 1, 1]])
    expect(cupedRatioTest(one, one, { alpha: 0.05 })).toMatch(/two users/)
    expect(cupedRatioTest(flat, flat, { alpha: 0.05 })).toMatch(/does not vary/)
  })
})
