/**
 * FTRL-Proximal (McMahan et al. 2013, Algorithm 1: alpha, beta, L1, L2). The weights are not
 * kept: each is derived from its z and n when needed, and is exactly 0 while |z| <= L1 (the
 * sparsity L1 buys). The bias is slot `size` of z and n.
 */
import type { Optimizer } from "../LearnerState.js"
import { type OptimizerSetup, type OptimizerStep, plainArray } from "./Optimizer.js"

export const makeFtrl = (o: Extract<Optimizer, { type: "ftrl" }>, setup: OptimizerSetup): OptimizerStep => {
  const { output, size, state } = setup
  const z = new Float64Array(size + 1)
  const n = new Float64Array(size + 1)
  if (state) {
    z.set(state.accumulators.z ?? [])
    n.set(state.accumulators.n ?? [])
  }
  const weight = (i: number): number => {
    const zi = z[i]!
    if (Math.abs(zi) <= o.l1) return 0
    return -(zi - Math.sign(zi) * o.l1) / ((o.beta + Math.sqrt(n[i]!)) / o.alpha + o.l2)
  }
  const step = (i: number, gi: number) => {
    const sigma = (Math.sqrt(n[i]! + gi * gi) - Math.sqrt(n[i]!)) / o.alpha
    z[i]! += gi - sigma * weight(i)
    n[i]! += gi * gi
  }
  return {
    margin: (slots, values, k) => {
      let s = 0
      for (let j = 0; j < k; j++) s += weight(slots[j]!) * values[j]!
      return s + weight(size)
    },
    update: (slots, values, k, m, y, w) => {
      const g = (output(m) - y) * w
      for (let j = 0; j < k; j++) step(slots[j]!, g * values[j]!)
      step(size, g)
    },
    weights: () => {
      const weights = new Float64Array(size)
      for (let i = 0; i < size; i++) if (z[i] !== 0) weights[i] = weight(i)
      return plainArray(weights)
    },
    bias: () => weight(size),
    accumulators: () => ({ z: plainArray(z), n: plainArray(n) })
  }
}
