/**
 * What the Pipelines pages derive from the records, as plain functions: the URLs, a pipeline's
 * state in one word, the strategy in words, the metric series the charts plot, and the versions a
 * rollback can return to.
 */
import type { Pipeline, PipelineStatus, UpdateRecord } from "@org/ml-sdk"

export const pipelineListHref = "/pipelines"
export const pipelineHref = (id: string): string => `/pipelines/${encodeURIComponent(id)}`
export const updateHref = (pipelineId: string, updateId: string): string =>
  `${pipelineHref(pipelineId)}/updates/${encodeURIComponent(updateId)}`
/** Versions of a pipeline share the base model's name, which the Models section's URLs start with. */
export const modelHref = (modelName: string, modelId: string): string =>
  `/models/${encodeURIComponent(modelName)}/${encodeURIComponent(modelId)}`

export type PipelineState = "failing" | "drift signal" | "waiting" | "active"

/**
 * One word for where a pipeline stands: its last update attempt failed (retried), a drift alert
 * awaits the next update, no update has run yet, or it is updating normally.
 */
export const pipelineState = (p: Pipeline): PipelineState =>
  p.lastError !== null
    ? "failing"
    : p.driftSignal
    ? "drift signal"
    : p.acceptedUpdates + p.rejectedUpdates === 0
    ? "waiting"
    : "active"

export const stateTone: Record<PipelineState, string> = {
  failing: "bad",
  "drift signal": "warn",
  waiting: "muted",
  active: "good"
}

/** When the strategy updates, in words (Strategy.ts has the rules). */
export const strategyRule = (p: Pipeline): string => {
  switch (p.strategy) {
    case "incremental":
      return "on every batch of samples"
    case "mini-batch":
      return `every ${p.batchSize} samples`
    case "periodic":
      return `every ${p.updateFrequencySeconds} s once ${p.minSamples} samples are buffered`
    case "adaptive":
      return `at ${p.adaptive.batchSize} samples (now), on drift or degradation, or every ` +
        `${3 * p.updateFrequencySeconds} s; learning-rate scale ${p.adaptive.learningRateScale}`
  }
}

export const metricLabel: Record<Pipeline["validationMetric"], string> = {
  accuracy: "accuracy",
  log_loss: "log loss",
  rmse: "RMSE"
}

/** Whether a lower value of the metric is better (loss, error) or a higher one (accuracy). */
export const lowerIsBetter = (metric: Pipeline["validationMetric"]): boolean => metric !== "accuracy"

export type ProgressiveKey = "accuracy" | "logLoss" | "rmse"

/** The progressive metrics a pipeline reports: accuracy and log loss for a classifier, RMSE for a regressor. */
export const progressiveKeys = (p: Pipeline): ReadonlyArray<{ readonly key: ProgressiveKey; readonly label: string }> =>
  p.kind === "logistic"
    ? [{ key: "accuracy", label: "accuracy" }, { key: "logLoss", label: "log loss" }]
    : [{ key: "rmse", label: "RMSE" }]

export interface MetricPoint {
  readonly at: Date
  readonly value: number
  /** What the point comes from: an update record, a rollback record, or the current window. */
  readonly source: "update" | "rollback" | "now"
  readonly window: number
}

/**
 * The progressive metric over time: one point per record that carries a snapshot (records from
 * before snapshots existed have none), and the current window at `now`.
 */
export const progressiveSeries = (status: PipelineStatus, key: ProgressiveKey, now: Date): Array<MetricPoint> => {
  const points: Array<MetricPoint> = []
  for (const record of status.updates) {
    const value = record.progressive?.[key]
    if (value === null || value === undefined) continue
    points.push({ at: new Date(record.at), value, source: record.kind, window: record.progressive!.window })
  }
  const current = status.progressive[key]
  if (current !== null && status.progressive.window > 0) {
    points.push({ at: now, value: current, source: "now", window: status.progressive.window })
  }
  return points
}

export interface UpdateComparison {
  readonly id: string
  readonly at: Date
  readonly before: number
  readonly after: number
  readonly outcome: "accepted" | "rejected"
}

/** The updates whose candidate was compared with the live model on holdout samples. */
export const holdoutComparisons = (updates: ReadonlyArray<UpdateRecord>): Array<UpdateComparison> =>
  updates.flatMap((u) =>
    u.kind === "update" && u.metricBefore !== null && u.metricAfter !== null
      ? [{
        id: u.id,
        at: new Date(u.at),
        before: u.metricBefore,
        after: u.metricAfter,
        outcome: u.accepted ? "accepted" as const : "rejected" as const
      }]
      : []
  )

/** accepted, rejected or rollback: what a record did, in one word. */
export const recordOutcome = (u: UpdateRecord): "accepted" | "rejected" | "rollback" =>
  u.kind === "rollback" ? "rollback" : u.accepted ? "accepted" : "rejected"

/**
 * Versions a rollback can serve again, newest first: those the pipeline published or served
 * (from its records) and the base model, except the live one.
 */
export const rollbackTargets = (status: PipelineStatus): Array<string> => {
  const seen = new Set<string>([status.pipeline.liveModelId])
  const targets: Array<string> = []
  const add = (id: string | null) => {
    if (id === null || seen.has(id)) return
    seen.add(id)
    targets.push(id)
  }
  for (const record of [...status.updates].reverse()) {
    add(record.modelId)
    add(record.previousModelId)
  }
  add(status.pipeline.baseModelId)
  return targets
}
