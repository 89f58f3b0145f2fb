/**
 * Labelled samples and features: what a client sends (SampleInput, at most 100,000 in a
 * SamplesRequest; features to predict from), what a pipeline keeps (StoredSample, with weight
 * and arrival time; ProgressiveEntry, the live model's prediction scored when the label arrived),
 * and the one check of a sample's values, which names each field at fault. Request bodies are
 * decoded as envelopes and their values checked once, here or by the learner, so a big batch is
 * walked once; stored samples decode with one plain pass over their features.
 */
import { Schema } from "effect"
import { type Signature, signatureChecker } from "../registry/Signature.js"
import { checkedSchema, documentedAs } from "../shared/CheckedSchema.js"
import type { FieldIssue } from "../shared/Errors.js"
import { BoundedNumber, boundedValueIssue, isBoundedNumber, MAX_VALUE_MAGNITUDE } from "../shared/InputLimits.js"
import type { FeatureMapSpec, LearnerKind } from "./learners/LearnerState.js"

export const MAX_SAMPLES_PER_REQUEST = 100_000
export const MAX_ROWS_PER_PREDICTION = 100_000
export const MAX_FEATURES_PER_SAMPLE = 1000

/** Feature values by name, as documented (and decoded where values are few). */
const FeatureValuesFields = Schema.Record(Schema.String, BoundedNumber).check(
  Schema.isMaxProperties(MAX_FEATURES_PER_SAMPLE, { message: `must hold at most ${MAX_FEATURES_PER_SAMPLE} features` })
)

const isObjectOfNumbers = (value: unknown): boolean => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false
  for (const name in value) if (typeof (value as Record<string, unknown>)[name] !== "number") return false
  return true
}

/** Feature values by name; decoded in one plain pass (a stored buffer holds a million of them). */
export const FeatureValues = checkedSchema(
  FeatureValuesFields,
  (input) => isObjectOfNumbers(input) ? undefined : "must be an object of numbers",
  { title: "FeatureValues", description: "Feature values by name" }
)
export type FeatureValues = typeof FeatureValues.Type

export const SampleInput = Schema.Struct({
  /** Deduplication key: a sampleId seen recently by the pipeline is counted and ignored. */
  sampleId: Schema.String.check(Schema.isBetweenLength(1, 256)),
  features: FeatureValuesFields,
  /** 0 or 1 for a classifier (kind logistic), any finite number for a regressor. */
  label: BoundedNumber,
  /** Defaults to 1. */
  weight: Schema.optionalKey(BoundedNumber.check(Schema.isGreaterThan(0)))
})
export type SampleInput = typeof SampleInput.Type

const samplesBound = Schema.isMaxLength(MAX_SAMPLES_PER_REQUEST, { message: "must hold at most 100000 samples" })
const rowsBound = Schema.isMaxLength(MAX_ROWS_PER_PREDICTION, { message: "must hold at most 100000 rows" })

/**
 * POST /v1/pipelines/{id}/samples. Decoding checks the envelope only; each sample's values are
 * checked once, by OnlineLearner.addSamples (sampleIssues), naming the field.
 */
export const SamplesRequest = documentedAs(
  Schema.Struct({
    samples: Schema.Array(
      Schema.Struct({
        sampleId: Schema.Unknown,
        features: Schema.Unknown,
        label: Schema.Unknown,
        weight: Schema.optionalKey(Schema.Unknown)
      })
    ).check(samplesBound)
  }),
  Schema.Struct({ samples: Schema.Array(SampleInput).check(samplesBound) }),
  { title: "SamplesRequest" }
)
export type SamplesRequest = typeof SamplesRequest.Type

/**
 * POST /v1/pipelines/{id}/predict: one row or many. Feature values are checked by the learner
 * as it predicts (naming the feature).
 */
export const PredictRequest = documentedAs(
  Schema.Union([
    Schema.Struct({ features: Schema.Record(Schema.String, Schema.Unknown) }),
    Schema.Struct({ rows: Schema.Array(Schema.Record(Schema.String, Schema.Unknown)).check(rowsBound) })
  ]),
  Schema.Union([
    Schema.Struct({ features: FeatureValuesFields }),
    Schema.Struct({ rows: Schema.Array(FeatureValuesFields).check(rowsBound) })
  ]),
  { title: "PredictRequest" }
)
export type PredictRequest = typeof PredictRequest.Type

/** Probability of label 1 (logistic) or the predicted value (linear), for `{ features }`. */
export const Prediction = Schema.Struct({ prediction: Schema.Finite })
export type Prediction = typeof Prediction.Type
/** One prediction per row, in order, for `{ rows }`. */
export const Predictions = Schema.Struct({ predictions: Schema.Array(Schema.Finite) })
export type Predictions = typeof Predictions.Type
/** The answer to a PredictRequest: a Prediction for `{ features }`, Predictions for `{ rows }`. */
export const PredictResult = Schema.Union([Prediction, Predictions])
export type PredictResult = typeof PredictResult.Type

/** A sample as a pipeline buffers it. */
export const StoredSample = Schema.Struct({
  sampleId: Schema.String,
  features: FeatureValues,
  label: Schema.Finite,
  weight: Schema.Finite,
  receivedAt: Schema.String
})
export type StoredSample = typeof StoredSample.Type

/** One progressive-validation observation: the live model's prediction before it saw the label. */
export const ProgressiveEntry = Schema.Struct({ prediction: Schema.Finite, label: Schema.Finite })
export type ProgressiveEntry = typeof ProgressiveEntry.Type

/**
 * Every problem with one object of feature values (own properties only, so a name such as
 * `constructor` is an ordinary feature), each naming its field under `path`.
 */
export const featureIssues = (
  features: unknown,
  path: ReadonlyArray<string | number>,
  issues: Array<FieldIssue>
): void => {
  if (typeof features !== "object" || features === null || Array.isArray(features)) {
    issues.push({ path: [...path], message: "must be an object of numbers" })
    return
  }
  const names = Object.keys(features)
  if (names.length > MAX_FEATURES_PER_SAMPLE) {
    issues.push({ path: [...path], message: `has ${names.length} features; at most ${MAX_FEATURES_PER_SAMPLE}` })
    return
  }
  for (const name of names) {
    const problem = boundedValueIssue((features as Record<string, unknown>)[name])
    if (problem !== undefined) issues.push({ path: [...path, name], message: problem })
  }
}

/**
 * Every problem with the values of a batch of samples for a learner of `kind`, each naming its
 * field (`[index, "features", name]`); empty when the batch is fine. Labels and feature values
 * feed the learner's sums, so they are bounded like every such number (MAX_VALUE_MAGNITUDE).
 */
export const sampleIssues = (kind: LearnerKind, samples: ReadonlyArray<SampleInput>): Array<FieldIssue> => {
  const issues: Array<FieldIssue> = []
  samples.forEach((s, i) => {
    if (typeof s.sampleId !== "string" || s.sampleId.length === 0 || s.sampleId.length > 256) {
      issues.push({ path: [i, "sampleId"], message: "must be a string of 1-256 characters" })
    }
    const labelProblem = boundedValueIssue(s.label)
    if (labelProblem !== undefined) {
      issues.push({ path: [i, "label"], message: labelProblem })
    } else if (kind === "logistic" && s.label !== 0 && s.label !== 1) {
      issues.push({ path: [i, "label"], message: `must be 0 or 1 for a classifier, got ${s.label}` })
    }
    if (s.weight !== undefined && !(isBoundedNumber(s.weight) && s.weight > 0)) {
      issues.push({ path: [i, "weight"], message: `must be a number > 0 and <= ${MAX_VALUE_MAGNITUDE}` })
    }
    featureIssues(s.features, [i, "features"], issues)
  })
  return issues
}

/**
 * Every feature value of a batch (already checked by `sampleIssues`) that contradicts the
 * signature the pipeline was created under: a feature it does not declare as an input, a value
 * of the wrong type, outside the range or not among the categories, each named
 * `[index, "features", name]`. The checks are compiled once per pipeline record.
 */
export const signatureSampleIssues = (
  signature: Signature,
  samples: ReadonlyArray<SampleInput>
): Array<FieldIssue> => {
  const checks = signatureChecker(signature)
  const inputs = signatureInputNames(signature)
  const issues: Array<FieldIssue> = []
  for (let i = 0; i < samples.length; i++) {
    const features = samples[i]!.features
    for (const name of Object.keys(features)) {
      const check = inputs.has(name) ? checks.get(name) : undefined
      const problem = check === undefined
        ? "is not an input of the model's signature"
        : check(features[name])
      if (problem !== undefined) issues.push({ path: [i, "features", name], message: problem })
    }
  }
  return issues
}

/**
 * Why a learner cannot learn the inputs a signature declares: samples carry numbers only, so a
 * string or category input could never be sent, and a learner with named features (not hashing)
 * would ignore an input it does not name. Empty when the pipeline can be created.
 */
export const signatureLearnerIssues = (signature: Signature, features: FeatureMapSpec): Array<FieldIssue> => {
  const issues: Array<FieldIssue> = []
  const names = features.type === "schema" ? new Set(features.names) : undefined
  for (const column of signature.inputs) {
    if (column.type === "string" || column.type === "category") {
      issues.push({
        path: ["modelId"],
        message: `the model's signature declares ${column.type} input ${column.name}; samples carry numbers only`
      })
    } else if (names !== undefined && !names.has(column.name)) {
      issues.push({
        path: ["modelId"],
        message: `the model's signature declares input ${column.name}, which its learner does not have`
      })
    }
  }
  return issues
}

const inputNames = new WeakMap<Signature, ReadonlySet<string>>()
const signatureInputNames = (signature: Signature): ReadonlySet<string> => {
  let names = inputNames.get(signature)
  if (names === undefined) {
    names = new Set(signature.inputs.map((c) => c.name))
    inputNames.set(signature, names)
  }
  return names
}

/** Every problem with the rows of a prediction request (`rows.<i>.<name>`, or `features.<name>` for one row). */
export const predictionIssues = (rows: ReadonlyArray<unknown>, single: boolean): Array<FieldIssue> => {
  const issues: Array<FieldIssue> = []
  rows.forEach((row, i) => featureIssues(row, single ? ["features"] : ["rows", i], issues))
  return issues
}
