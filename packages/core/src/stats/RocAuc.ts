/**
 * Area under the ROC curve as the Mann-Whitney statistic (ties count one half, by mid-ranks),
 * and a permutation p-value for it: under "scores do not depend on the label" every assignment
 * of the labels to the scored rows is equally likely, so shuffling the labels with a seeded
 * generator draws from the exact null distribution. Ranks are computed once; each permutation
 * costs one pass.
 */
import { makeRandom } from "./Random.js"
import { invalid } from "./StatsError.js"

/** Mid-ranks (1-based, ties share their average rank) of `scores`. */
export const midRanks = (scores: ArrayLike<number>): Float64Array => {
  const n = scores.length
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!)
  const ranks = new Float64Array(n)
  for (let start = 0; start < n;) {
    let end = start + 1
    while (end < n && scores[order[end]!] === scores[order[start]!]) end++
    const rank = (start + 1 + end) / 2
    for (let k = start; k < end; k++) ranks[order[k]!] = rank
    start = end
  }
  return ranks
}

const checkInputs = (scores: ArrayLike<number>, labels: ArrayLike<number>) => {
  if (scores.length !== labels.length) {
    invalid("labels", `must have one label per score (${scores.length}), got ${labels.length}`)
  }
  let positives = 0
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 0 && labels[i] !== 1) invalid(`labels.${i}`, `must be 0 or 1, got ${labels[i]}`)
    if (!Number.isFinite(scores[i])) invalid(`scores.${i}`, `must be a finite number, got ${scores[i]}`)
    positives += labels[i]!
  }
  if (positives === 0 || positives === labels.length) invalid("labels", "must hold both 0 and 1")
  return positives
}

const aucFromRanks = (ranks: Float64Array, labels: ArrayLike<number>, positives: number) => {
  let rankSum = 0
  for (let i = 0; i < ranks.length; i++) if (labels[i] === 1) rankSum += ranks[i]!
  const negatives = ranks.length - positives
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives)
}

/** ROC AUC of `scores` for binary `labels` (0/1, both present), as sklearn.metrics.roc_auc_score. */
export const rocAuc = (scores: ArrayLike<number>, labels: ArrayLike<number>): number =>
  aucFromRanks(midRanks(scores), labels, checkInputs(scores, labels))

export interface AucPermutationTest {
  readonly auc: number
  /** (1 + #{permuted AUC >= AUC}) / (1 + permutations): never 0, exact in level. */
  readonly pValue: number
  readonly permutations: number
}

/** The AUC and its one-sided permutation p-value (labels shuffled `permutations` times, seeded). */
export const aucPermutationTest = (
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  permutations: number,
  seed: number | string
): AucPermutationTest => {
  if (!Number.isInteger(permutations) || permutations < 1) {
    invalid("permutations", `must be a positive integer, got ${permutations}`)
  }
  const positives = checkInputs(scores, labels)
  const ranks = midRanks(scores)
  const auc = aucFromRanks(ranks, labels, positives)
  const random = makeRandom(seed)
  const shuffled = Float64Array.from(labels)
  let atLeast = 0
  for (let r = 0; r < permutations; r++) {
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(random.uniform() * (i + 1))
      const swap = shuffled[i]!
      shuffled[i] = shuffled[j]!
      shuffled[j] = swap
    }
    // A relative tolerance so a permutation equal to the observed AUC up to rounding counts as ">=".
    if (aucFromRanks(ranks, shuffled, positives) >= auc - 1e-12) atLeast++
  }
  return { auc, pValue: (1 + atLeast) / (1 + permutations), permutations }
}
