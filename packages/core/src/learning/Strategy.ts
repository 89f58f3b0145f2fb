/**
 * The update strategies of a pipeline, as plain rules over the pipeline record, the number of
 * buffered samples, the time and the progressive metric.
 *
 * Incremental updates on every recorded batch; mini-batch when batchSize samples are buffered;
 * periodic every updateFrequencySeconds once minSamples are buffered; adaptive updates when a
 * drift alert arrived for its monitor, when ADWIN (River's defaults) finds that the live model's
 * per-sample loss rose in the progressive stream since the last update, when its current batch
 * size is reached, or on a slow cadence (3 x updateFrequencySeconds). After a degradation or
 * drift, adaptive halves its batch size (not below minSamples) and raises its learning-rate scale
 * x1.5 (at most 4); while stable it grows the batch x1.5 (at most maxBufferSize / 2) and relaxes
 * the scale back toward 1.
 * Time-based rules count from the last update, or from creation before the first one. A failed
 * update is retried after 1, 2, 4, ... seconds (at most 5 minutes): the time of the next attempt
 * is stored on the pipeline, so any instance's scheduler takes it up, also after a restart.
 */
import { makeAdwin } from "../drift/streaming/Adwin.js"
import { entryLoss } from "./Evaluation.js"
import type { AdaptiveState, Pipeline, UpdateTrigger, ValidationMetric } from "./Pipeline.js"
import type { ProgressiveEntry } from "./Samples.js"

/** The progressive metric kept as the adaptive reference is that of the last 200 entries. */
export const ADAPTIVE_METRIC_WINDOW = 200

/** A change ADWIN found in a loss stream: where, and the mean loss before and after it. */
export interface LossChange {
  /** The index of the entry at which the change was signalled. */
  readonly at: number
  readonly lossBefore: number
  readonly lossAfter: number
}

/**
 * The changes ADWIN (River's defaults) signals in the per-entry losses of `entries`, oldest
 * first. At each, "after" is ADWIN's kept window and "before" the rest of the stream since the
 * previous change (ADWIN starts afresh after each). The state is derived from the stored
 * progressive window on every check, so no detector state needs storing.
 */
export const lossChanges = (
  metric: ValidationMetric,
  entries: ReadonlyArray<ProgressiveEntry>
): Array<LossChange> => {
  const adwin = makeAdwin()
  const changes: Array<LossChange> = []
  let segmentSum = 0
  let segmentLength = 0
  entries.forEach((entry, i) => {
    const loss = entryLoss(metric, entry)
    segmentSum += loss
    segmentLength += 1
    if (!adwin.update(loss)) return
    const kept = adwin.width()
    const dropped = segmentLength - kept
    if (dropped > 0) {
      changes.push({ at: i, lossBefore: (segmentSum - adwin.total()) / dropped, lossAfter: adwin.total() / kept })
    }
    segmentSum = 0
    segmentLength = 0
  })
  return changes
}

/**
 * Whether the live model got worse: among the last `recent` progressive entries (those scored
 * since the last update: the buffered samples), ADWIN signals a change after which the loss is
 * higher. A change for the better (a good update taking effect) does not count.
 */
export const isDegraded = (
  metric: ValidationMetric,
  entries: ReadonlyArray<ProgressiveEntry>,
  recent: number
): boolean => {
  const firstRecent = entries.length - Math.min(recent, entries.length)
  return lossChanges(metric, entries).some((c) => c.at >= firstRecent && c.lossAfter > c.lossBefore)
}

export interface UpdateSituation {
  readonly trigger: UpdateTrigger
  readonly buffered: number
  readonly nowMs: number
  /** The metric of the last ADAPTIVE_METRIC_WINDOW progressive entries (adaptive strategy only). */
  readonly progressiveMetric: number | null
  /** Whether the live model's loss rose since the last update (isDegraded; adaptive strategy only). */
  readonly degraded: boolean
}

/** Whether the pipeline's strategy wants an update now. Manual and retry updates need samples only. */
export const isUpdateDue = (p: Pipeline, { buffered, degraded, nowMs, trigger }: UpdateSituation): boolean => {
  if (trigger === "manual") return buffered > 0
  if (trigger === "retry") return buffered > 0 && p.nextRetryAt !== null && Date.parse(p.nextRetryAt) <= nowMs
  const sinceLast = (nowMs - Date.parse(p.lastUpdateAt ?? p.createdAt)) / 1000
  switch (p.strategy) {
    case "incremental":
      return trigger === "samples" && buffered > 0
    case "mini-batch":
      return buffered >= p.batchSize
    case "periodic":
      return buffered >= p.minSamples && sinceLast >= p.updateFrequencySeconds
    case "adaptive":
      return buffered >= p.minSamples && (
        p.driftSignal || degraded || buffered >= p.adaptive.batchSize ||
        sinceLast >= 3 * p.updateFrequencySeconds
      )
  }
}

/** The adaptive settings after an update: tighter after a degradation or drift, looser while stable. */
export const adaptAfterUpdate = (
  p: Pipeline,
  degradedOrDrift: boolean,
  referenceMetric: number | null
): AdaptiveState =>
  degradedOrDrift
    ? {
      batchSize: Math.max(p.minSamples, Math.floor(p.adaptive.batchSize / 2)),
      learningRateScale: Math.min(4, p.adaptive.learningRateScale * 1.5),
      referenceMetric
    }
    : {
      batchSize: Math.min(Math.floor(p.maxBufferSize / 2), Math.ceil(p.adaptive.batchSize * 1.5)),
      learningRateScale: Math.max(1, p.adaptive.learningRateScale / 1.5),
      referenceMetric
    }

/** Seconds before the next attempt after `retryCount` failed ones: 1, 2, 4, ... at most 300. */
export const retryDelaySeconds = (retryCount: number): number => Math.min(300, 2 ** retryCount)

/** The pipeline after an update attempt failed at `now`: the error recorded, the next attempt scheduled. */
export const afterFailedUpdate = (p: Pipeline, error: string, now: string): Pipeline => ({
  ...p,
  lastError: error,
  retryCount: p.retryCount + 1,
  nextRetryAt: new Date(Date.parse(now) + retryDelaySeconds(p.retryCount) * 1000).toISOString()
})

export interface UpdateResult {
  readonly accepted: boolean
  /** The version published, when accepted. */
  readonly modelId: string | null
  /** The candidate's metric on the validation set. */
  readonly metricAfter: number | null
}

/**
 * The pipeline after an update at `at`: counters, the live version, the retry state cleared, the
 * drift signal consumed, and for the adaptive strategy its new settings. `degradedOrDrift` and
 * `progressiveMetric` are what the update was decided on.
 */
export const afterUpdate = (
  p: Pipeline,
  result: UpdateResult,
  at: string,
  decidedOn: { readonly degradedOrDrift: boolean; readonly progressiveMetric: number | null }
): Pipeline => ({
  ...p,
  liveModelId: result.modelId ?? p.liveModelId,
  acceptedUpdates: p.acceptedUpdates + (result.accepted ? 1 : 0),
  rejectedUpdates: p.rejectedUpdates + (result.accepted ? 0 : 1),
  lastUpdateAt: at,
  lastError: null,
  retryCount: 0,
  nextRetryAt: null,
  driftSignal: false,
  adaptive: p.strategy !== "adaptive"
    ? p.adaptive
    : adaptAfterUpdate(p, decidedOn.degradedOrDrift, result.metricAfter ?? decidedOn.progressiveMetric)
})
