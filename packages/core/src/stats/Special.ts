/**
 * Special functions in plain TypeScript, accurate to a few ulps in double precision: erf/erfc,
 * log-gamma, the regularized incomplete gamma and beta functions. The distributions build on
 * these. Prefactors like x^a e^-x / Γ(a) are computed through log1pmx and Stirling corrections
 * so large shape parameters keep full relative accuracy.
 */
const SQRT_PI = 1.772453850905516
const LOG_SQRT_2PI = 0.9189385332046728
const EPS = 2.220446049250313e-16
const MAX_ITERATIONS = 10_000

/** exp(-x*x) without the rounding error of forming x*x (x split into exactly-squarable parts). */
export const expNegSquare = (x: number): number => {
  const ax = Math.abs(x)
  const high = Math.round(ax * 65536) / 65536 // 16 fractional bits: high*high is exact
  const low = ax - high
  return Math.exp(-high * high) * Math.exp(-(2 * high * low + low * low))
}

/** erf for |x| <= 2.5 by the all-positive series erf(x) = 2x/√π e^{-x²} Σ (2x²)^n / (2n+1)!!. */
const erfSeries = (x: number): number => {
  const x2 = 2 * x * x
  let term = 1
  let sum = 1
  for (let n = 1; n < MAX_ITERATIONS; n++) {
    term *= x2 / (2 * n + 1)
    sum += term
    if (term < sum * EPS * 0.5) break
  }
  return ((2 * x) / SQRT_PI) * expNegSquare(x) * sum
}

/** erfc for x >= 0.5 by its continued fraction (modified Lentz). */
const erfcContinuedFraction = (x: number): number => {
  // erfc(x) = e^{-x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...)))))
  const tiny = 1e-300
  let f = x
  let c = x
  let d = 0
  for (let n = 1; n < MAX_ITERATIONS; n++) {
    const an = n / 2
    d = x + an * d
    d = d === 0 ? tiny : d
    c = x + an / c
    c = c === 0 ? tiny : c
    d = 1 / d
    const delta = c * d
    f *= delta
    if (Math.abs(delta - 1) < EPS) break
  }
  return expNegSquare(x) / (SQRT_PI * f)
}

export const erf = (x: number): number => {
  if (Number.isNaN(x)) return Number.NaN
  const ax = Math.abs(x)
  if (ax <= 2.5) return erfSeries(x)
  const value = 1 - erfcContinuedFraction(ax)
  return x < 0 ? -value : value
}

export const erfc = (x: number): number => {
  if (Number.isNaN(x)) return Number.NaN
  if (x < 0.5) return x < -2.5 ? 2 - erfcContinuedFraction(-x) : 1 - erfSeries(x)
  if (x > 27.3) return 0
  return erfcContinuedFraction(x)
}

/** Stirling series remainder: lgamma(x) - [(x-½)ln x - x + ½ln 2π], for x >= 10. */
export const stirlingCorrection = (x: number): number => {
  const r = 1 / x
  const r2 = r * r
  return r *
    (1 / 12 +
      r2 *
        (-1 / 360 +
          r2 *
            (1 / 1260 +
              r2 * (-1 / 1680 + r2 * (1 / 1188 + r2 * (-691 / 360360 + r2 * (1 / 156 + r2 * (-3617 / 122400))))))))
}

/** ln Γ(x) for x > 0. */
export const logGamma = (x: number): number => {
  if (x < 10) {
    // Shift up with the recurrence Γ(x+1) = xΓ(x), accumulating the product exactly enough.
    let product = 1
    let y = x
    while (y < 10) {
      product *= y
      y += 1
    }
    return logGamma(y) - Math.log(product)
  }
  return (x - 0.5) * Math.log(x) - x + LOG_SQRT_2PI + stirlingCorrection(x)
}

/** ln(1+x) - x, accurate also for small x. */
export const log1pmx = (x: number): number => {
  if (Math.abs(x) < 0.5) {
    // -x²/2 + x³/3 - x⁴/4 + ...
    let power = x * x
    let sum = 0
    for (let k = 2; k < 500; k++) {
      const term = power / k
      sum += k % 2 === 0 ? -term : term
      if (Math.abs(term) < Math.abs(sum) * EPS * 0.25) break
      power *= x
    }
    return sum
  }
  return Math.log1p(x) - x
}

/** x^a e^{-x} / Γ(a), with full relative accuracy for large a (via log1pmx). */
const gammaPrefactor = (a: number, x: number): number => {
  // Far from x = a the direct form has no cancellation; near it, log1pmx avoids one.
  if (a < 10 || x < 0.3 * a || x > 3 * a) return Math.exp(a * Math.log(x) - x - logGamma(a))
  const scaled = Math.exp(a * log1pmx((x - a) / a) - stirlingCorrection(a))
  return scaled * Math.sqrt(a / (2 * Math.PI))
}

/** From here on the series and continued fraction would need more than MAX_ITERATIONS terms near x = a. */
const TEMME_MIN_A = 1e6

/**
 * Temme's uniform asymptotic expansion for large a (DLMF 8.12.3-8.12.10): with λ = x/a and
 * η = sign(λ-1)·sqrt(2(λ-1-ln λ)), Q = ½erfc(η√(a/2)) + R and P = ½erfc(-η√(a/2)) - R, where
 * R = e^{-aη²/2}/√(2πa)·(c0(η) + c1(η)/a + ...). For a >= 1e6 the terms after c1 are below 1e-14 of R.
 * c0 and c1 are used in closed form away from λ = 1 and by their Taylor series near it, where the
 * closed forms cancel.
 */
const gammaIncompleteTemme = (a: number, x: number): { readonly lower: number; readonly upper: number } => {
  const mu = (x - a) / a // λ - 1, without the rounding of x/a - 1
  const eta = Math.sign(mu) * Math.sqrt(-2 * log1pmx(mu))
  let c0: number
  let c1: number
  if (Math.abs(mu) < 1e-3) {
    c0 = -1 / 3 + eta * (1 / 12 + eta * (-2 / 135 + eta / 864))
    c1 = -1 / 540 - eta / 288
  } else {
    c0 = 1 / mu - 1 / eta
    c1 = 1 / (eta * eta * eta) - 1 / (mu * mu * mu) - 1 / (mu * mu) - 1 / (12 * mu)
  }
  const r = (Math.exp(-0.5 * a * eta * eta) / Math.sqrt(2 * Math.PI * a)) * (c0 + c1 / a)
  const scaled = eta * Math.sqrt(a / 2)
  if (eta >= 0) {
    const upper = 0.5 * erfc(scaled) + r
    return { lower: 1 - upper, upper }
  }
  const lower = 0.5 * erfc(-scaled) - r
  return { lower, upper: 1 - lower }
}

/** Regularized lower and upper incomplete gamma P(a, x), Q(a, x). */
export const gammaIncomplete = (a: number, x: number): { readonly lower: number; readonly upper: number } => {
  if (x <= 0) return { lower: 0, upper: 1 }
  if (x === Number.POSITIVE_INFINITY) return { lower: 1, upper: 0 }
  if (a >= TEMME_MIN_A) return gammaIncompleteTemme(a, x)
  const prefactor = gammaPrefactor(a, x)
  if (x < a + 1) {
    // P = prefactor/a · Σ x^n / ((a+1)...(a+n))
    let term = 1 / a
    let sum = term
    for (let n = 1; n < MAX_ITERATIONS; n++) {
      term *= x / (a + n)
      sum += term
      if (term < sum * EPS * 0.5) break
    }
    const lower = prefactor * sum
    return { lower, upper: 1 - lower }
  }
  // Q by continued fraction (Lentz): Q = prefactor · 1/(x+1-a- 1·(1-a)/(x+3-a- 2·(2-a)/(x+5-a- ...)))
  const tiny = 1e-300
  let b = x + 1 - a
  let c = 1 / tiny
  let d = 1 / b
  let h = d
  for (let i = 1; i < MAX_ITERATIONS; i++) {
    const an = -i * (i - a)
    b += 2
    d = an * d + b
    if (Math.abs(d) < tiny) d = tiny
    c = b + an / c
    if (Math.abs(c) < tiny) c = tiny
    d = 1 / d
    const delta = d * c
    h *= delta
    if (Math.abs(delta - 1) < EPS) break
  }
  const upper = prefactor * h
  return { lower: 1 - upper, upper }
}

/** ln B(a, b), keeping relative accuracy when one argument is large. */
export const logBeta = (a: number, b: number): number => {
  const small = Math.min(a, b)
  const large = Math.max(a, b)
  if (large < 10) return logGamma(a) + logGamma(b) - logGamma(a + b)
  if (small >= 10) {
    // Stirling for all three; the big (x-½)ln x terms are combined analytically.
    const sum = a + b
    return 0.5 * Math.log(2 * Math.PI) + (a - 0.5) * Math.log(a / sum) + (b - 0.5) * Math.log(b / sum) -
      0.5 * Math.log(sum) +
      stirlingCorrection(a) + stirlingCorrection(b) - stirlingCorrection(sum)
  }
  // One small, one large: lgamma(large) - lgamma(large+small) via Stirling, without cancellation.
  const sum = large + small
  const diff = (large - 0.5) * -Math.log1p(small / large) - small * Math.log(sum) + small +
    stirlingCorrection(large) - stirlingCorrection(sum)
  return logGamma(small) + diff
}

/** Continued fraction of the incomplete beta (Numerical Recipes' betacf, modified Lentz). */
const betaContinuedFraction = (a: number, b: number, x: number): number => {
  const tiny = 1e-300
  const qab = a + b
  const qap = a + 1
  const qam = a - 1
  let c = 1
  let d = 1 - (qab * x) / qap
  if (Math.abs(d) < tiny) d = tiny
  d = 1 / d
  let h = d
  for (let m = 1; m < MAX_ITERATIONS; m++) {
    const m2 = 2 * m
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2))
    d = 1 + aa * d
    if (Math.abs(d) < tiny) d = tiny
    c = 1 + aa / c
    if (Math.abs(c) < tiny) c = tiny
    d = 1 / d
    h *= d * c
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2))
    d = 1 + aa * d
    if (Math.abs(d) < tiny) d = tiny
    c = 1 + aa / c
    if (Math.abs(c) < tiny) c = tiny
    d = 1 / d
    const delta = d * c
    h *= delta
    if (Math.abs(delta - 1) < EPS) break
  }
  return h
}

/** From here on (with the other parameter at most 1) the continued fraction near x = 1 loses digits. */
const LARGE_BETA_PARAMETER = 1000

/** (2k+1)! for k = 0..30, the factorials the large-a expansion's coefficients divide by. */
const oddFactorials = (() => {
  const table = [1]
  let f = 1
  for (let k = 1; k <= 30; k++) {
    f *= 2 * k * (2 * k + 1)
    table.push(f)
  }
  return table
})()

/**
 * I_x(a, b) for large a and b <= 1: DiDonato and Morris's asymptotic expansion (ACM TOMS 708, BGRAT;
 * "Significant digit computation of the incomplete beta function ratios", 1992, section 9). With
 * T = a + (b-1)/2 and u = -T ln x it is Γ(a+b)/(Γ(a)T^b) · u^b e^{-u}/Γ(b) · Σ p_n J_n, where
 * J_0 = Q(b, u) / (u^b e^{-u}/Γ(b)) and the p_n, J_n follow recurrences; each term is a further
 * factor of order (ln x / 2)² smaller. Every term is formed without cancellation, so a small I_x
 * (a Student t tail at huge degrees of freedom) keeps its relative accuracy.
 */
const betaIncompleteLargeA = (a: number, b: number, logX: number): number => {
  const bm1 = b - 1
  const t = a + bm1 / 2
  const u = -t * logX
  const logH = b * Math.log(u) - u - logGamma(b)
  if (logH < -745) return 0 // e^{-u} underflows: so does the result
  const h = Math.exp(logH)
  const prefix = Math.exp(logGamma(b) - logBeta(a, b) - b * Math.log(t)) * h
  let j = gammaIncomplete(b, u).upper / h
  let sum = j
  const p = [1]
  const lx2 = (logX / 2) * (logX / 2)
  let lxPower = 1
  const t4 = 4 * t * t
  let b2n = b
  for (let n = 1; n < oddFactorials.length; n++) {
    let pn = 0
    for (let m = 1; m < n; m++) pn += ((m * b - n) * p[n - m]!) / oddFactorials[m]!
    pn = pn / n + bm1 / oddFactorials[n]!
    p.push(pn)
    j = (b2n * (b2n + 1) * j + (u + b2n + 1) * lxPower) / t4
    lxPower *= lx2
    b2n += 2
    const term = pn * j
    sum += term
    if (Math.abs(term) <= Math.abs(sum) * EPS * 0.5) break
  }
  return prefix * sum
}

/**
 * Regularized incomplete beta I_x(a, b) and its complement 1 - I_x(a, b), each computed directly
 * (not by subtraction) on the side where the continued fraction converges.
 */
export const betaIncomplete = (
  a: number,
  b: number,
  x: number,
  y = 1 - x
): { readonly lower: number; readonly upper: number } => {
  if (x <= 0) return { lower: 0, upper: 1 }
  if (y <= 0) return { lower: 1, upper: 0 }
  // ln x as log1p(-y) when x is near 1 (and ln y likewise): with a huge a, a·ln x would
  // otherwise multiply the rounding of x itself.
  const logX = y < 0.5 ? Math.log1p(-y) : Math.log(x)
  const logY = x < 0.5 ? Math.log1p(-x) : Math.log(y)
  // The continued fraction on the side where it converges fast cancels when that side's first
  // parameter is huge and the other at most 1 (x near 1): there the asymptotic expansion gives it.
  const lowerSide = x < (a + 1) / (a + b + 2)
  if (lowerSide && a >= LARGE_BETA_PARAMETER && b <= 1) {
    const lower = betaIncompleteLargeA(a, b, logX)
    return { lower, upper: 1 - lower }
  }
  if (!lowerSide && b >= LARGE_BETA_PARAMETER && a <= 1) {
    const upper = betaIncompleteLargeA(b, a, logY)
    return { lower: 1 - upper, upper }
  }
  const logPrefactor = a * logX + b * logY - logBeta(a, b)
  if (lowerSide) {
    const lower = (Math.exp(logPrefactor) * betaContinuedFraction(a, b, x)) / a
    return { lower, upper: 1 - lower }
  }
  const upper = (Math.exp(logPrefactor) * betaContinuedFraction(b, a, y)) / b
  return { lower: 1 - upper, upper }
}

export const machineEpsilon = EPS
