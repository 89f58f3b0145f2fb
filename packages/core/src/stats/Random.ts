/**
 * A seeded PRNG (xoshiro128**, seeded through splitmix32) and Normal, Gamma and Beta samplers
 * on it. Every operation is IEEE double arithmetic, and the logarithm and exponential the
 * samplers need are computed here (fdlibm's algorithms) rather than by Math.log/Math.exp, whose
 * last bit differs between JavaScript engines: the same seed gives the same draws in Node, Deno,
 * Bun and workers.
 */
import { checkPositive, invalid } from "./StatsError.js"

const buffer = new DataView(new ArrayBuffer(8))
const highWord = (x: number) => {
  buffer.setFloat64(0, x)
  return buffer.getUint32(0)
}
const withHighWord = (x: number, high: number) => {
  buffer.setFloat64(0, x)
  buffer.setUint32(0, high >>> 0)
  return buffer.getFloat64(0)
}
const powerOfTwo = (k: number) => {
  buffer.setUint32(0, ((k + 1023) << 20) >>> 0)
  buffer.setUint32(4, 0)
  return buffer.getFloat64(0)
}

const LN2_HI = 6.93147180369123816490e-1
const LN2_LO = 1.90821492927058770002e-10
const LG1 = 6.666666666666735130e-1
const LG2 = 3.999999999940941908e-1
const LG3 = 2.857142874366239149e-1
const LG4 = 2.222219843214978396e-1
const LG5 = 1.818357216161805012e-1
const LG6 = 1.531383769920937332e-1
const LG7 = 1.479819860511658591e-1

/** Natural logarithm of a positive normal double (fdlibm's __ieee754_log). */
export const deterministicLog = (x: number): number => {
  if (!(x > 0)) return x === 0 ? Number.NEGATIVE_INFINITY : Number.NaN
  if (x === Number.POSITIVE_INFINITY) return x
  let hx = highWord(x)
  let k = 0
  if (hx < 0x00100000) {
    // subnormal: scale up by 2^54
    x *= 18014398509481984
    k -= 54
    hx = highWord(x)
  }
  k += (hx >> 20) - 1023
  hx &= 0x000fffff
  const i = (hx + 0x95f64) & 0x100000
  x = withHighWord(x, hx | (i ^ 0x3ff00000))
  k += i >> 20
  const f = x - 1
  const s = f / (2 + f)
  const dk = k
  const z = s * s
  let j = hx - 0x6147a
  const w = z * z
  const t1 = w * (LG2 + w * (LG4 + w * LG6))
  const t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)))
  j |= 0x6b851 - hx
  const R = t2 + t1
  if (j > 0) {
    const hfsq = 0.5 * f * f
    return dk * LN2_HI - (hfsq - (s * (hfsq + R) + dk * LN2_LO) - f)
  }
  return dk * LN2_HI - (s * (f - R) - dk * LN2_LO - f)
}

const INV_LN2 = 1.44269504088896338700e0
const P1 = 1.66666666666666019037e-1
const P2 = -2.77777777770155933842e-3
const P3 = 6.61375632143793436117e-5
const P4 = -1.65339022054652515390e-6
const P5 = 4.13813679705723846039e-8

/** e^x (fdlibm's __ieee754_exp), for |x| < 708. */
export const deterministicExp = (x: number): number => {
  if (x > 709.78) return Number.POSITIVE_INFINITY
  if (x < -745.13) return 0
  const k = Math.trunc(INV_LN2 * x + (x < 0 ? -0.5 : 0.5))
  const hi = x - k * LN2_HI
  const lo = k * LN2_LO
  const r = hi - lo
  const t = r * r
  const c = r - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))))
  const y = 1 - (lo - (r * c) / (2 - c) - hi)
  // Scale in two steps so 2^k never overflows or goes subnormal on its own.
  const half = k >> 1
  return y * powerOfTwo(half) * powerOfTwo(k - half)
}

const rotl = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0

/** FNV-1a 32-bit of a string, to turn text seeds into numbers. */
const fnv1a = (text: string): number => {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash >>> 0
}

export interface Random {
  /** Next 32 random bits as an unsigned integer. */
  readonly nextUint32: () => number
  /** Uniform in [0, 1) with 53 random bits. */
  readonly uniform: () => number
  /** Standard normal (Marsaglia's polar method), or N(mean, sd²). */
  readonly normal: (mean?: number, sd?: number) => number
  /** Gamma(shape, scale) (Marsaglia-Tsang; shape < 1 by the u^(1/shape) boost). */
  readonly gamma: (shape: number, scale?: number) => number
  /** Beta(a, b) as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b). */
  readonly beta: (a: number, b: number) => number
}

/** A generator for `seed` (a 32-bit integer or any string); the same seed gives the same stream everywhere. */
export const makeRandom = (seed: number | string): Random => {
  if (typeof seed === "number" && !Number.isInteger(seed)) {
    invalid("seed", `must be an integer or a string, got ${seed}`)
  }
  let sm = (typeof seed === "string" ? fnv1a(seed) : seed) >>> 0
  const splitmix32 = () => {
    sm = (sm + 0x9e3779b9) >>> 0
    let z = sm
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
  let s0 = splitmix32()
  let s1 = splitmix32()
  let s2 = splitmix32()
  let s3 = splitmix32()
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1

  const nextUint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0
    const t = (s1 << 9) >>> 0
    s2 = (s2 ^ s0) >>> 0
    s3 = (s3 ^ s1) >>> 0
    s1 = (s1 ^ s2) >>> 0
    s0 = (s0 ^ s3) >>> 0
    s2 = (s2 ^ t) >>> 0
    s3 = rotl(s3, 11)
    return result
  }
  const uniform = () => ((nextUint32() >>> 5) * 67108864 + (nextUint32() >>> 6)) / 9007199254740992

  let spare: number | undefined
  const standardNormal = (): number => {
    if (spare !== undefined) {
      const value = spare
      spare = undefined
      return value
    }
    for (;;) {
      const u = 2 * uniform() - 1
      const v = 2 * uniform() - 1
      const s = u * u + v * v
      if (s >= 1 || s === 0) continue
      const factor = Math.sqrt((-2 * deterministicLog(s)) / s)
      spare = v * factor
      return u * factor
    }
  }

  const gammaUnit = (shape: number): number => {
    if (shape < 1) {
      // Gamma(a) = Gamma(a + 1) · U^(1/a)
      let u = uniform()
      while (u === 0) u = uniform()
      return gammaUnit(shape + 1) * deterministicExp(deterministicLog(u) / shape)
    }
    const d = shape - 1 / 3
    const c = 1 / Math.sqrt(9 * d)
    for (;;) {
      const x = standardNormal()
      let v = 1 + c * x
      if (v <= 0) continue
      v = v * v * v
      const u = uniform()
      const x2 = x * x
      if (u < 1 - 0.0331 * x2 * x2) return d * v
      if (u > 0 && deterministicLog(u) < 0.5 * x2 + d * (1 - v + deterministicLog(v))) return d * v
    }
  }

  return {
    nextUint32,
    uniform,
    normal: (mean = 0, sd = 1) => {
      checkPositive(sd, "sd")
      return mean + sd * standardNormal()
    },
    gamma: (shape, scale = 1) => {
      checkPositive(shape, "shape")
      checkPositive(scale, "scale")
      return gammaUnit(shape) * scale
    },
    beta: (a, b) => {
      checkPositive(a, "a")
      checkPositive(b, "b")
      const x = gammaUnit(a)
      const y = gammaUnit(b)
      return x / (x + y)
    }
  }
}
