/**
 * The Pipelines pages' derivations on plain records: the metric series (records without a
 * snapshot leave no point), the holdout comparisons, the versions a rollback can serve, the state.
 */
import type { Pipeline, PipelineStatus, UpdateRecord } from "@org/ml-sdk"
import { describe, expect, it } from "vitest"
import {
  holdoutComparisons,
  pipelineState,
  progressiveSeries,
  rollbackTargets
} from "../src/sections/pipelines/pipelineView.js"

const pipeline: Pipeline = {
  id: "p",
  name: "p",
  baseModelId: "base",
  liveModelId: "v2",
  kind: "logistic",
  strategy: "mini-batch",
  updateFrequencySeconds: 3600,
  batchSize: 100,
  minSamples: 10,
  maxBufferSize: 1000,
  learningRate: null,
  holdoutShare: 0.2,
  validationMetric: "log_loss",
  degradationTolerance: 0.01,
  monitorId: null,
  adaptive: { batchSize: 100, learningRateScale: 1, referenceMetric: null },
  driftSignal: false,
  acceptedUpdates: 2,
  rejectedUpdates: 1,
  lastUpdateAt: "2026-01-01T03:00:00.000Z",
  lastError: null,
  retryCount: 0,
  nextRetryAt: null,
  createdAt: "2026-01-01T00:00:00.000Z",
  updatedAt: "2026-01-01T03:00:00.000Z",
  revision: 4
}

const record = (id: string, hour: number, fields: Partial<UpdateRecord>): UpdateRecord => ({
  id,
  pipelineId: "p",
  at: `2026-01-01T0${hour}:00:00.000Z`,
  kind: "update",
  accepted: true,
  reason: "",
  trigger: "samples",
  samples: 80,
  metricBefore: 0.6,
  metricAfter: 0.5,
  modelId: null,
  previousModelId: null,
  ...fields
})

const status: PipelineStatus = {
  pipeline,
  counters: { received: 300, duplicates: 0, dropped: 0, processed: 300, buffered: 0 },
  progressive: { window: 300, accuracy: 0.8, logLoss: 0.4, rmse: null },
  updates: [
    // Written by an earlier release: no snapshot.
    record("u1", 1, { modelId: "v1", previousModelId: "base" }),
    record("u2", 2, {
      modelId: "v2",
      previousModelId: "v1",
      progressive: { window: 200, accuracy: 0.7, logLoss: 0.5, rmse: null }
    }),
    record("u3", 3, {
      accepted: false,
      metricAfter: 0.9,
      previousModelId: "v2",
      progressive: { window: 300, accuracy: 0.8, logLoss: 0.4, rmse: null }
    })
  ]
}

describe("pipeline view", () => {
  it("plots one point per record with a snapshot, then the current window", () => {
    const now = new Date("2026-01-01T04:00:00.000Z")
    expect(progressiveSeries(status, "accuracy", now).map((p) => [p.at.toISOString(), p.value, p.source])).toEqual([
      ["2026-01-01T02:00:00.000Z", 0.7, "update"],
      ["2026-01-01T03:00:00.000Z", 0.8, "update"],
      ["2026-01-01T04:00:00.000Z", 0.8, "now"]
    ])
    // A classifier has no RMSE: no points at all, not zeros.
    expect(progressiveSeries(status, "rmse", now)).toEqual([])
  })

  it("compares before and after for judged updates only", () => {
    const rollback = record("r1", 4, { kind: "rollback", metricBefore: null, metricAfter: null })
    expect(holdoutComparisons([...status.updates, rollback]).map((c) => [c.id, c.outcome])).toEqual([
      ["u1", "accepted"],
      ["u2", "accepted"],
      ["u3", "rejected"]
    ])
  })

  it("offers every version the pipeline served except the live one, newest first, ending with the base", () => {
    expect(rollbackTargets(status)).toEqual(["v1", "base"])
    expect(rollbackTargets({ ...status, pipeline: { ...pipeline, liveModelId: "base" } })).toEqual(["v2", "v1"])
  })

  it("names the state: failing before drift before waiting", () => {
    expect(pipelineState(pipeline)).toBe("active")
    expect(pipelineState({ ...pipeline, acceptedUpdates: 0, rejectedUpdates: 0 })).toBe("waiting")
    expect(pipelineState({ ...pipeline, driftSignal: true })).toBe("drift signal")
    expect(pipelineState({ ...pipeline, driftSignal: true, lastError: "registry down" })).toBe("failing")
  })
})
