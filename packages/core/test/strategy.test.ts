/** The update strategies of a pipeline (learning/Strategy.ts), directly, without services. */
import { describe, expect, it } from "vitest"
import type { Pipeline } from "../src/index.js"
import { score } from "../src/learning/Evaluation.js"
import {
  adaptAfterUpdate,
  ADAPTIVE_METRIC_WINDOW,
  afterFailedUpdate,
  afterUpdate,
  isDegraded,
  isUpdateDue,
  lossChanges,
  retryDelaySeconds,
  type UpdateSituation
} from "../src/learning/Strategy.js"
import { makeRandom, type Random } from "../src/stats/Random.js"
import { samplePipeline } from "../src/testing/index.js"

const created = Date.UTC(2030, 0, 1)
const pipeline = (overrides: Partial<Pipeline> = {}): Pipeline =>
  samplePipeline({
    createdAt: new Date(created).toISOString(),
    batchSize: 50,
    minSamples: 10,
    maxBufferSize: 1000,
    updateFrequencySeconds: 600,
    adaptive: { batchSize: 50, learningRateScale: 1, referenceMetric: null },
    ...overrides
  })
const at = (seconds: number, situation: Partial<UpdateSituation> = {}): UpdateSituation => ({
  trigger: "samples",
  buffered: 0,
  nowMs: created + seconds * 1000,
  progressiveMetric: null,
  degraded: false,
  ...situation
})

describe("when each strategy updates", () => {
  it("incremental: on every recorded batch, not on the scheduler's clock", () => {
    const p = pipeline({ strategy: "incremental" })
    expect(isUpdateDue(p, at(0, { buffered: 1 }))).toBe(true)
    expect(isUpdateDue(p, at(0, { buffered: 0 }))).toBe(false)
    expect(isUpdateDue(p, at(10_000, { buffered: 5, trigger: "schedule" }))).toBe(false)
  })

  it("mini-batch: once batchSize samples are buffered, whatever the trigger", () => {
    const p = pipeline({ strategy: "mini-batch" })
    expect(isUpdateDue(p, at(0, { buffered: 49 }))).toBe(false)
    expect(isUpdateDue(p, at(0, { buffered: 50 }))).toBe(true)
    expect(isUpdateDue(p, at(0, { buffered: 50, trigger: "schedule" }))).toBe(true)
  })

  it("periodic: every updateFrequencySeconds since the last update (or creation), with minSamples", () => {
    const p = pipeline({ strategy: "periodic" })
    expect(isUpdateDue(p, at(599, { buffered: 100 }))).toBe(false)
    expect(isUpdateDue(p, at(600, { buffered: 9 }))).toBe(false)
    expect(isUpdateDue(p, at(600, { buffered: 10, trigger: "schedule" }))).toBe(true)
    const updated = { ...p, lastUpdateAt: new Date(created + 600_000).toISOString() }
    expect(isUpdateDue(updated, at(900, { buffered: 10 }))).toBe(false)
    expect(isUpdateDue(updated, at(1200, { buffered: 10 }))).toBe(true)
  })

  it("adaptive: on drift, degradation, its batch size or a slow cadence, never below minSamples", () => {
    const p = pipeline({ strategy: "adaptive", degradationTolerance: 0.01, validationMetric: "log_loss" })
    expect(isUpdateDue(p, at(0, { buffered: 20 }))).toBe(false)
    expect(isUpdateDue({ ...p, driftSignal: true }, at(0, { buffered: 10 }))).toBe(true)
    expect(isUpdateDue({ ...p, driftSignal: true }, at(0, { buffered: 9 }))).toBe(false)
    expect(isUpdateDue(p, at(0, { buffered: 10, degraded: true }))).toBe(true)
    expect(isUpdateDue(p, at(0, { buffered: 9, degraded: true }))).toBe(false)
    expect(isUpdateDue(p, at(0, { buffered: 50 }))).toBe(true)
    expect(isUpdateDue(p, at(1799, { buffered: 10, trigger: "schedule" }))).toBe(false)
    expect(isUpdateDue(p, at(1800, { buffered: 10, trigger: "schedule" }))).toBe(true)
  })

  it("manual updates need samples only; retries wait for nextRetryAt", () => {
    const p = pipeline({ strategy: "periodic" })
    expect(isUpdateDue(p, at(0, { buffered: 1, trigger: "manual" }))).toBe(true)
    expect(isUpdateDue(p, at(0, { buffered: 0, trigger: "manual" }))).toBe(false)
    const failed = { ...p, nextRetryAt: new Date(created + 4000).toISOString() }
    expect(isUpdateDue(failed, at(3, { buffered: 1, trigger: "retry" }))).toBe(false)
    expect(isUpdateDue(failed, at(4, { buffered: 1, trigger: "retry" }))).toBe(true)
    expect(isUpdateDue(failed, at(4, { buffered: 0, trigger: "retry" }))).toBe(false)
  })
})

describe("the adaptive rule", () => {
  /** `n` progressive entries of a classifier whose predictions are wrong with probability `errorRate`. */
  const entries = (random: Random, n: number, errorRate: number) =>
    Array.from({ length: n }, () => {
      const label = random.uniform() < 0.5 ? 1 : 0
      const wrong = random.uniform() < errorRate
      const confidence = 0.6 + 0.3 * random.uniform()
      return { label, prediction: (label === 1) !== wrong ? confidence : 1 - confidence }
    })

  it("finds a rise of the loss among the entries scored since the last update (ADWIN)", () => {
    const random = makeRandom("adaptive-rise")
    const stream = [...entries(random, 600, 0.1), ...entries(random, 300, 0.4)]
    for (const metric of ["accuracy", "log_loss"] as const) {
      expect(isDegraded(metric, stream, 300)).toBe(true)
      // A change signalled before the last update (here 150 entries ago) was acted on already.
      expect(isDegraded(metric, stream, 150)).toBe(false)
      const [change] = lossChanges(metric, stream)
      expect(change!.at).toBeGreaterThanOrEqual(600)
      expect(change!.at).toBeLessThan(750)
      expect(change!.lossAfter).toBeGreaterThan(change!.lossBefore)
    }
  })

  it("does not count a fall of the loss (an update taking effect) as degradation", () => {
    const random = makeRandom("adaptive-fall")
    const stream = [...entries(random, 600, 0.4), ...entries(random, 300, 0.1)]
    expect(lossChanges("accuracy", stream).length).toBeGreaterThan(0)
    expect(isDegraded("accuracy", stream, 300)).toBe(false)
  })

  it("stays quiet on a stationary stream where the fixed tolerance rule fired on noise", () => {
    const random = makeRandom("adaptive-stationary")
    const stream = entries(random, 1000, 0.15)
    let fixedRuleAlarms = 0
    let adwinAlarms = 0
    for (let end = 250; end <= 1000; end += 50) {
      const seen = stream.slice(0, end)
      // The rule this replaces: the last 200 entries' accuracy below the reference (the first
      // 50 entries' accuracy, standing for the holdout metric at the last update) by > 0.01.
      const reference = score("accuracy", seen.slice(0, 50))!
      if (reference - score("accuracy", seen.slice(-ADAPTIVE_METRIC_WINDOW))! > 0.01) fixedRuleAlarms++
      if (isDegraded("accuracy", seen, end - 50)) adwinAlarms++
    }
    expect(fixedRuleAlarms).toBeGreaterThan(0)
    expect(adwinAlarms).toBe(0)
  })

  it("halves the batch (not below minSamples) and raises the scale x1.5 (at most 4) after drift", () => {
    const p = pipeline({ minSamples: 10, adaptive: { batchSize: 50, learningRateScale: 3, referenceMetric: null } })
    expect(adaptAfterUpdate(p, true, 0.4)).toEqual({ batchSize: 25, learningRateScale: 4, referenceMetric: 0.4 })
    const small = { ...p, adaptive: { ...p.adaptive, batchSize: 15 } }
    expect(adaptAfterUpdate(small, true, null).batchSize).toBe(10)
  })

  it("grows the batch x1.5 (at most maxBufferSize / 2) and relaxes the scale toward 1 while stable", () => {
    const p = pipeline({
      maxBufferSize: 100,
      adaptive: { batchSize: 40, learningRateScale: 1.2, referenceMetric: 0.5 }
    })
    expect(adaptAfterUpdate(p, false, 0.45)).toEqual({ batchSize: 50, learningRateScale: 1, referenceMetric: 0.45 })
    const wide = { ...p, maxBufferSize: 1000, adaptive: { ...p.adaptive, learningRateScale: 3 } }
    expect(adaptAfterUpdate(wide, false, 0.45)).toMatchObject({ batchSize: 60, learningRateScale: 2 })
  })
})

describe("retry timing and the record after an update", () => {
  it("waits 1, 2, 4, ... seconds after each failure, at most 5 minutes", () => {
    expect([0, 1, 2, 3, 8, 9, 20].map(retryDelaySeconds)).toEqual([1, 2, 4, 8, 256, 300, 300])
  })

  it("records the error and schedules the next attempt", () => {
    const p = pipeline({ retryCount: 2 })
    const failed = afterFailedUpdate(p, "registry down", "2030-01-01T00:00:10.000Z")
    expect(failed).toMatchObject({ lastError: "registry down", retryCount: 3, nextRetryAt: "2030-01-01T00:00:14.000Z" })
  })

  it("counts the update, serves the published version, clears retries and consumes the drift signal", () => {
    const p = pipeline({
      strategy: "adaptive",
      driftSignal: true,
      retryCount: 2,
      lastError: "x",
      nextRetryAt: "2030-01-01T00:00:00.000Z"
    })
    const at = "2030-01-01T01:00:00.000Z"
    const next = afterUpdate(p, { accepted: true, modelId: "01ARZ3NDEKTSV4RRFFQ69G5FAW", metricAfter: 0.2 }, at, {
      degradedOrDrift: true,
      progressiveMetric: 0.3
    })
    expect(next).toMatchObject({
      liveModelId: "01ARZ3NDEKTSV4RRFFQ69G5FAW",
      acceptedUpdates: 1,
      rejectedUpdates: 0,
      lastUpdateAt: at,
      lastError: null,
      retryCount: 0,
      nextRetryAt: null,
      driftSignal: false,
      adaptive: { batchSize: 25, learningRateScale: 1.5, referenceMetric: 0.2 }
    })
    const rejected = afterUpdate(pipeline(), { accepted: false, modelId: null, metricAfter: 0.9 }, at, {
      degradedOrDrift: false,
      progressiveMetric: null
    })
    expect(rejected).toMatchObject({ liveModelId: pipeline().liveModelId, rejectedUpdates: 1 })
    expect(rejected.adaptive).toEqual(pipeline().adaptive) // only the adaptive strategy adapts
  })
})
