/**
 * Bandit weights, pure: Thompson sampling over the per-arm summaries of the target metric, with
 * a floor so no arm starves, and the burn-in rule that keeps the configured split until every
 * arm has enough samples. Deterministic for a given seed, so a reweighting can be reproduced.
 */
import { makeRandom } from "../stats/Random.js"
import { type Summary, variance } from "../stats/Summary.js"
import type { Experiment } from "./Experiment.js"
import { summaryProblem } from "./Results.js"

/** The least share any arm keeps, so a bandit can still notice that an arm improved. */
export const banditFloor = 0.01
/** Posterior draws per reweighting: the weights' Monte Carlo error is about 0.005. */
export const banditDraws = 10_000
/** Samples every arm needs before the first reweighting. */
export const banditBurnIn = 100

/** Whether a summary can only have come from 0/1 values (then M2 = n·p·(1-p) exactly). */
export const looksBinary = (s: Summary): boolean =>
  s.min >= 0 && s.max <= 1 && Math.abs(s.m2 - s.count * s.mean * (1 - s.mean)) <= 1e-9 * Math.max(1, s.count)

/**
 * Thompson sampling: the share of posterior draws in which each arm is best (Beta(1+successes,
 * 1+failures) for 0/1 rewards, Normal(mean, var/n) otherwise), floored at 1% and renormalized.
 * Deterministic for a given seed and round.
 */
export const thompsonWeights = (summaries: ReadonlyArray<Summary>, maximize: boolean, seed: string): Array<number> => {
  const random = makeRandom(seed)
  const wins = new Array<number>(summaries.length).fill(0)
  for (let d = 0; d < banditDraws; d++) {
    let best = -1
    let bestValue = Number.NEGATIVE_INFINITY
    summaries.forEach((s, i) => {
      let draw: number
      if (looksBinary(s)) {
        const successes = Math.round(s.mean * s.count)
        draw = random.beta(1 + successes, 1 + s.count - successes)
      } else {
        const sd = s.count >= 2 ? Math.sqrt(variance(s) / s.count) : 1e6
        draw = random.normal(s.mean, sd > 0 ? sd : 1e-12)
      }
      const value = maximize ? draw : -draw
      if (value > bestValue) {
        bestValue = value
        best = i
      }
    })
    wins[best]!++
  }
  return applyFloor(wins.map((w) => w / banditDraws), banditFloor)
}

/** Raises every weight below `floor` to exactly `floor`, scaling the others to keep the sum 1. */
export const applyFloor = (weights: ReadonlyArray<number>, floor: number): Array<number> => {
  const floored = new Array<boolean>(weights.length).fill(false)
  for (;;) {
    const free = weights.reduce((sum, w, i) => (floored[i] ? sum : sum + w), 0)
    const remaining = 1 - floor * floored.filter(Boolean).length
    const unfloored = weights.filter((_, j) => !floored[j]).length
    const next = weights.map((w, i) => floored[i] ? floor : free > 0 ? (w / free) * remaining : remaining / unfloored)
    const low = next.findIndex((w, i) => !floored[i] && w < floor)
    if (low === -1) return next
    floored[low] = true
  }
}

/**
 * The next bandit weights of an experiment from its per-arm summaries of the target metric, or
 * null during burn-in (the configured split stays). The seed is the experiment's seed and round,
 * so each reweighting draws fresh but reproducible samples.
 */
export const nextBanditWeights = (
  experiment: Pick<Experiment, "seed" | "targetMetric" | "metricGoals" | "banditHistory">,
  summaries: ReadonlyArray<Summary>
): Array<number> | null => {
  if (summaries.some((s) => s.count < banditBurnIn)) return null
  // A summary stored before values were bounded may not be finite: keep the current split then.
  if (summaries.some((s) => summaryProblem(s) !== undefined)) return null
  const maximize = (experiment.metricGoals[experiment.targetMetric]?.direction ?? "maximize") === "maximize"
  return thompsonWeights(summaries, maximize, `${experiment.seed}:${experiment.banditHistory.length}`)
}
