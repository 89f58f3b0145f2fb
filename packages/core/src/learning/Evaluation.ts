/**
 * How a pipeline judges models, as plain functions: the validation metrics over (prediction,
 * label) pairs, the progressive metrics of the live model, the deterministic holdout split, and
 * the candidate check of an update: train a candidate from the live state on the buffered
 * samples, score candidate and live model on the rolling validation set, accept the candidate
 * unless it is worse beyond the tolerance.
 */
import { fnv1a32 } from "../experiments/Assignment.js"
import { loadLearner } from "./learners/Learner.js"
import { type LearnerKind, type LearnerState, withStepScale } from "./learners/LearnerState.js"
import type { Pipeline, ProgressiveMetrics, ValidationMetric } from "./Pipeline.js"
import type { ProgressiveEntry, StoredSample } from "./Samples.js"

/**
 * One entry's loss under the metric, higher is worse: the 0/1 error for accuracy (p >= 0.5 counts
 * as label 1), the log loss, or the squared error for rmse.
 */
export const entryLoss = (metric: ValidationMetric, { label: y, prediction: p }: ProgressiveEntry): number => {
  if (metric === "accuracy") return (p >= 0.5) === (y === 1) ? 0 : 1
  if (metric === "log_loss") {
    const q = Math.min(1 - 1e-15, Math.max(1e-15, p))
    return -(y * Math.log(q) + (1 - y) * Math.log(1 - q))
  }
  return (p - y) ** 2
}

/** The metric over the entries; null without entries. */
export const score = (metric: ValidationMetric, entries: ReadonlyArray<ProgressiveEntry>): number | null => {
  if (entries.length === 0) return null
  let sum = 0
  for (const entry of entries) sum += entryLoss(metric, entry)
  const n = entries.length
  // Errors are counted exactly, so accuracy is (n - errors) / n with one rounding.
  return metric === "accuracy" ? (n - sum) / n : metric === "rmse" ? Math.sqrt(sum / n) : sum / n
}

/** How much worse `candidate` is than `reference` (> 0: worse). Higher accuracy is better; lower loss is. */
export const worseBy = (metric: ValidationMetric, candidate: number, reference: number): number =>
  metric === "accuracy" ? reference - candidate : candidate - reference

/** The status view of the progressive window: accuracy and log loss for a classifier, RMSE for a regressor. */
export const progressiveMetrics = (
  kind: LearnerKind,
  entries: ReadonlyArray<ProgressiveEntry>
): ProgressiveMetrics => ({
  window: entries.length,
  accuracy: kind === "logistic" ? score("accuracy", entries) : null,
  logLoss: kind === "logistic" ? score("log_loss", entries) : null,
  rmse: kind === "linear" ? score("rmse", entries) : null
})

/** Whether a sample is held out for validation: a fixed share of sampleIds, by hash, on every instance. */
export const isHoldout = (holdoutShare: number, sampleId: string): boolean =>
  (fnv1a32(sampleId) % 1000) < Math.round(holdoutShare * 1000)

/** The buffered samples to train on and those that join the validation set. */
export const splitHoldout = (holdoutShare: number, buffer: ReadonlyArray<StoredSample>) => ({
  train: buffer.filter((s) => !isHoldout(holdoutShare, s.sampleId)),
  holdout: buffer.filter((s) => isHoldout(holdoutShare, s.sampleId))
})

export interface CandidateOutcome {
  readonly accepted: boolean
  /** The live model's metric on the validation set (null when the set is empty). */
  readonly before: number | null
  /** The candidate's metric on the validation set. */
  readonly after: number | null
  /**
   * The candidate's state to publish, with the configured step size (the adaptive scale is
   * transient); made on demand, as it copies every weight.
   */
  readonly publishedState: () => LearnerState
}

/**
 * Trains a candidate from the live state on `train` (with the adaptive learning-rate scale) and
 * judges it against the live model on `validation`.
 */
export const evaluateCandidate = (
  p: Pick<Pipeline, "learningRate" | "adaptive" | "validationMetric" | "degradationTolerance">,
  liveState: LearnerState,
  train: ReadonlyArray<StoredSample>,
  validation: ReadonlyArray<StoredSample>
): CandidateOutcome => {
  const candidate = loadLearner(withStepScale(liveState, p.learningRate, p.adaptive.learningRateScale))
  for (const s of train) candidate.learn({ features: s.features, label: s.label, weight: s.weight })
  const live = loadLearner(liveState)
  const before = score(
    p.validationMetric,
    validation.map((s) => ({ prediction: live.predict(s.features), label: s.label }))
  )
  const after = score(
    p.validationMetric,
    validation.map((s) => ({ prediction: candidate.predict(s.features), label: s.label }))
  )
  const accepted = before === null || after === null ||
    worseBy(p.validationMetric, after, before) <= p.degradationTolerance
  return { accepted, before, after, publishedState: () => ({ ...candidate.state(), config: liveState.config }) }
}

/** The reason an update record gives for accepting or rejecting its candidate. */
export const outcomeReason = (
  p: Pick<Pipeline, "validationMetric" | "degradationTolerance">,
  outcome: Pick<CandidateOutcome, "accepted" | "before" | "after">
): string =>
  outcome.accepted
    ? (outcome.before === null
      ? "accepted (no holdout samples to compare)"
      : `accepted: holdout ${p.validationMetric} ${outcome.after} vs live ${outcome.before}`)
    : `rejected: holdout ${p.validationMetric} ${outcome.after} is worse than live ${outcome.before}` +
      ` by more than ${p.degradationTolerance}`
