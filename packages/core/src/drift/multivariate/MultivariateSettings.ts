/**
 * The `settings.multivariate` option of a monitor: which multivariate detectors run on each check
 * (each present key enables one, `{}` takes its defaults) and how many baseline rows are kept
 * for them. The rules its schema cannot state (what the monitor's features allow) are here too.
 */
import { Schema } from "effect"
import type { FieldIssue } from "../../shared/Errors.js"
import type { FeatureSpec } from "../Monitor.js"

/** The most baseline rows kept, and window rows used (a seeded sample beyond), per check. */
export const MAX_MULTIVARIATE_ROWS = 20_000
/** The most input features the multivariate detectors take (PCA's eigen-decomposition is cubic in them). */
export const MAX_MULTIVARIATE_FEATURES = 200

const between = (minimum: number, maximum: number) =>
  Schema.Int.check(
    Schema.isBetween({ minimum, maximum }, { message: `must be an integer from ${minimum} to ${maximum}` })
  )

const openUnitInterval = Schema.Finite.check(
  Schema.isBetween({ minimum: 0, maximum: 1, exclusiveMinimum: true, exclusiveMaximum: true }, {
    message: "must be strictly between 0 and 1"
  })
)

export const DomainClassifierSettings = Schema.Struct({
  /** Label permutations behind the p-value (default 1000). */
  permutations: Schema.optionalKey(between(10, 100_000)),
  /** Training passes over the training half (default 5). */
  epochs: Schema.optionalKey(between(1, 100)),
  /** Drifted when the p-value is below this (default: the monitor's pValueThreshold). */
  pValueThreshold: Schema.optionalKey(openUnitInterval)
})
export type DomainClassifierSettings = typeof DomainClassifierSettings.Type

export const PcaSettings = Schema.Struct({
  /** Keep components until their explained variance exceeds this share (default 0.65, NannyML's). */
  varianceShare: Schema.optionalKey(openUnitInterval),
  /** Drifted outside the baseline chunks' mean +- this many standard deviations (default 3). */
  thresholdSds: Schema.optionalKey(
    Schema.Finite.check(Schema.isBetween({ minimum: 0.5, maximum: 10 }, { message: "must be from 0.5 to 10" }))
  )
})
export type PcaSettings = typeof PcaSettings.Type

export const MultivariateSettings = Schema.Struct({
  domainClassifier: Schema.optionalKey(DomainClassifierSettings),
  pca: Schema.optionalKey(PcaSettings),
  /** How many baseline rows (a seeded uniform sample) are kept for the detectors (default 5000). */
  baselineRows: Schema.optionalKey(between(100, MAX_MULTIVARIATE_ROWS)),
  /** Seeds the row sample, the split, the training order and the permutations (default: the monitor id). */
  seed: Schema.optionalKey(Schema.String.check(Schema.isMaxLength(128, { message: "must be at most 128 characters" })))
})
export type MultivariateSettings = typeof MultivariateSettings.Type

export const multivariateDefaults = {
  permutations: 1000,
  epochs: 5,
  learningRate: 0.1,
  varianceShare: 0.65,
  thresholdSds: 3,
  baselineRows: 5000
} as const

/** What the monitor's features must allow for the chosen detectors, by path under settings.multivariate. */
export const multivariateIssues = (
  settings: MultivariateSettings,
  features: ReadonlyArray<FeatureSpec>
): Array<FieldIssue> => {
  const path = ["settings", "multivariate"]
  const issues: Array<FieldIssue> = []
  if (settings.domainClassifier === undefined && settings.pca === undefined) {
    issues.push({ path, message: "must enable domainClassifier or pca (or both)" })
  }
  const inputs = features.filter((f) => f.kind === "feature").length
  if (inputs > MAX_MULTIVARIATE_FEATURES) {
    issues.push({
      path,
      message: `takes at most ${MAX_MULTIVARIATE_FEATURES} features of kind feature, the monitor has ${inputs}`
    })
  }
  const numeric = features.filter((f) => f.kind === "feature" && f.type === "numeric").length
  if (settings.pca !== undefined && numeric < 2) {
    issues.push({ path: [...path, "pca"], message: `needs at least 2 numeric features (kind feature), got ${numeric}` })
  }
  if (settings.domainClassifier !== undefined && !features.some((f) => f.kind === "feature")) {
    issues.push({ path: [...path, "domainClassifier"], message: "needs at least 1 feature of kind feature" })
  }
  return issues
}
