/**
 * Continuous distributions with cdf, sf (survival), pdf, quantile (inverse cdf) and
 * quantileUpper (inverse sf): normal, Student t, chi-square and beta. Tails are computed
 * directly (never as 1 - cdf), so tiny probabilities keep their relative accuracy; quantiles
 * are polished by safeguarded Newton steps on the log of the smaller tail.
 */
import { betaIncomplete, erfc, gammaIncomplete, logBeta, logGamma, machineEpsilon } from "./Special.js"
import { checkPositive, invalid } from "./StatsError.js"

export interface Distribution {
  readonly cdf: (x: number) => number
  readonly sf: (x: number) => number
  readonly pdf: (x: number) => number
  /** x with cdf(x) = p. */
  readonly quantile: (p: number) => number
  /** x with sf(x) = q. */
  readonly quantileUpper: (q: number) => number
}

const SQRT1_2 = Math.SQRT1_2
const LOG_SQRT_2PI = 0.9189385332046728

const checkP = (p: number, field: string) => {
  if (!(p >= 0 && p <= 1)) invalid(field, `must be a probability in [0, 1], got ${p}`)
}

/**
 * Solves tail(x) = target for a monotone tail probability (cdf increasing or sf decreasing),
 * starting from a guess inside (lo, hi): Newton on ln tail(x) - ln target, falling back to
 * bisection whenever a step leaves the bracket.
 */
const solveTail = (
  tail: (x: number) => number,
  density: (x: number) => number,
  increasing: boolean,
  target: number,
  guess: number,
  lo: number,
  hi: number
): number => {
  const logTarget = Math.log(target)
  let x = Math.min(Math.max(guess, lo), hi)
  // Widen an infinite bracket until it holds the root.
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
    let step = Math.max(1, Math.abs(x))
    for (let i = 0; i < 2000; i++) {
      const value = tail(x)
      const below = increasing ? value < target : value > target
      if (below) {
        lo = x
        if (Number.isFinite(hi)) break
        x += step
      } else {
        hi = x
        if (Number.isFinite(lo)) break
        x -= step
      }
      step *= 2
    }
    x = Math.min(Math.max(guess, lo), hi)
  }
  for (let i = 0; i < 400; i++) {
    const value = tail(x)
    if (value === target) return x
    const below = increasing ? value < target : value > target
    if (below) lo = x
    else hi = x
    const slope = (increasing ? 1 : -1) * density(x) / value
    let next = x - (Math.log(value) - logTarget) / slope
    if (!(next > lo && next < hi) || !Number.isFinite(next) || value === 0) {
      // Bisect; geometrically when the bracket spans orders of magnitude on the positive axis.
      const spansDecades = lo * hi > 0 &&
        Math.max(Math.abs(lo), Math.abs(hi)) > 4 * Math.min(Math.abs(lo), Math.abs(hi))
      next = spansDecades && Number.isFinite(lo) && Number.isFinite(hi)
        ? Math.sign(lo) * Math.sqrt(lo * hi)
        : 0.5 * (lo + hi)
    }
    if (
      Math.abs(next - x) <= 2 * machineEpsilon * Math.abs(next) ||
      hi - lo <= 2 * machineEpsilon * Math.abs(lo + hi) * 0.5
    ) return next
    x = next
  }
  return x
}

/** quantile and quantileUpper from one tail solver, with the probability checked once here. */
const quantilesFrom = (
  solve: (target: number, upper: boolean) => number
): Pick<Distribution, "quantile" | "quantileUpper"> => ({
  quantile: (p) => {
    checkP(p, "p")
    return solve(p, false)
  },
  quantileUpper: (q) => {
    checkP(q, "q")
    return solve(q, true)
  }
})

/** Acklam's rational approximation of the normal quantile (relative error ~1e-9), then polished. */
const acklam = (p: number): number => {
  const a = [
    -39.69683028665376,
    220.9460984245205,
    -275.9285104469687,
    1.38357751867269e2,
    -30.66479806614716,
    2.506628277459239
  ]
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572]
  const c = [
    -0.007784894002430293,
    -0.3223964580411365,
    -2.400758277161838,
    -2.549732539343734,
    4.374664141464968,
    2.938163982698783
  ]
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416]
  if (p < 0.02425) {
    const q = Math.sqrt(-2 * Math.log(p))
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
  }
  const q = p - 0.5
  const r = q * q
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
}

const normalPdf = (x: number): number => {
  const high = Math.round(x * 65536) / 65536
  const low = x - high
  return Math.exp(-0.5 * high * high - LOG_SQRT_2PI) * Math.exp(-(high * low + 0.5 * low * low))
}

const normalCdf = (x: number): number => 0.5 * erfc(-x * SQRT1_2)

const normalLowerQuantile = (p: number): number => {
  if (p === 0) return Number.NEGATIVE_INFINITY
  if (p === 0.5) return 0
  let x = acklam(p)
  for (let i = 0; i < 3; i++) {
    // Halley steps on cdf(x) - p, scaled by the density.
    const e = normalCdf(x) - p
    const u = e / normalPdf(x)
    const next = x - u / (1 + (x * u) / 2)
    if (next === x || !Number.isFinite(next)) break
    x = next
  }
  return x
}

/** Standard normal, or N(mean, sd²). */
export const normal = (mean = 0, sd = 1): Distribution => {
  if (!Number.isFinite(mean)) invalid("mean", `must be finite, got ${mean}`)
  checkPositive(sd, "sd")
  const z = (x: number) => (x - mean) / sd
  const quantile = (p: number) => {
    checkP(p, "p")
    return mean + sd * (p > 0.5 ? -normalLowerQuantile(1 - p) : normalLowerQuantile(p))
  }
  return {
    cdf: (x) => normalCdf(z(x)),
    sf: (x) => normalCdf(-z(x)),
    pdf: (x) => normalPdf(z(x)) / sd,
    quantile,
    quantileUpper: (q) => {
      checkP(q, "q")
      return mean - sd * (q > 0.5 ? -normalLowerQuantile(1 - q) : normalLowerQuantile(q))
    }
  }
}

/** Student's t with `df` degrees of freedom (df > 0, not necessarily an integer). */
export const studentT = (df: number): Distribution => {
  checkPositive(df, "df")
  const halfDf = df / 2
  const logNorm = -logBeta(halfDf, 0.5) - 0.5 * Math.log(df)
  // P(T < -|t|) = ½ I_{df/(df+t²)}(df/2, ½), with both x and 1-x formed without cancellation.
  const lowerTail = (t: number): number => {
    const at = Math.abs(t)
    // Beyond 1e100, x = df/t² is below 1e-200 and I_x(a, ½) = x^a / (a B(a, ½)) to double precision;
    // done in logs because x itself may underflow.
    if (at > 1e100) {
      return 0.5 * Math.exp(halfDf * (Math.log(df) - 2 * Math.log(at)) - Math.log(halfDf) - logBeta(halfDf, 0.5))
    }
    const t2 = t * t
    return 0.5 * betaIncomplete(halfDf, 0.5, df / (df + t2), t2 / (df + t2)).lower
  }
  const cdf = (t: number) => (Number.isNaN(t) ? Number.NaN : t < 0 ? lowerTail(t) : 1 - lowerTail(t))
  const pdf = (t: number) => {
    const at = Math.abs(t)
    const log1pT2 = at > 1e100 ? 2 * Math.log(at) - Math.log(df) : Math.log1p((t * t) / df)
    return Math.exp(logNorm - ((df + 1) / 2) * log1pT2)
  }
  const lowerQuantile = (p: number): number => {
    if (p === 0) return Number.NEGATIVE_INFINITY
    if (p === 0.5) return 0
    if (df === 1) return -1 / Math.tan(Math.PI * p) // Cauchy; cot keeps tiny p exact
    if (df === 2) return (2 * p - 1) / Math.sqrt(2 * p * (1 - p))
    const z = normalLowerQuantile(p)
    // Cornish-Fisher start, then Newton on ln P(T < t).
    const guess = z + (z * z * z + z) / (4 * df)
    return solveTail(lowerTail, pdf, true, p, Math.min(guess, -1e-300), Number.NEGATIVE_INFINITY, 0)
  }
  return {
    cdf,
    sf: (t) => cdf(-t),
    pdf,
    quantile: (p) => {
      checkP(p, "p")
      return p > 0.5 ? -lowerQuantile(1 - p) : lowerQuantile(p)
    },
    quantileUpper: (q) => {
      checkP(q, "q")
      return q > 0.5 ? lowerQuantile(1 - q) : -lowerQuantile(q)
    }
  }
}

/** Chi-square with k degrees of freedom (k > 0). */
export const chiSquare = (k: number): Distribution => {
  checkPositive(k, "df")
  const a = k / 2
  const cdf = (x: number) => (x <= 0 ? 0 : gammaIncomplete(a, x / 2).lower)
  const sf = (x: number) => (x <= 0 ? 1 : gammaIncomplete(a, x / 2).upper)
  const pdf = (x: number) => (x <= 0 ? 0 : Math.exp((a - 1) * Math.log(x / 2) - x / 2 - logGamma(a)) / 2)
  /** Start for a tail probability target <= 0.5: Wilson-Hilferty, or the small-x limit of P(a, x/2). */
  const guessFor = (target: number, upper: boolean) => {
    const z = upper ? -normalLowerQuantile(target) : normalLowerQuantile(target)
    const v = 2 / (9 * k)
    const cube = 1 - v + z * Math.sqrt(v)
    if (cube > 0.05) return k * cube * cube * cube
    return 2 * Math.exp((Math.log(target) + logGamma(a + 1)) / a)
  }
  const solve = (target: number, upper: boolean): number => {
    if (target === 0) return upper ? Number.POSITIVE_INFINITY : 0
    if (target === 1) return upper ? 0 : Number.POSITIVE_INFINITY
    // Work on the smaller tail for accuracy.
    if (!upper && target > 0.5) return solve(1 - target, true)
    if (upper && target > 0.5) return solve(1 - target, false)
    return upper
      ? solveTail(sf, pdf, false, target, guessFor(target, true), 0, Number.POSITIVE_INFINITY)
      : solveTail(cdf, pdf, true, target, guessFor(target, false), 0, Number.POSITIVE_INFINITY)
  }
  return { cdf, sf, pdf, ...quantilesFrom(solve) }
}

/** Beta(a, b) on [0, 1]. */
export const beta = (a: number, b: number): Distribution => {
  checkPositive(a, "a")
  checkPositive(b, "b")
  const logB = logBeta(a, b)
  const cdf = (x: number) => (x <= 0 ? 0 : x >= 1 ? 1 : betaIncomplete(a, b, x).lower)
  const sf = (x: number) => (x <= 0 ? 1 : x >= 1 ? 0 : betaIncomplete(a, b, x).upper)
  const pdf = (x: number) => (x < 0 || x > 1 ? 0 : Math.exp((a - 1) * Math.log(x) + (b - 1) * Math.log1p(-x) - logB))
  const solve = (target: number, upper: boolean): number => {
    if (target === 0) return upper ? 1 : 0
    if (target === 1) return upper ? 0 : 1
    if (target > 0.5) return solve(1 - target, !upper)
    // Start from the tail approximation x ≈ (p a B)^(1/a) (or its mirror), clamped inside (0, 1).
    const guess = upper
      ? 1 - Math.min(0.5, Math.exp((Math.log(target) + Math.log(b) + logB) / b))
      : Math.min(0.5, Math.exp((Math.log(target) + Math.log(a) + logB) / a))
    return upper ? solveTail(sf, pdf, false, target, guess, 0, 1) : solveTail(cdf, pdf, true, target, guess, 0, 1)
  }
  return { cdf, sf, pdf, ...quantilesFrom(solve) }
}
