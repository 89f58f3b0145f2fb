/**
 * Distances between two discrete distributions given as weights over the same bins (bin or
 * category shares): Jensen-Shannon distance, Kullback-Leibler divergence and Hellinger
 * distance. Like scipy, each weight vector is first divided by its sum, so shares that sum to
 * 1 up to rounding (or after empty shares were filled) are proper distributions. Logarithms
 * are natural unless a `base` is given. These are the pure parts of the binned drift tests;
 * which shares they compare and how empty shares are treated is the drift tests' business.
 */
import { checkPositive, invalid } from "./StatsError.js"

/** Checks two weight vectors of one length, non-negative and finite with a positive sum; returns them normalized. */
const normalizedPair = (
  p: ArrayLike<number>,
  q: ArrayLike<number>
): readonly [Float64Array, Float64Array] => {
  if (p.length === 0) invalid("p", "must not be empty")
  if (q.length !== p.length) invalid("q", `must have the same length as p (${p.length}), got ${q.length}`)
  const normalize = (weights: ArrayLike<number>, field: string) => {
    let sum = 0
    for (let i = 0; i < weights.length; i++) {
      const w = weights[i]!
      if (!(Number.isFinite(w) && w >= 0)) invalid(`${field}[${i}]`, `must be a finite number >= 0, got ${w}`)
      sum += w
    }
    if (!(sum > 0)) invalid(field, "must have a positive sum")
    return Float64Array.from(weights, (w) => w / sum)
  }
  return [normalize(p, "p"), normalize(q, "q")]
}

/**
 * (1 + d)·ln(1 + d) + (1 − d)·ln(1 − d) for d in [−1, 1]. Near 0 the two terms cancel, so there
 * it is summed as its series Σ d^2k / (k·(2k − 1)), which keeps every digit of tiny distances.
 */
const symmetricGap = (d: number): number => {
  const a = Math.abs(d)
  if (a < 0.1) {
    const square = a * a
    let power = square
    let sum = 0
    for (let k = 1; power > 1e-17 * sum; k++) {
      sum += power / (k * (2 * k - 1))
      power *= square
    }
    return sum
  }
  return (1 + a) * Math.log1p(a) + (a === 1 ? 0 : (1 - a) * Math.log1p(-a))
}

/**
 * (1 + u)·ln(1 + u) − u for u >= −1: one bin's term of KL(p ‖ q) / q with u = p/q − 1, after
 * adding Σ (q − p) = 0, so that no term is negative and nothing cancels across bins. Near 0 it
 * is summed as its series Σ (−u)^k / (k·(k − 1)), k >= 2.
 */
const klGap = (u: number): number => {
  if (Math.abs(u) < 0.1) {
    let power = u * u
    let sum = 0
    for (let k = 2; Math.abs(power) > 1e-17 * sum; k++) {
      sum += power / (k * (k - 1))
      power *= -u
    }
    return sum
  }
  return u === -1 ? 1 : (1 + u) * Math.log1p(u) - u
}

/**
 * Jensen-Shannon distance, as scipy.spatial.distance.jensenshannon(p, q, base): the square root
 * of the mean Kullback-Leibler divergence of p and q from their midpoint m = (p + q) / 2. It is
 * symmetric, finite even where one distribution has empty bins, and in [0, 1] for base 2. Each
 * bin's two terms are combined as m·((1 + d)·ln(1 + d) + (1 − d)·ln(1 − d)), d = (p − q)/(p + q),
 * so nearly equal distributions get an accurate small distance (where scipy's sum of terms can
 * round below zero and answer NaN).
 */
export const jensenShannonDistance = (
  p: ArrayLike<number>,
  q: ArrayLike<number>,
  options: { readonly base?: number } = {}
): number => {
  const [pn, qn] = normalizedPair(p, q)
  if (options.base !== undefined) {
    checkPositive(options.base, "base")
    if (options.base === 1) invalid("base", "must not be 1")
  }
  let divergence = 0
  for (let i = 0; i < pn.length; i++) {
    const sum = pn[i]! + qn[i]!
    if (sum > 0) divergence += (sum / 2) * symmetricGap((pn[i]! - qn[i]!) / sum)
  }
  if (options.base !== undefined) divergence /= Math.log(options.base)
  return Math.sqrt(divergence / 2)
}

/**
 * Kullback-Leibler divergence KL(p ‖ q) = Σ p·ln(p / q), as scipy.stats.entropy(p, q): the
 * information lost when q is used in place of p. Not symmetric; +∞ when q has an empty bin
 * where p has mass. Summed as Σ q·((p/q)·ln(p/q) − p/q + 1), equal for distributions, whose
 * terms are never negative, so small divergences keep their digits.
 */
export const klDivergence = (p: ArrayLike<number>, q: ArrayLike<number>): number => {
  const [pn, qn] = normalizedPair(p, q)
  let divergence = 0
  for (let i = 0; i < pn.length; i++) {
    const pi = pn[i]!
    const qi = qn[i]!
    if (qi === 0) {
      if (pi > 0) return Number.POSITIVE_INFINITY
    } else {
      // (p − q) / q rather than p/q − 1: the subtraction is exact for close shares.
      divergence += qi * klGap((pi - qi) / qi)
    }
  }
  return divergence
}

/**
 * Hellinger distance ‖√p − √q‖₂ / √2, in [0, 1] (equal to √(1 − Σ √(p·q)) for distributions,
 * but summed as squared differences so that small distances keep their digits). Symmetric and
 * finite with empty bins.
 */
export const hellingerDistance = (p: ArrayLike<number>, q: ArrayLike<number>): number => {
  const [pn, qn] = normalizedPair(p, q)
  let sum = 0
  for (let i = 0; i < pn.length; i++) {
    const roots = Math.sqrt(pn[i]!) + Math.sqrt(qn[i]!)
    // √p − √q as (p − q) / (√p + √q): no cancellation when p and q are close.
    const d = roots === 0 ? 0 : (pn[i]! - qn[i]!) / roots
    sum += d * d
  }
  return Math.sqrt(sum / 2)
}
