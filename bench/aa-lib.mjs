/**
 * What the simulated A/A benches share (aa-false-positives, aa-breakdowns, aa-guardrail-pauses):
 * two registered model versions to compare, and the 95% Wilson interval their tables print.
 */
import { Effect } from "effect"

/** Registers versions "1" and "2" of `name` in the in-memory registry (promoted to `status` when given); their ids. */
export const twoModelVersions = (registry, name, status) =>
  Effect.gen(function*() {
    const ids = []
    for (const version of ["1", "2"]) {
      const model = yield* registry.registerModel(
        { name, version, algorithm: "a", framework: "f" },
        new Blob([new Uint8Array([Number(version)])]).stream()
      )
      if (status !== undefined) yield* registry.promoteModel(model.id, status)
      ids.push(model.id)
    }
    return ids
  })

/** Wilson score interval (95%) of a proportion k / n. */
export const wilson = (k, n) => {
  const z = 1.959963984540054
  const p = k / n
  const centre = (p + (z * z) / (2 * n)) / (1 + (z * z) / n)
  const half = (z / (1 + (z * z) / n)) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))
  return [Math.max(0, centre - half), Math.min(1, centre + half)]
}

export const pct = (x) => `${(100 * x).toFixed(1)}%`
