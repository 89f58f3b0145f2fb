/** How a pipeline judges models (learning/Evaluation.ts), directly, without services. */
import { describe, expect, it } from "vitest"
import { type LearnerConfig, makeLearner, type StoredSample } from "../src/index.js"
import {
  evaluateCandidate,
  isHoldout,
  outcomeReason,
  progressiveMetrics,
  score,
  splitHoldout,
  worseBy
} from "../src/learning/Evaluation.js"
import datasets from "./golden/datasets.json" with { type: "json" }

const { x: X, y: Y } = datasets.breastCancer
const stored = (i: number, flip = false): StoredSample => ({
  sampleId: `s${i}`,
  features: Object.fromEntries(X[i]!.map((v, j) => [`x${j}`, v])),
  label: flip ? 1 - Y[i]! : Y[i]!,
  weight: 1,
  receivedAt: "2030-01-01T00:00:00.000Z"
})
const config: LearnerConfig = {
  kind: "logistic",
  optimizer: { type: "sgd", learningRate: 0.05 },
  features: { type: "schema", names: X[0]!.map((_, j) => `x${j}`) }
}
const settings = {
  learningRate: null,
  adaptive: { batchSize: 100, learningRateScale: 1, referenceMetric: null },
  validationMetric: "log_loss" as const,
  degradationTolerance: 0.01
}

describe("metrics", () => {
  const entries = [{ prediction: 0.9, label: 1 }, { prediction: 0.2, label: 0 }, { prediction: 0.6, label: 0 }]

  it("scores accuracy (p >= 0.5 is label 1), clamped log loss and RMSE; null without entries", () => {
    expect(score("accuracy", entries)).toBeCloseTo(2 / 3, 12)
    expect(score("log_loss", entries)).toBeCloseTo(-(Math.log(0.9) + Math.log(0.8) + Math.log(0.4)) / 3, 12)
    expect(score("rmse", entries)).toBeCloseTo(Math.sqrt((0.01 + 0.04 + 0.36) / 3), 12)
    expect(score("log_loss", [{ prediction: 0, label: 1 }])).toBeCloseTo(-Math.log(1e-15), 6)
    expect(score("accuracy", [])).toBeNull()
  })

  it("says how much worse a candidate is, in each metric's direction", () => {
    expect(worseBy("accuracy", 0.8, 0.9)).toBeCloseTo(0.1, 12)
    expect(worseBy("log_loss", 0.4, 0.3)).toBeCloseTo(0.1, 12)
    expect(worseBy("rmse", 1, 2)).toBe(-1)
  })

  it("reports the progressive window per kind: accuracy and log loss, or RMSE", () => {
    expect(progressiveMetrics("logistic", entries)).toMatchObject({ window: 3, rmse: null })
    expect(progressiveMetrics("logistic", entries).accuracy).toBeCloseTo(2 / 3, 12)
    expect(progressiveMetrics("linear", entries)).toMatchObject({ window: 3, accuracy: null, logLoss: null })
    expect(progressiveMetrics("linear", [])).toEqual({ window: 0, accuracy: null, logLoss: null, rmse: null })
  })
})

describe("holdout", () => {
  it("holds out a stable share of sampleIds, the same on every call", () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => `sample-${i}`)
    const share = ids.filter((id) => isHoldout(0.2, id)).length / ids.length
    expect(share).toBeGreaterThan(0.18)
    expect(share).toBeLessThan(0.22)
    expect(ids.filter((id) => isHoldout(0.2, id))).toEqual(ids.filter((id) => isHoldout(0.2, id)))
    expect(ids.some((id) => isHoldout(0, id))).toBe(false)
  })

  it("splits a buffer into samples to train on and samples to validate on", () => {
    const buffer = Array.from({ length: 100 }, (_, i) => stored(i))
    const { holdout, train } = splitHoldout(0.3, buffer)
    expect(train.length + holdout.length).toBe(100)
    expect(holdout.every((s) => isHoldout(0.3, s.sampleId))).toBe(true)
    expect(train.some((s) => isHoldout(0.3, s.sampleId))).toBe(false)
  })
})

describe("candidate check", () => {
  const live = makeLearner(config)
  for (let i = 0; i < 200; i++) live.learn(stored(i))
  const liveState = live.state()
  const validation = Array.from({ length: 100 }, (_, i) => stored(300 + i))

  it("accepts a candidate trained on clean samples, publishing the configured step size", () => {
    const train = Array.from({ length: 100 }, (_, i) => stored(200 + i))
    const outcome = evaluateCandidate({ ...settings, learningRate: 0.02 }, liveState, train, validation)
    expect(outcome.accepted).toBe(true)
    expect(outcome.before).not.toBeNull()
    expect(outcome.publishedState().config).toEqual(liveState.config)
    expect(outcome.publishedState().steps).toBe(liveState.steps + 100)
  })

  it("rejects a candidate trained on flipped labels, naming both metrics", () => {
    const poisoned = Array.from({ length: 100 }, (_, i) => stored(200 + i, true))
    const outcome = evaluateCandidate(settings, liveState, poisoned, validation)
    expect(outcome.accepted).toBe(false)
    expect(outcome.after!).toBeGreaterThan(outcome.before! + 0.01)
    expect(outcomeReason(settings, outcome)).toBe(
      `rejected: holdout log_loss ${outcome.after} is worse than live ${outcome.before} by more than 0.01`
    )
  })

  it("accepts without a validation set, and says so", () => {
    const outcome = evaluateCandidate(settings, liveState, [stored(1)], [])
    expect(outcome).toMatchObject({ accepted: true, before: null, after: null })
    expect(outcomeReason(settings, outcome)).toBe("accepted (no holdout samples to compare)")
  })
})
