/**
 * Mirror of make_sample in generate.py: the same 32-bit LCG and exact arithmetic, so scipy and
 * these tests see bit-identical samples.
 */
export interface SampleSpec {
  readonly seed: number
  readonly n: number
  readonly kind: "uniform" | "irwin" | "grid"
  readonly loc: number
  readonly scale: number
  readonly levels: number
}

export const makeSample = (spec: SampleSpec): Float64Array => {
  let state = spec.seed >>> 0
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 4294967296
  }
  const out = new Float64Array(spec.n)
  for (let i = 0; i < spec.n; i++) {
    if (spec.kind === "uniform") out[i] = spec.loc + spec.scale * next()
    else if (spec.kind === "irwin") out[i] = spec.loc + spec.scale * (next() + next() + next() + next() - 2)
    else out[i] = spec.loc + spec.scale * Math.floor(next() * spec.levels)
  }
  return out
}
