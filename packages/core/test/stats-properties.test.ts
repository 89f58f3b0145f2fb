/** Invariants checked on generated inputs (fast-check), and typed errors for invalid input. */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  benjaminiHochberg,
  categoricalPsi,
  chiSquareGoodnessOfFit,
  chiSquareIndependence,
  deterministicExp,
  deterministicLog,
  histogram,
  holmBonferroni,
  ks1Samp,
  ks2Samp,
  makeRandom,
  mergeSummaries,
  psi,
  psiBins,
  quantile,
  quantiles,
  StatsInputError,
  summarize,
  twoProportionZTest,
  variance,
  welchTTest
} from "../src/index.js"

const finite = fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true })
const sample = (min = 1, max = 60) => fc.array(finite, { minLength: min, maxLength: max })
const runs = { numRuns: 150 }

describe("invariants", () => {
  it("KS statistic and p-value are symmetric in the samples and lie in [0, 1]", () => {
    fc.assert(
      fc.property(sample(), sample(), (a, b) => {
        const ab = ks2Samp(a, b)
        const ba = ks2Samp(b, a)
        expect(ab.statistic).toBe(ba.statistic)
        expect(ab.pValue).toBe(ba.pValue)
        for (const v of [ab.statistic, ab.pValue]) expect(v >= 0 && v <= 1).toBe(true)
      }),
      runs
    )
  })

  it("KS of a sample against itself is 0 with p = 1", () => {
    fc.assert(
      fc.property(sample(), (a) => {
        expect(ks2Samp(a, [...a].reverse())).toMatchObject({ statistic: 0, pValue: 1 })
      }),
      runs
    )
  })

  it("PSI is >= 0, and 0 for identical data", () => {
    fc.assert(
      fc.property(sample(2, 200), sample(1, 200), fc.integer({ min: 2, max: 20 }), (base, cur, bins) => {
        expect(psi(base, cur, { bins }).value).toBeGreaterThanOrEqual(0)
        expect(psi(base, base, { bins }).value).toBe(0)
        expect(psi(base, cur, { bins, strategy: "uniform" }).value).toBeGreaterThanOrEqual(0)
      }),
      runs
    )
  })

  it("frozen bins give the same PSI as binning on the fly, and shares sum to 1", () => {
    fc.assert(
      fc.property(sample(2, 200), sample(1, 100), (base, cur) => {
        const frozen = psiBins(base)
        const result = psi(frozen, cur)
        expect(result.value).toBe(psi(base, cur).value)
        expect(result.currentShares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12)
        expect(histogram(cur, frozen.edges).reduce((a, b) => a + b, 0)).toBe(cur.length)
      }),
      runs
    )
  })

  it("quantiles by bucketing and selection equal numpy's method on the sorted data, ties and skew included", () => {
    const skewed = fc.array(
      fc.oneof(finite, fc.constantFrom(0, 1, 1e-300, 1e12), fc.double({ min: 0, max: 1e-9, noNaN: true })),
      { minLength: 1, maxLength: 3000 }
    )
    fc.assert(
      fc.property(
        skewed,
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 12 }),
        (values, ps) => {
          const sorted = Float64Array.from(values).sort()
          const reference = ps.map((p) => {
            const h = (sorted.length - 1) * p
            const lo = Math.floor(h)
            const a = sorted[lo]!
            const b = sorted[Math.min(lo + 1, sorted.length - 1)]!
            const t = h - lo
            return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t
          })
          // -0 and 0 are one value; selection need not keep the sign of a zero the way a sort does.
          const zeroesAlike = (v: number) => v + 0
          expect(quantiles(values, ps).map(zeroesAlike)).toEqual(reference.map(zeroesAlike))
        }
      ),
      runs
    )
  })

  it("adjusted p-values are >= the raw ones, keep their order, and stay in [0, 1]", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 40 }), (ps) => {
        for (const adjust of [holmBonferroni, benjaminiHochberg]) {
          const adjusted = adjust(ps)
          adjusted.forEach((q, i) => {
            expect(q).toBeGreaterThanOrEqual(ps[i]!)
            expect(q).toBeLessThanOrEqual(1)
            ps.forEach((p, j) => {
              if (ps[i]! < p) expect(q).toBeLessThanOrEqual(adjusted[j]!)
            })
          })
        }
      }),
      runs
    )
  })

  it("merging summaries in any split equals summarizing everything", () => {
    fc.assert(
      fc.property(sample(2, 300), fc.nat(), (values, cut) => {
        const k = 1 + (cut % (values.length - 1))
        const merged = mergeSummaries(summarize(values.slice(k)), summarize(values.slice(0, k)))
        const whole = summarize(values)
        expect(merged.count).toBe(whole.count)
        const scale = Math.max(1, ...values.map(Math.abs))
        expect(Math.abs(merged.mean - whole.mean)).toBeLessThanOrEqual(1e-12 * scale)
        expect(Math.abs(variance(merged) - variance(whole))).toBeLessThanOrEqual(
          1e-9 * Math.max(variance(whole), 1e-300) + 1e-12 * scale * scale
        )
      }),
      runs
    )
  })

  it("samplers have the right moments", () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.double({ min: 0.2, max: 20, noNaN: true }),
        fc.double({ min: 0.2, max: 20, noNaN: true }),
        (seed, a, b) => {
          const random = makeRandom(seed)
          const n = 20000
          const mean = (draw: () => number) => {
            let s = 0
            let s2 = 0
            for (let i = 0; i < n; i++) {
              const x = draw()
              s += x
              s2 += x * x
            }
            return { m: s / n, v: s2 / n - (s / n) ** 2 }
          }
          const normal = mean(() => random.normal(3, 2))
          expect(Math.abs(normal.m - 3)).toBeLessThan(6 * 2 / Math.sqrt(n))
          expect(Math.abs(normal.v - 4) / 4).toBeLessThan(0.06)
          const gamma = mean(() => random.gamma(a, 1.5))
          const gammaSd = Math.sqrt(a) * 1.5
          expect(Math.abs(gamma.m - a * 1.5)).toBeLessThan(6 * gammaSd / Math.sqrt(n))
          const beta = mean(() => random.beta(a, b))
          const betaSd = Math.sqrt((a * b) / ((a + b) ** 2 * (a + b + 1)))
          expect(Math.abs(beta.m - a / (a + b))).toBeLessThan(6 * betaSd / Math.sqrt(n))
        }
      ),
      { numRuns: 25 }
    )
  })

  it("the deterministic log and exp agree with Math.log and Math.exp to an ulp or two", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-300, max: 1e300, noNaN: true }),
        fc.double({ min: -700, max: 700, noNaN: true }),
        (x, y) => {
          expect(Math.abs(deterministicLog(x) - Math.log(x))).toBeLessThanOrEqual(
            4e-16 * Math.max(1, Math.abs(Math.log(x)))
          )
          expect(Math.abs(deterministicExp(y) - Math.exp(y))).toBeLessThanOrEqual(4e-16 * Math.exp(y))
        }
      ),
      { numRuns: 2000 }
    )
  })
})

describe("invalid input is a typed error naming the problem", () => {
  const failure = (f: () => unknown) => {
    try {
      f()
    } catch (error) {
      expect(error).toBeInstanceOf(StatsInputError)
      return error as StatsInputError
    }
    throw new Error("expected a StatsInputError")
  }

  it.each([
    ["empty sample", () => ks2Samp([], [1]), "a"],
    ["NaN in a sample", () => ks2Samp([1, Number.NaN], [1]), "a[1]"],
    ["Infinity in a sample", () => ks1Samp([0, Number.POSITIVE_INFINITY], { distribution: "normal" }), "sample[1]"],
    ["bins < 2", () => psiBins([1, 2, 3], { bins: 1 }), "bins"],
    ["non-integer bins", () => psi([1, 2, 3], [1], { bins: 2.5 }), "bins"],
    ["empty current window", () => psi([1, 2, 3], []), "current"],
    ["negative count", () => chiSquareGoodnessOfFit([10, -1], [1, 1]), "observed[1]"],
    ["negative table cell", () => chiSquareIndependence([[1, 2], [-3, 4]]), "table[1][0]"],
    ["empty row", () => chiSquareIndependence([[0, 0], [3, 4]]), "table[0]"],
    [
      "successes above trials",
      () => twoProportionZTest({ successes: 11, trials: 10 }, { successes: 1, trials: 10 }),
      "treatment.successes"
    ],
    ["one-value Welch arm", () => welchTTest([1], [1, 2]), "treatment"],
    ["p-value above 1", () => holmBonferroni([0.2, 1.5]), "pValues[1]"],
    ["quantile probability", () => quantile([1, 2], 2), "probabilities[0]"],
    ["negative category count", () => categoricalPsi({ a: 3 }, { a: -1 }), "current.a"],
    ["unknown KS method", () => ks2Samp([1], [2], { method: "fast" as never }), "method"]
  ])("%s", (_label, f, field) => {
    const error = failure(f)
    expect(error.field).toBe(field)
    expect(error.message.startsWith(`${field}:`)).toBe(true)
  })
})

describe("categorical PSI", () => {
  it("reports categories never seen in the baseline", () => {
    const result = categoricalPsi(["a", "a", "b", "c"], { a: 10, b: 5, d: 2, e: 0 })
    expect(result.unseenCategories).toEqual(["d"])
    expect(result.categories).toEqual(["a", "b", "c", "d", "e"])
    expect(result.value).toBeGreaterThan(0)
    expect(categoricalPsi(["x", "y", "y"], ["y", "x", "y"]).value).toBe(0)
  })
})

describe("regressions found by the properties", () => {
  it("quantiles of data spanning only subnormal differences", () => {
    expect(quantiles([5e-324, 0, 0, 0], [0, 0.5, 1])).toEqual([0, 0, 5e-324])
  })
})
