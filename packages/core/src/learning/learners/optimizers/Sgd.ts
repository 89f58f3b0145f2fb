/**
 * Stochastic gradient descent with a constant or inverse-scaling learning rate (scikit-learn's
 * "constant" and "invscaling": eta / t^powerT), on log loss or squared loss alike: the gradient
 * with respect to the margin is (output - y) x weight.
 */
import type { Optimizer } from "../LearnerState.js"
import { linearMargin, linearWeights, type OptimizerSetup, type OptimizerStep, plainArray } from "./Optimizer.js"

export const makeSgd = (o: Extract<Optimizer, { type: "sgd" }>, setup: OptimizerSetup): OptimizerStep => {
  const { bias, weights } = linearWeights(setup)
  const { output } = setup
  const invScaling = o.schedule === "invscaling"
  return {
    margin: (slots, values, k) => linearMargin(weights, bias, slots, values, k),
    update: (slots, values, k, m, y, w, step) => {
      const g = (output(m) - y) * w
      const eta = invScaling ? o.learningRate / Math.pow(step, o.powerT ?? 0.25) : o.learningRate
      const delta = eta * g
      for (let j = 0; j < k; j++) weights[slots[j]!]! -= delta * values[j]!
      bias[0]! -= delta
    },
    weights: () => plainArray(weights),
    bias: () => bias[0]!,
    accumulators: () => ({})
  }
}
