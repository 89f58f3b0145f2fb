/**
 * The settings that say which drift test decides whether a feature drifted (its "drift method")
 * and at what threshold, per feature and per monitor, and how the share of drifted features
 * makes the whole dataset drift. Schemas only: the choice itself is in DriftMethod.ts, the
 * dataset verdict in DatasetDrift.ts.
 */
import { Schema } from "effect"

/** The default share of (weighted) drifted features at which the dataset drifts (Evidently's drift_share). */
export const DEFAULT_DATASET_DRIFT_SHARE = 0.5

/**
 * A drift method and its threshold: a p-value threshold in (0, 1) for significance tests (the
 * feature drifts below it), a distance at or above which the feature drifts for distance tests.
 * Which names apply to which feature type is checked when a monitor is created (DriftMethod.ts).
 */
export const DriftMethodChoice = Schema.Struct({
  method: Schema.optionalKey(Schema.String.check(Schema.isMaxLength(64, { message: "must be at most 64 characters" }))),
  threshold: Schema.optionalKey(
    Schema.Finite.check(Schema.isGreaterThan(0, { message: "must be greater than 0" }))
  )
})
export type DriftMethodChoice = typeof DriftMethodChoice.Type

/** `features[i].drift`: the feature's method and threshold, and its weight in the dataset drift share. */
export const FeatureDriftSettings = Schema.Struct({
  ...DriftMethodChoice.fields,
  /** 0 leaves the feature out of the dataset drift share; default 1. */
  weight: Schema.optionalKey(
    Schema.Finite.check(
      Schema.isBetween({ minimum: 0, maximum: 1_000_000 }, { message: "must be from 0 to 1000000" })
    )
  )
})
export type FeatureDriftSettings = typeof FeatureDriftSettings.Type

/**
 * `settings.drift`: a method for every numeric and every categorical feature (a feature's own
 * choice wins), and the dataset drift share. A monitor stored without it (created before the
 * automatic choice) keeps the rule it was created with: KS or chi-square decides.
 */
export const DriftSettings = Schema.Struct({
  numeric: Schema.optionalKey(DriftMethodChoice),
  categorical: Schema.optionalKey(DriftMethodChoice),
  datasetShare: Schema.optionalKey(
    Schema.Finite.check(
      Schema.isBetween({ minimum: 0, maximum: 1, exclusiveMinimum: true }, {
        message: "must be greater than 0 and at most 1"
      })
    )
  )
})
export type DriftSettings = typeof DriftSettings.Type
