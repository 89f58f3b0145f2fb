/**
 * Student t and chi-square at huge degrees of freedom (issue 18) against 40-digit mpmath values
 * (test/golden/huge_df.py -> huge_df.json): 1e-12 relative over the whole range, tails included.
 * Before, the incomplete beta's continued fraction cancelled near x = 1 (t at df 1e8 was off by
 * 2e-9, at 1e10 by 5e-7) and the incomplete gamma's series stopped short near x = a (chi-square
 * at 1e12 degrees of freedom gave 0.0056 for a cdf of 0.5000002).
 */
import { describe, expect, it } from "vitest"
import { chiSquare, studentT } from "../src/index.js"
import golden from "./golden/huge_df.json" with { type: "json" }

const relativeError = (actual: number, expected: number) => Math.abs(actual / expected - 1)

describe("distributions at huge degrees of freedom match mpmath to 1e-12 relative", () => {
  it("Student t tails for df from 1e4 to 1e12", () => {
    for (const c of golden.studentT) {
      const expected = Number(c.lower)
      const t = studentT(c.df)
      expect(relativeError(t.cdf(-c.t), expected), `cdf(-${c.t}) at df ${c.df}`).toBeLessThan(1e-12)
      expect(relativeError(t.sf(c.t), expected), `sf(${c.t}) at df ${c.df}`).toBeLessThan(1e-12)
    }
  })

  it("chi-square cdf and sf for k from 2e6 to 1e12, from 8 sd below the mean to 8 above", () => {
    for (const c of golden.chiSquare) {
      const d = chiSquare(c.k)
      for (const [side, value] of [["cdf", d.cdf(c.x)], ["sf", d.sf(c.x)]] as const) {
        const expected = Number(c[side])
        expect(relativeError(value, expected), `${side}(${c.x}) at k ${c.k}`).toBeLessThan(1e-12)
      }
    }
  })

  it("quantiles invert the cdf at huge degrees of freedom, to what a double x can resolve", () => {
    // At x near 1e12 one step of a double moves a chi-square cdf by ~7e-11 relative: allow a few steps.
    const ulp = (x: number) => Math.max(Number.MIN_VALUE, Math.abs(x) * Number.EPSILON)
    for (const df of [1e6, 1e10, 1e12]) {
      for (const d of [studentT(df), chiSquare(df)]) {
        for (const p of [1e-10, 0.025, 0.5, 0.975]) {
          const x = d.quantile(p)
          const resolution = (4 * d.pdf(x) * ulp(x)) / p
          expect(relativeError(d.cdf(x), p), `p ${p} at df ${df}`).toBeLessThan(Math.max(1e-11, resolution))
        }
      }
    }
  })
})
