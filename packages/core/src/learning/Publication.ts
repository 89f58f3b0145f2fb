/**
 * What an accepted update publishes in the model registry: a new version of the live model's
 * name (`<base version>-online-<pipeline>-<n>`, parent = the live version), with the candidate's
 * holdout metric, what it was trained on, and tags that find it again. Published versions enter
 * at status testing; promoting them further is a person's decision. The artifact is written at
 * the pipeline's publish precision.
 */
import type { Model, RegisterModelInput } from "../registry/Model.js"
import type { LearnerPrecision } from "./learners/LearnerState.js"
import type { Pipeline } from "./Pipeline.js"
import type { StoredSample } from "./Samples.js"

/**
 * The registry entry of update `number` (by default `acceptedUpdates + 1`) of `p`, a child of
 * `parent` (the live version).
 */
export const publishedModel = (
  p: Pipeline,
  parent: Model,
  train: ReadonlyArray<StoredSample>,
  metricAfter: number | null,
  number = p.acceptedUpdates + 1
): RegisterModelInput => {
  // Names and versions are bounded: the base version and the pipeline id are cut to 24 characters.
  const version = `${parent.version.split("-online-")[0]!.slice(0, 24)}-online-${p.id.slice(0, 24)}-${number}`
  const times = train.map((s) => s.receivedAt).sort()
  return {
    name: parent.name,
    version,
    algorithm: parent.algorithm,
    framework: parent.framework,
    description: `Online update ${number} of pipeline ${p.id}`,
    metrics: metricAfter === null ? {} : { [`holdout_${p.validationMetric}`]: metricAfter },
    training: {
      dataset: `pipeline:${p.id}`,
      sampleCount: train.length,
      ...(times.length ? { startedAt: times[0]!, finishedAt: times[times.length - 1]! } : {})
    },
    tags: ["online", p.id],
    parentModelId: p.liveModelId,
    createdBy: publisherOf(p),
    // An online update learns the same inputs: its version declares the signature it was trained under.
    ...(parent.signature !== undefined ? { signature: parent.signature } : {})
  }
}

/** The actor named in the registry for what a pipeline does. */
export const publisherOf = (p: Pick<Pipeline, "id">): string => `pipeline:${p.id}`

/** The reason recorded when a published version is promoted to testing. */
export const publicationReason = (p: Pipeline): string => `online update ${p.acceptedUpdates + 1} of pipeline ${p.id}`

/** The precision `p` publishes artifacts at (pipelines made by earlier releases: float64). */
export const publishPrecision = (p: Pick<Pipeline, "publish">): LearnerPrecision => p.publish?.precision ?? "float64"
