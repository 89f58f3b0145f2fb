/**
 * Draws that must be bit-identical in every runtime. samplers.json holds them as recorded once
 * (record-samplers.ts, run with Deno); the same test runs under Node, Deno and Bun and compares
 * them exactly, so any engine-dependent arithmetic in the samplers would fail it.
 */
import { makeRandom } from "../../src/index.js"

export const samplerDraws = () =>
  [7, 2026, "experiment-42"].map((seed) => {
    const random = makeRandom(seed)
    const take = (draw: () => number) => {
      const first = Array.from({ length: 5 }, draw)
      let last = 0
      for (let i = 0; i < 5000; i++) last = draw()
      return { first, last }
    }
    return {
      seed,
      uniform: take(random.uniform),
      normal: take(() => random.normal()),
      gammaSmallShape: take(() => random.gamma(0.3)),
      gamma: take(() => random.gamma(4.5, 2)),
      beta: take(() => random.beta(2, 7))
    }
  })
