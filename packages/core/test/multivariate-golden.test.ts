/**
 * The multivariate drift building blocks against numpy and scikit-learn
 * (test/golden/generate_multivariate.py -> multivariate.json): the Jacobi eigen-decomposition
 * against numpy.linalg.eigh, standardization and PCA (kept components, explained variance,
 * axes, reconstruction distances) against StandardScaler + PCA, and ROC AUC against
 * sklearn.metrics.roc_auc_score.
 */
import { describe, expect, it } from "vitest"
import { fitPca, reconstructionErrors } from "../src/drift/multivariate/PcaReconstruction.js"
import { fitRowEncoding, standardizedNumeric } from "../src/drift/multivariate/RowEncoding.js"
import { rocAuc } from "../src/stats/RocAuc.js"
import { symmetricEigen } from "../src/stats/SymmetricEigen.js"
import golden from "./golden/multivariate.json" with { type: "json" }

const maxAbs = (values: ArrayLike<number>) => Array.from(values).reduce((m, v) => Math.max(m, Math.abs(v)), 0)

/** |<u, v>| for columns of two row-major n x k matrices. */
const columnDot = (
  a: ArrayLike<number>,
  ka: number,
  ca: number,
  b: ArrayLike<number>,
  kb: number,
  cb: number,
  n: number
) => {
  let dot = 0
  for (let j = 0; j < n; j++) dot += a[j * ka + ca]! * b[j * kb + cb]!
  return dot
}

describe("symmetricEigen against numpy.linalg.eigh", () => {
  for (const c of golden.eigh) {
    it(`${c.name}: eigenvalues, eigenvectors and A = V diag(w) V^T`, () => {
      const { n } = c
      const { values, vectors } = symmetricEigen(c.matrix, n)
      const norm = maxAbs(c.matrix)
      for (let i = 0; i < n; i++) expect(Math.abs(values[i]! - c.values[i]!)).toBeLessThan(1e-12 * n * norm)
      // Reconstruction and orthonormality hold whatever basis a repeated eigenvalue gets.
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let entry = 0
          let gram = 0
          for (let k = 0; k < n; k++) {
            entry += vectors[i * n + k]! * values[k]! * vectors[j * n + k]!
            gram += vectors[k * n + i]! * vectors[k * n + j]!
          }
          expect(Math.abs(entry - c.matrix[i * n + j]!)).toBeLessThan(1e-12 * n * norm)
          expect(Math.abs(gram - (i === j ? 1 : 0))).toBeLessThan(1e-12 * n)
        }
      }
      // A simple eigenvalue's eigenvector equals numpy's up to sign.
      for (let k = 0; k < n; k++) {
        const gap = Math.min(
          k > 0 ? c.values[k]! - c.values[k - 1]! : Infinity,
          k < n - 1 ? c.values[k + 1]! - c.values[k]! : Infinity
        )
        if (gap < 1e-6 * norm) continue
        expect(Math.abs(Math.abs(columnDot(vectors, n, k, c.vectors, n, k, n)) - 1)).toBeLessThan(1e-9)
      }
    })
  }

  it("names the problem with a non-symmetric or non-finite matrix", () => {
    expect(() => symmetricEigen([1, 2, 3, 4], 2)).toThrow(/symmetric/)
    expect(() => symmetricEigen([1, Number.NaN, Number.NaN, 4], 2)).toThrow(/matrix\.1: must be a finite number/)
    expect(() => symmetricEigen([1, 2, 3], 2)).toThrow(/n \* n = 4 entries/)
  })
})

describe("standardization and PCA against StandardScaler + PCA(n_components=share)", () => {
  for (const c of golden.pca) {
    it(`${c.name}: components, explained variance, axes and reconstruction distances`, () => {
      const d = c.features
      const baselineRows = c.baseline.length / d
      const windowRows = c.window.length / d
      const names = Array.from({ length: d }, (_, j) => `f${j}`)
      const columns = (flat: ReadonlyArray<number>, rows: number) =>
        Object.fromEntries(names.map((name, j) => [name, Array.from({ length: rows }, (_, i) => flat[i * d + j]!)]))
      const baseline = columns(c.baseline, baselineRows)
      const encoding = fitRowEncoding(names.map((name) => ({ name, kind: "feature", type: "numeric" })), baseline)
      encoding.numeric.forEach((f, j) => {
        expect(Math.abs(f.mean - c.mean[j]!)).toBeLessThan(1e-12 * Math.max(1, Math.abs(c.mean[j]!)))
        expect(Math.abs(f.scale - c.scale[j]!) / c.scale[j]!).toBeLessThan(1e-12)
      })
      const z = standardizedNumeric(encoding, baseline, baselineRows)
      const model = fitPca(z, baselineRows, d, c.varianceShare)
      expect(model.componentCount).toBe(c.components)
      model.explainedVarianceRatio.forEach((r, k) =>
        expect(Math.abs(r - c.explainedVarianceRatio[k]!)).toBeLessThan(1e-12)
      )
      for (let k = 0; k < c.components; k++) {
        // sklearn's components_ is components x features; ours is features x components.
        let dot = 0
        for (let j = 0; j < d; j++) dot += model.components[j * c.components + k]! * c.axes[k * d + j]!
        expect(Math.abs(Math.abs(dot) - 1)).toBeLessThan(1e-9)
      }
      const baselineErrors = reconstructionErrors(model, z, baselineRows)
      const windowZ = standardizedNumeric(encoding, columns(c.window, windowRows), windowRows)
      const windowErrors = reconstructionErrors(model, windowZ, windowRows)
      const misses: Array<string> = []
      const compare = (label: string, ours: Float64Array, theirs: ReadonlyArray<number>) =>
        theirs.forEach((t, i) => {
          if (!(Math.abs(ours[i]! - t) <= 1e-10 * Math.max(1, t))) misses.push(`${label}[${i}]: ${ours[i]} vs ${t}`)
        })
      compare("baseline", baselineErrors, c.baselineDistances)
      compare("window", windowErrors, c.windowDistances)
      expect(misses).toEqual([])
    })
  }
})

describe("rocAuc against sklearn.metrics.roc_auc_score", () => {
  for (const c of golden.auc) {
    it(c.name, () => {
      expect(Math.abs(rocAuc(c.scores, c.labels) - c.auc)).toBeLessThan(1e-15)
    })
  }

  it("names bad labels", () => {
    expect(() => rocAuc([0.1, 0.2], [1, 1])).toThrow(/both 0 and 1/)
    expect(() => rocAuc([0.1, 0.2], [0, 2])).toThrow(/labels\.1: must be 0 or 1/)
  })
})
