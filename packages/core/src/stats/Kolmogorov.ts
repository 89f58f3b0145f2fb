/**
 * Distributions of the Kolmogorov-Smirnov statistic, following the choices scipy makes:
 * `kstwo` (two-sided, finite n) picks among the Ruben-Gambino closed forms, Smirnov's exact
 * one-sided formula, the Durbin matrix (Marsaglia-Tsang-Wang), Pomeranz's recursion and the
 * Pelz-Good expansion by n and n·x² (Simard & L'Ecuyer 2011); `kolmogorov` is the limiting
 * distribution of √n·D (scipy's kstwobign).
 */
import { stirlingCorrection } from "./Special.js"

const E128 = 128
const EP128 = 2 ** 128
const EM128 = 2 ** -128
const SQRT2PI = Math.sqrt(2 * Math.PI)
const LOG_2PI = Math.log(2 * Math.PI)
const PI_SQUARED = Math.PI ** 2
const PI_FOUR = Math.PI ** 4
const PI_SIX = Math.PI ** 6
const SQRT3 = Math.sqrt(3)
const MIN_LOG = -708
const STIRLING = [
  -0.029550653594771242,
  0.00641025641025641,
  -0.0019175269175269176,
  0.0008417508417508417,
  -0.0005952380952380953,
  0.0007936507936507937,
  -0.002777777777777778,
  0.08333333333333333
]

const clip = (p: number) => Math.min(1, Math.max(0, p))
const select = (cdfProb: number, sfProb: number, cdf: boolean) => clip(cdf ? cdfProb : sfProb)

/** ln(n! / n^n) by Stirling's series with n ln n removed up front. */
const logFactorialOverPower = (n: number): number => {
  const rn = 1 / n
  let poly = 0
  for (const c of STIRLING) poly = poly * (rn / n) + c
  return Math.log(n) / 2 - n + LOG_2PI / 2 + rn * poly
}

/** ln C(n, k) for small k, as a short sum of logs (no large magnitudes, no cancellation). */
const logChooseSmall = (n: number, k: number): number => {
  let sum = 0
  for (let i = 1; i <= k; i++) sum += Math.log((n - k + i) / i)
  return sum
}

/**
 * ln of the Birnbaum-Tingey term C(n,j) (1-x-j/n)^(n-j) (x+j/n)^(j-1). For large j and n-j the
 * binomial is expanded with Stirling's series and combined with the powers first, so no
 * quantity of size n·ln n is ever formed (that cancellation costs 1e-9 at n = 5e5).
 */
const logSmirnovTerm = (n: number, x: number, j: number): number => {
  const u = j / n
  const k = n - j
  if (j < 20 || k < 20) {
    return logChooseSmall(n, Math.min(j, k)) + k * Math.log1p(-(x + u)) + (j - 1) * Math.log(x + u)
  }
  return j * Math.log1p(x / u) + k * Math.log1p(-x / (1 - u)) - Math.log(x + u) +
    0.5 * Math.log(n / (2 * Math.PI * j * k)) + stirlingCorrection(n) - stirlingCorrection(j) - stirlingCorrection(k)
}

/** Smirnov's one-sided survival function P(D+_n >= x), exactly (Birnbaum-Tingey series). */
export const smirnovSf = (n: number, x: number): number => {
  if (x <= 0) return 1
  if (x >= 1) return 0
  if (n === 1) return 1 - x
  // P = x Σ_{j=0}^{⌊n(1-x)⌋} C(n,j) (1 - x - j/n)^(n-j) (x + j/n)^(j-1): all terms positive,
  // summed relative to the largest one.
  const last = Math.floor(n * (1 - x) + 1e-12 * n)
  const logTerms = new Float64Array(last + 1)
  let logScale = Number.NEGATIVE_INFINITY
  let count = 0
  for (let j = 0; j <= last; j++) {
    if (1 - x - j / n <= 0) break
    const logTerm = logSmirnovTerm(n, x, j)
    logTerms[count++] = logTerm
    if (logTerm > logScale) logScale = logTerm
  }
  let sum = 0
  for (let j = 0; j < count; j++) sum += Math.exp(logTerms[j]! - logScale)
  return clip(x * sum * Math.exp(logScale))
}

const matmul = (a: Float64Array, b: Float64Array, m: number): Float64Array => {
  const out = new Float64Array(m * m)
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < m; k++) {
      const aik = a[i * m + k]!
      if (aik === 0) continue
      for (let j = 0; j < m; j++) out[i * m + j]! += aik * b[k * m + j]!
    }
  }
  return out
}

/** P(D_n <= d) by the Durbin matrix method as Marsaglia, Tsang and Wang compute it. */
const kolmognDMTW = (n: number, d: number, cdf: boolean): number => {
  if (d >= 1) return select(1, 0, cdf)
  const nd = n * d
  if (nd <= 0.5) return select(0, 1, cdf)
  const k = Math.ceil(nd)
  const h = k - nd
  const m = 2 * k - 1
  let H: Float64Array = new Float64Array(m * m)
  const v = new Float64Array(m)
  const w = new Float64Array(m)
  let fac = 1
  for (let j = 1; j <= m; j++) {
    w[j - 1] = fac
    fac /= j
    v[j - 1] = (1 - h ** j) * fac
  }
  const tt = Math.max(2 * h - 1, 0) ** m - 2 * h ** m
  v[m - 1] = (1 + tt) * fac
  for (let i = 1; i < m; i++) {
    for (let r = i - 1; r < m; r++) H[r * m + i] = w[r - (i - 1)]!
  }
  for (let r = 0; r < m; r++) H[r * m] = v[r]!
  for (let c = 0; c < m; c++) H[(m - 1) * m + c] = v[m - 1 - c]!
  let power: Float64Array = new Float64Array(m * m)
  for (let i = 0; i < m; i++) power[i * m + i] = 1
  let nn = n
  let exponent = 0
  let hExponent = 0
  while (nn > 0) {
    if (nn % 2) {
      power = matmul(power, H, m)
      exponent += hExponent
    }
    H = matmul(H, H, m)
    hExponent *= 2
    if (Math.abs(H[(k - 1) * m + (k - 1)]!) > EP128) {
      for (let i = 0; i < H.length; i++) H[i]! /= EP128
      hExponent += E128
    }
    nn = Math.floor(nn / 2)
  }
  let p = power[(k - 1) * m + (k - 1)]!
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n
    if (Math.abs(p) < EM128) {
      p *= EP128
      exponent -= E128
    }
  }
  if (exponent !== 0) p *= 2 ** exponent
  return select(p, 1 - p, cdf)
}

const pomeranzBounds = (i: number, n: number, ll: number, ceilf: number, roundf: number): [number, number] => {
  let j1: number
  let j2: number
  if (i === 0) {
    j1 = -ll - ceilf - 1
    j2 = ll + ceilf - 1
  } else {
    const ip1div2 = Math.floor((i + 1) / 2)
    const ip1mod2 = (i + 1) % 2
    if (ip1mod2 === 0) {
      if (ip1div2 === n + 1) {
        j1 = n - ll - ceilf - 1
        j2 = n + ll + ceilf - 1
      } else {
        j1 = ip1div2 - 1 - ll - roundf - 1
        j2 = ip1div2 + ll - 1 + ceilf - 1
      }
    } else {
      j1 = ip1div2 - 1 - ll - 1
      j2 = ip1div2 + ll + roundf - 1
    }
  }
  return [Math.max(j1 + 2, 0), Math.min(j2, n)]
}

/** P(D_n <= x) by Pomeranz's recursion (1974). */
const kolmognPomeranz = (n: number, x: number, cdf: boolean): number => {
  const t = n * x
  const ll = Math.floor(t)
  const f = t - ll
  const g = Math.min(f, 1 - f)
  const ceilf = f > 0 ? 1 : 0
  const roundf = f > 0.5 ? 1 : 0
  const npwrs = 2 * (ll + 1)
  const gpower = new Float64Array(npwrs)
  const twogpower = new Float64Array(npwrs)
  const onem2gpower = new Float64Array(npwrs)
  gpower[0] = 1
  twogpower[0] = 1
  onem2gpower[0] = 1
  let exponent = 0
  const gOverN = g / n
  const twoGOverN = (2 * g) / n
  const oneMinusTwoGOverN = (1 - 2 * g) / n
  for (let m = 1; m < npwrs; m++) {
    gpower[m] = (gpower[m - 1]! * gOverN) / m
    twogpower[m] = (twogpower[m - 1]! * twoGOverN) / m
    onem2gpower[m] = (onem2gpower[m - 1]! * oneMinusTwoGOverN) / m
  }
  let V0 = new Float64Array(npwrs)
  let V1 = new Float64Array(npwrs)
  V1[0] = 1
  let V0s = 0
  let V1s = 0
  let [j1, j2] = pomeranzBounds(0, n, ll, ceilf, roundf)
  for (let i = 1; i < 2 * n + 2; i++) {
    const k1 = j1
    ;[V0, V1] = [V1, V0]
    ;[V0s, V1s] = [V1s, V0s]
    V1.fill(0)
    ;[j1, j2] = pomeranzBounds(i, n, ll, ceilf, roundf)
    const pwrs = i === 1 || i === 2 * n + 1 ? gpower : i % 2 ? twogpower : onem2gpower
    const ln2 = j2 - k1 + 1
    if (ln2 > 0) {
      const convStart = j1 - k1
      const convLen = j2 - j1 + 1
      const offset = k1 - V0s
      let max = 0
      for (let c = 0; c < convLen; c++) {
        // Entry convStart + c of the full convolution of V0[offset..offset+ln2) with pwrs[0..ln2).
        const idx = convStart + c
        let total = 0
        for (let a = Math.max(0, idx - ln2 + 1); a <= Math.min(idx, ln2 - 1); a++) {
          total += V0[offset + a]! * pwrs[idx - a]!
        }
        V1[c] = total
        if (total > max) max = total
      }
      if (max > 0 && max < EM128) {
        for (let c = 0; c < npwrs; c++) V1[c]! *= EP128
        exponent -= E128
      }
      V1s = V0s + j1 - k1
    }
  }
  let answer = V1[n - V1s]!
  for (let m = 1; m <= n; m++) {
    if (Math.abs(answer) > EP128) {
      answer *= EM128
      exponent += E128
    }
    answer *= m
  }
  if (exponent !== 0) answer *= 2 ** exponent
  return select(answer, 1 - answer, cdf)
}

/** The Pelz-Good asymptotic expansion of P(D_n <= x). */
const kolmognPelzGood = (n: number, x: number, cdf: boolean): number => {
  if (x <= 0) return select(0, 1, cdf)
  if (x >= 1) return select(1, 0, cdf)
  const z = Math.sqrt(n) * x
  const zsquared = z ** 2
  const zthree = z ** 3
  const zfour = z ** 4
  const zsix = z ** 6
  const qlog = -PI_SQUARED / 8 / zsquared
  if (qlog < MIN_LOG) return select(0, 1, cdf)
  let q = Math.exp(qlog)
  const k1a = -zsquared
  const k1b = PI_SQUARED / 4
  const k2a = 6 * zsix + 2 * zfour
  const k2b = ((2 * zfour - 5 * zsquared) * PI_SQUARED) / 4
  const k2c = (PI_FOUR * (1 - 2 * zsquared)) / 16
  const k3d = (PI_SIX * (5 - 30 * zsquared)) / 64
  const k3c = (PI_FOUR * (-60 * zsquared + 212 * zfour)) / 16
  const k3b = (PI_SQUARED * (135 * zfour - 96 * zsix)) / 4
  const k3a = -30 * zsix - 90 * z ** 8
  const K = [0, 0, 0, 0]
  const maxk = Math.ceil((16 * z) / Math.PI)
  for (let k = maxk; k > 0; k--) {
    const m = 2 * k - 1
    const m2 = m ** 2
    const m4 = m ** 4
    const m6 = m ** 6
    const qpower = q ** (8 * k)
    const coeffs = [1, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6]
    for (let i = 0; i < 4; i++) K[i] = K[i]! * qpower + coeffs[i]!
  }
  const divisors = [z, 6 * zfour, 72 * z ** 7, 6480 * z ** 10]
  for (let i = 0; i < 4; i++) K[i] = (K[i]! * q * SQRT2PI) / divisors[i]!
  q = Math.exp(-PI_SQUARED / 2 / zsquared)
  const sqrt3z = SQRT3 * z
  let k2extra = 0
  let k3extra = 0
  for (let k = maxk; k > 0; k--) {
    const ksquared = k ** 2
    const qpwer = q ** ksquared
    k2extra += ksquared * qpwer
    const kspi = Math.PI * k
    k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ksquared * qpwer
  }
  K[2] = K[2]! + (k2extra * PI_SQUARED * SQRT2PI) / (-36 * zthree)
  K[3] = K[3]! + (k3extra * PI_SQUARED * SQRT2PI) / (216 * zsix)
  for (let i = 0; i < 4; i++) K[i] = K[i]! / n ** (i / 2)
  if (!cdf) {
    for (let i = 0; i < 4; i++) K[i] = -K[i]!
    K[0] = K[0]! + 1
  }
  return K[0]! + K[1]! + K[2]! + K[3]!
}

/** CDF (cdf = true) or survival function of the two-sided KS statistic D_n at x (scipy's kstwo). */
export const kolmogn = (n: number, x: number, cdf: boolean): number => {
  if (x >= 1) return select(1, 0, cdf)
  if (x <= 0) return select(0, 1, cdf)
  const t = n * x
  if (t <= 1) {
    if (t <= 0.5) return select(0, 1, cdf)
    let prob: number
    if (n <= 140) {
      prob = 1
      for (let i = 1; i <= n; i++) prob *= i * (1 / n) * (2 * t - 1)
    } else {
      prob = Math.exp(logFactorialOverPower(n) + n * Math.log(2 * t - 1))
    }
    return select(prob, 1 - prob, cdf)
  }
  if (t >= n - 1) {
    const prob = 2 * (1 - x) ** n
    return select(1 - prob, prob, cdf)
  }
  if (x >= 0.5) {
    const prob = 2 * smirnovSf(n, x)
    return select(1 - prob, prob, cdf)
  }
  const nxsquared = t * x
  if (n <= 140) {
    if (nxsquared <= 0.754693) {
      const prob = kolmognDMTW(n, x, true)
      return select(prob, 1 - prob, cdf)
    }
    if (nxsquared <= 4) {
      const prob = kolmognPomeranz(n, x, true)
      return select(prob, 1 - prob, cdf)
    }
    const prob = 2 * smirnovSf(n, x)
    return select(1 - prob, prob, cdf)
  }
  if (!cdf) {
    if (nxsquared >= 370) return 0
    if (nxsquared >= 2.2) return clip(2 * smirnovSf(n, x))
  }
  let cdfProb: number
  if (nxsquared >= 18) cdfProb = 1
  else if (n <= 100000 && n * x ** 1.5 <= 1.4) cdfProb = kolmognDMTW(n, x, true)
  else cdfProb = kolmognPelzGood(n, x, true)
  return select(cdfProb, 1 - cdfProb, cdf)
}

/** Survival function of the limiting Kolmogorov distribution: P(K > y), K = lim √n·D_n. */
export const kolmogorovSf = (y: number): number => {
  if (y <= 0) return 1
  if (y < 1) {
    // cdf = √(2π)/y Σ exp(-(2k-1)²π²/(8y²)), converging fast for small y.
    let sum = 0
    for (let k = 1; k < 100; k++) {
      const term = Math.exp((-((2 * k - 1) ** 2) * PI_SQUARED) / (8 * y * y))
      sum += term
      if (term < 1e-17 * sum) break
    }
    return 1 - (SQRT2PI / y) * sum
  }
  // sf = 2 Σ (-1)^(k-1) exp(-2k²y²)
  let sum = 0
  for (let k = 1; k < 100; k++) {
    const term = Math.exp(-2 * k * k * y * y)
    sum += k % 2 ? term : -term
    if (term < 1e-17 * Math.abs(sum)) break
  }
  return clip(2 * sum)
}
