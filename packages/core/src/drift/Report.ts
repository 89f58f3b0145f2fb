/**
 * Drift reports: the outcome of one check of a monitor (every feature's check and the alerts
 * it raised), kept per monitor for the retention, and the query that lists them.
 */
import { Schema } from "effect"
import { Instant } from "../registry/Model.js"
import { DriftAlert } from "./Alert.js"
import { FeatureCheck } from "./Check.js"
import { DatasetDrift } from "./DatasetDrift.js"
import { FalseAlarmFigures } from "./FalseAlarms.js"
import { MonitorId } from "./Monitor.js"
import { MultivariateCheck } from "./multivariate/MultivariateCheck.js"
import { PerformanceReport } from "./performance/PerformanceEstimation.js"

export const DriftReport = Schema.Struct({
  id: Schema.String,
  monitorId: Schema.String,
  at: Instant,
  features: Schema.Array(FeatureCheck),
  alerts: Schema.Array(DriftAlert),
  /** CBPE's estimates, for a monitor with a performance setting. */
  performance: Schema.optionalKey(PerformanceReport),
  /** The multivariate detectors' results, when the monitor enables them (settings.multivariate). */
  multivariate: Schema.optionalKey(MultivariateCheck),
  /** The share of drifted features against the dataset threshold, when a feature was tested (DatasetDrift.ts). */
  datasetDrift: Schema.optionalKey(DatasetDrift),
  /**
   * The chance this check flagged a feature with no drift and the mean time between such checks
   * at the monitor's interval (FalseAlarms.ts); reports written before it existed lack it.
   */
  falseAlarms: Schema.optionalKey(FalseAlarmFigures)
})
export type DriftReport = typeof DriftReport.Type

/** The most reports one query returns when it names a `limit` (a month of 5-minute checks is 8,640). */
export const MAX_REPORTS_LIMIT = 1000

/** GET /v1/drift/reports: of one monitor or all, at or after `since`; with `limit`, only the newest that many. */
export const ReportsQuery = Schema.Struct({
  monitorId: Schema.optionalKey(MonitorId),
  since: Schema.optionalKey(Instant),
  limit: Schema.optionalKey(
    Schema.Int.check(
      Schema.isBetween({ minimum: 1, maximum: MAX_REPORTS_LIMIT }, {
        message: `must be an integer from 1 to ${MAX_REPORTS_LIMIT}`
      })
    )
  )
})
export type ReportsQuery = typeof ReportsQuery.Type

/** The oldest report time a monitor keeps at `at` (ISO). */
export const retainSince = (at: string, retentionDays: number): string =>
  new Date(Date.parse(at) - retentionDays * 86_400_000).toISOString()
