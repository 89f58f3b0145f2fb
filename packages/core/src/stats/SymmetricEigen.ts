/**
 * Eigen-decomposition of a real symmetric matrix by the cyclic Jacobi method: plane rotations
 * zero one off-diagonal entry at a time until the off-diagonal mass is negligible. It uses only
 * + - * / and sqrt (correctly rounded everywhere), so every runtime gets the same bits, and it is
 * accurate to a few ulps of the matrix norm. O(n^3) per sweep, about 6-10 sweeps: meant for the
 * covariance of at most a few hundred features (PCA), not for large matrices.
 */
import { invalid } from "./StatsError.js"

export interface SymmetricEigen {
  /** Eigenvalues, ascending (as numpy.linalg.eigh). */
  readonly values: Float64Array
  /** Row-major n x n; column j is the unit eigenvector of values[j]. */
  readonly vectors: Float64Array
}

const MAX_SWEEPS = 100

/** Rotates rows/columns p and q of the row-major n x n `a` by (c, s), and columns p and q of `v`. */
const rotate = (a: Float64Array, v: Float64Array, n: number, p: number, q: number, c: number, s: number) => {
  for (let k = 0; k < n; k++) {
    const akp = a[k * n + p]!
    const akq = a[k * n + q]!
    a[k * n + p] = c * akp - s * akq
    a[k * n + q] = s * akp + c * akq
  }
  for (let k = 0; k < n; k++) {
    const apk = a[p * n + k]!
    const aqk = a[q * n + k]!
    a[p * n + k] = c * apk - s * aqk
    a[q * n + k] = s * apk + c * aqk
  }
  for (let k = 0; k < n; k++) {
    const vkp = v[k * n + p]!
    const vkq = v[k * n + q]!
    v[k * n + p] = c * vkp - s * vkq
    v[k * n + q] = s * vkp + c * vkq
  }
}

/**
 * Eigenvalues (ascending) and eigenvectors of the symmetric row-major n x n `matrix` (only
 * symmetry within 1e-12 of the largest entry is accepted). Each eigenvector's sign is fixed so
 * that its largest-magnitude component is positive, which makes the result reproducible.
 */
export const symmetricEigen = (matrix: ArrayLike<number>, n: number): SymmetricEigen => {
  if (!Number.isInteger(n) || n < 1) invalid("n", `must be a positive integer, got ${n}`)
  if (matrix.length !== n * n) invalid("matrix", `must hold n * n = ${n * n} entries, got ${matrix.length}`)
  const a = Float64Array.from(matrix)
  let scale = 0
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) invalid(`matrix.${i}`, `must be a finite number, got ${a[i]}`)
    scale = Math.max(scale, Math.abs(a[i]!))
  }
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (Math.abs(a[i * n + j]! - a[j * n + i]!) > 1e-12 * scale) {
        invalid(`matrix.${i * n + j}`, `must equal its transpose entry ${j * n + i} (the matrix must be symmetric)`)
      }
    }
  }
  const v = new Float64Array(n * n)
  for (let i = 0; i < n; i++) v[i * n + i] = 1
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let offDiagonal = 0
    let diagonal = 0
    for (let i = 0; i < n; i++) {
      diagonal += a[i * n + i]! ** 2
      for (let j = i + 1; j < n; j++) offDiagonal += a[i * n + j]! ** 2
    }
    // Converged when the off-diagonal mass is below rounding of the diagonal (or all zero).
    if (offDiagonal === 0 || offDiagonal <= 1e-34 * diagonal) break
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!
        if (apq === 0) continue
        const theta = (a[q * n + q]! - a[p * n + p]!) / (2 * apq)
        // The smaller root of t^2 + 2 theta t - 1 = 0 (|angle| <= pi/4), stable for large theta.
        const t = Math.abs(theta) > 1e150
          ? 1 / (2 * theta)
          : (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1))
        const c = 1 / Math.sqrt(t * t + 1)
        rotate(a, v, n, p, q, c, t * c)
        a[p * n + q] = 0
        a[q * n + p] = 0
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => a[x * n + x]! - a[y * n + y]!)
  const values = new Float64Array(n)
  const vectors = new Float64Array(n * n)
  order.forEach((from, to) => {
    values[to] = a[from * n + from]!
    let largest = 0
    for (let k = 0; k < n; k++) if (Math.abs(v[k * n + from]!) > Math.abs(largest)) largest = v[k * n + from]!
    const sign = largest < 0 ? -1 : 1
    for (let k = 0; k < n; k++) vectors[k * n + to] = sign * v[k * n + from]!
  })
  return { values, vectors }
}
