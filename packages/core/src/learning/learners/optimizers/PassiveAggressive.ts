/**
 * Passive-Aggressive classification (Crammer et al. 2006), PA-I and PA-II: on a hinge loss, the
 * smallest step that fixes the sample (PA-I capped at C, PA-II softened by 1 / 2C), with the bias
 * counted in the norm. Labels 0/1 are taken as -1/+1.
 */
import type { Optimizer } from "../LearnerState.js"
import { linearMargin, linearWeights, type OptimizerSetup, type OptimizerStep, plainArray } from "./Optimizer.js"

export const makePassiveAggressive = (
  o: Extract<Optimizer, { type: "pa" }>,
  setup: OptimizerSetup
): OptimizerStep => {
  const { bias, weights } = linearWeights(setup)
  return {
    margin: (slots, values, k) => linearMargin(weights, bias, slots, values, k),
    update: (slots, values, k, m, y, w) => {
      const ys = y === 1 ? 1 : -1
      const loss = Math.max(0, 1 - ys * m)
      if (loss === 0) return
      let sqnorm = 1 // the bias input
      for (let j = 0; j < k; j++) sqnorm += values[j]! * values[j]!
      const C = o.C * w
      const tau = o.variant === "PA-I" ? Math.min(C, loss / sqnorm) : loss / (sqnorm + 1 / (2 * C))
      for (let j = 0; j < k; j++) weights[slots[j]!]! += tau * ys * values[j]!
      bias[0]! += tau * ys
    },
    weights: () => plainArray(weights),
    bias: () => bias[0]!,
    accumulators: () => ({})
  }
}
