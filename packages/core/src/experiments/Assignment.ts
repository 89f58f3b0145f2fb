/**
 * Deterministic bucketing compatible with GrowthBook's SDKs: the same seed, user id, weights
 * and coverage put a user in the same variation a GrowthBook SDK would. Hash version 2 is
 * FNV-1a 32-bit applied twice, hash(seed + value) then hash of its decimal string, mod 10000;
 * version 1 (kept for compatibility) is FNV-1a of value + seed mod 1000.
 *
 * This module imports nothing at run time (exported alone as @org/ml-core/assignment), so the
 * SDK's local evaluation assigns users in process with exactly the server's rules.
 */
import type { Experiment } from "./Experiment.js"

/** A variation's share of the hash space, [start, end). */
export type BucketRange = readonly [number, number]

/** FNV-1a 32-bit over UTF-16 code units (as GrowthBook's hashFnv32a). */
export const fnv1a32 = (text: string): number => {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}

/** GrowthBook's hash: a number in [0, 1), or null for an unknown version. */
export const hash = (seed: string, value: string, version: number): number | null => {
  if (version === 2) return (fnv1a32(String(fnv1a32(seed + value))) % 10000) / 10000
  if (version === 1) return (fnv1a32(value + seed) % 1000) / 1000
  return null
}

export const getEqualWeights = (numVariations: number): Array<number> =>
  numVariations <= 0 ? [] : new Array<number>(numVariations).fill(1 / numVariations)

/**
 * Bucket ranges for `numVariations` with traffic `weights` (summing to ~1, else equal weights)
 * and `coverage` (clamped to [0, 1]): variation i gets [start_i, start_i + coverage·w_i), where
 * start_i is the sum of the previous weights, so lowering coverage never moves a user between
 * variations, it only leaves some out.
 */
export const getBucketRanges = (
  numVariations: number,
  coverage = 1,
  weights?: ReadonlyArray<number> | null
): Array<BucketRange> => {
  const clamped = coverage < 0 ? 0 : coverage > 1 ? 1 : coverage
  const equal = getEqualWeights(numVariations)
  let w: ReadonlyArray<number> = weights ?? equal
  if (w.length !== numVariations) w = equal
  const total = w.reduce((sum, x) => sum + x, 0)
  if (total < 0.99 || total > 1.01) w = equal
  let cumulative = 0
  return w.map((weight) => {
    const start = cumulative
    cumulative += weight
    return [start, start + clamped * weight] as const
  })
}

/** Index of the range holding n, or -1 (outside coverage). */
export const chooseVariation = (n: number, ranges: ReadonlyArray<BucketRange>): number => {
  for (let i = 0; i < ranges.length; i++) {
    const [start, end] = ranges[i]!
    if (n >= start && n < end) return i
  }
  return -1
}

/** Whether a user id falls in a namespace range [start, end) (GrowthBook's inNamespace). */
export const inNamespace = (userId: string, namespace: readonly [string, number, number]): boolean => {
  const n = hash(`__${namespace[0]}`, userId, 1)
  return n !== null && n >= namespace[1] && n < namespace[2]
}

/** Share of traffic per variant: bandit weights when there are some, else the configured split. */
export const currentWeights = (
  experiment: Pick<Experiment, "mode" | "banditHistory" | "variants">
): ReadonlyArray<number> =>
  experiment.mode === "bandit" && experiment.banditHistory.length > 0
    ? experiment.banditHistory[experiment.banditHistory.length - 1]!.weights
    : experiment.variants.map((v) => v.trafficPct / 100)

/** The variant index a user hashes to in an experiment, or -1 outside its coverage. */
export const bucketUser = (
  experiment: Pick<Experiment, "seed" | "coverage" | "mode" | "banditHistory" | "variants">,
  userId: string
): number =>
  chooseVariation(
    hash(experiment.seed, userId, 2)!,
    getBucketRanges(experiment.variants.length, experiment.coverage, currentWeights(experiment))
  )

/**
 * bucketUser with the bucket ranges computed once: for hot paths that assign many users to one
 * experiment version (the SDK's local evaluation, benchmarks).
 */
export const makeAssigner = (
  experiment: Pick<Experiment, "seed" | "coverage" | "mode" | "banditHistory" | "variants">
): (userId: string) => number => {
  const ranges = getBucketRanges(experiment.variants.length, experiment.coverage, currentWeights(experiment))
  const seed = experiment.seed
  return (userId) => chooseVariation(hash(seed, userId, 2)!, ranges)
}
