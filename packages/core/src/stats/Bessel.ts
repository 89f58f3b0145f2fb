/**
 * The modified Bessel function of the second kind K_ν(x) for real order |ν| ≤ 1/2 and x > 0,
 * by Temme's method: his series for x ≤ 2, Steed's continued fraction (Temme's CF2) above. The
 * Cramér-von Mises limiting distribution needs K_{1/4}; accurate to a few units in the last place.
 */
import { logGamma } from "./Special.js"
import { invalid } from "./StatsError.js"

const EPS = 1e-16

/** 1/Γ(1 + ν), 1/Γ(1 - ν) and Temme's Γ1 = (1/Γ(1-ν) - 1/Γ(1+ν))/(2ν), Γ2 = their mean. */
const temmeGammas = (nu: number) => {
  const reciprocalPlus = Math.exp(-logGamma(1 + nu))
  const reciprocalMinus = Math.exp(-logGamma(1 - nu))
  // As ν -> 0, Γ1 -> -γ (Euler's constant).
  const gamma1 = Math.abs(nu) < 1e-8 ? -0.5772156649015329 : (reciprocalMinus - reciprocalPlus) / (2 * nu)
  return { reciprocalPlus, reciprocalMinus, gamma1, gamma2: (reciprocalMinus + reciprocalPlus) / 2 }
}

export const besselK = (nu: number, x: number): number => {
  if (!(Math.abs(nu) <= 0.5)) invalid("nu", `must be in [-0.5, 0.5], got ${nu}`)
  if (!(x > 0)) invalid("x", `must be > 0, got ${x}`)
  if (x > 2) {
    // Steed's algorithm for the continued fraction CF2; K_ν = √(π/2x)·e^-x / s.
    let b = 2 * (1 + x)
    let d = 1 / b
    let delh = d
    let q1 = 0
    let q2 = 1
    const a1 = 0.25 - nu * nu
    let q = a1
    let c = a1
    let a = -a1
    let s = 1 + q * delh
    for (let i = 2; i < 100_000; i++) {
      a -= 2 * (i - 1)
      c = (-a * c) / i
      const qnew = (q1 - b * q2) / a
      q1 = q2
      q2 = qnew
      q += c * qnew
      b += 2
      d = 1 / (b + a * d)
      delh = (b * d - 1) * delh
      const dels = q * delh
      s += dels
      if (Math.abs(dels / s) < EPS) break
    }
    return (Math.sqrt(Math.PI / (2 * x)) * Math.exp(-x)) / s
  }
  // Temme's series.
  const half = x / 2
  const piNu = Math.PI * nu
  const fact = Math.abs(piNu) < EPS ? 1 : piNu / Math.sin(piNu)
  const logHalf = -Math.log(half)
  const e = nu * logHalf
  const fact2 = Math.abs(e) < EPS ? 1 : Math.sinh(e) / e
  const { gamma1, gamma2, reciprocalMinus, reciprocalPlus } = temmeGammas(nu)
  let ff = fact * (gamma1 * Math.cosh(e) + gamma2 * fact2 * logHalf)
  let sum = ff
  const ee = Math.exp(e)
  let p = (0.5 * ee) / reciprocalPlus
  let q = 0.5 / (ee * reciprocalMinus)
  let c = 1
  const dd = half * half
  for (let i = 1; i < 10_000; i++) {
    ff = (i * ff + p + q) / (i * i - nu * nu)
    c *= dd / i
    p /= i - nu
    q /= i + nu
    const del = c * ff
    sum += del
    if (Math.abs(del) < Math.abs(sum) * EPS) break
  }
  return sum
}
