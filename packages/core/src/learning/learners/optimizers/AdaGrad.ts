/**
 * AdaGrad (Duchi et al. 2011): per-slot learning rates, learningRate / (sqrt(sum of squared
 * gradients) + epsilon); the bias has its own sum, stored as the last accumulator entry.
 */
import type { Optimizer } from "../LearnerState.js"
import { linearMargin, linearWeights, type OptimizerSetup, type OptimizerStep, plainArray } from "./Optimizer.js"

export const makeAdaGrad = (o: Extract<Optimizer, { type: "adagrad" }>, setup: OptimizerSetup): OptimizerStep => {
  const { bias, weights } = linearWeights(setup)
  const { output, size, state } = setup
  const g2 = new Float64Array(size + 1)
  if (state) g2.set(state.accumulators.g2 ?? [])
  const eps = o.epsilon ?? 1e-8
  return {
    margin: (slots, values, k) => linearMargin(weights, bias, slots, values, k),
    update: (slots, values, k, m, y, w) => {
      const g = (output(m) - y) * w
      for (let j = 0; j < k; j++) {
        const i = slots[j]!
        const gi = g * values[j]!
        g2[i]! += gi * gi
        weights[i]! -= (o.learningRate * gi) / (Math.sqrt(g2[i]!) + eps)
      }
      g2[size]! += g * g
      bias[0]! -= (o.learningRate * g) / (Math.sqrt(g2[size]!) + eps)
    },
    weights: () => plainArray(weights),
    bias: () => bias[0]!,
    accumulators: () => ({ g2: plainArray(g2) })
  }
}
