/**
 * A monitor created from a model version with a signature: its features are the signature's
 * inputs (kind feature) and outputs (kind prediction) unless the request lists them, and a listed
 * feature must be a column of the signature with the matching drift type. The monitor keeps the
 * signature, so observations and baselines that contradict it are refused (Observations.ts).
 */
import { Result, Schema } from "effect"
import type { Model } from "../registry/Model.js"
import { driftTypeOf, type Signature, type SignatureColumn } from "../registry/Signature.js"
import type { FieldIssue } from "../shared/Errors.js"
import { type CreateMonitorInput, FeatureSpec, type ResolvedMonitorInput } from "./Monitor.js"

const isFeatureName = Schema.is(FeatureSpec.fields.name)

const specOf = (column: SignatureColumn, kind: FeatureSpec["kind"]): FeatureSpec => ({
  name: column.name,
  kind,
  type: driftTypeOf(column.type)
})

/** The features a monitor watches for `signature`: every input, then every output. */
export const signatureFeatures = (signature: Signature): Array<FeatureSpec> => [
  ...signature.inputs.map((c) => specOf(c, "feature")),
  ...(signature.outputs ?? []).map((c) => specOf(c, "prediction"))
]

/**
 * The input with its features decided and, when the model has a signature, the signature the
 * monitor keeps; or the issues: no features and no signature to take them from, a signature
 * column that cannot name a monitor feature, a listed feature the signature does not declare or
 * declares with another type.
 */
export const resolveMonitorFeatures = (
  input: CreateMonitorInput,
  model: Model | undefined
): Result.Result<{ readonly input: ResolvedMonitorInput; readonly signature?: Signature }, Array<FieldIssue>> => {
  const signature = model?.signature
  if (signature === undefined) {
    if (input.features !== undefined) return Result.succeed({ input: { ...input, features: input.features } })
    const why = input.modelId == null
      ? "is required unless modelId names a model version with a signature"
      : model === undefined
      ? `is required: model ${input.modelId} does not exist`
      : `is required: model ${model.name}@${model.version} declares no signature`
    return Result.fail([{ path: ["features"], message: why }])
  }
  const issues: Array<FieldIssue> = []
  if (input.features === undefined) {
    const features = signatureFeatures(signature)
    features.forEach((f) => {
      if (!isFeatureName(f.name)) {
        issues.push({
          path: ["features"],
          message: `cannot be taken from the signature: column ${JSON.stringify(f.name)} is not a monitor feature ` +
            "name (a letter or '_' then letters, digits, '_', '.', ':' or '-'); list the features"
        })
      }
    })
    return issues.length > 0 ? Result.fail(issues) : Result.succeed({ input: { ...input, features }, signature })
  }
  const declared = new Map(signatureFeatures(signature).map((f) => [f.name, f]))
  input.features.forEach((f, i) => {
    const column = declared.get(f.name)
    if (column === undefined) {
      issues.push({
        path: ["features", i, "name"],
        message: `is not a column of the signature of model ${model!.name}@${model!.version}`
      })
    } else if (column.type !== f.type) {
      issues.push({
        path: ["features", i, "type"],
        message: `must be ${column.type}, as the model's signature declares`
      })
    }
  })
  return issues.length > 0
    ? Result.fail(issues)
    : Result.succeed({ input: { ...input, features: input.features }, signature })
}
