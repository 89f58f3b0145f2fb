/**
 * The model lifecycle, written once: which status may follow which, and what a model must have
 * to take a step. Users move models forward one step at a time; any live status may be archived;
 * archived is final (versions are kept, never deleted). A model leaves draft only with an
 * artifact, and an artifact is set once, on a draft, so identity never changes after that.
 * An empty (0-byte) artifact counts only when its upload said `allowEmpty`: otherwise it is almost
 * always a mistake (a missing file piped to curl), so the draft may replace it and it is never
 * promoted.
 */
import { ArtifactStateError, InvalidTransitionError } from "./Errors.js"
import type { Model, ModelStatus } from "./Model.js"

export const transitions: { readonly [S in ModelStatus]: ReadonlyArray<ModelStatus> } = {
  draft: ["testing", "archived"],
  testing: ["staging", "archived"],
  staging: ["production", "archived"],
  production: ["archived"],
  archived: []
}

/** Where the previous production version goes when another version of its name is promoted. */
export type DemotionTarget = "archived" | "staging"

export const canTransition = (from: ModelStatus, to: ModelStatus): boolean => transitions[from].includes(to)

/** The model's artifact when it counts as one: not empty, or empty on purpose (`allowEmpty`). */
export const usableArtifact = (model: Model): Model["artifact"] =>
  model.artifact !== null && (model.artifact.sizeBytes > 0 || model.artifact.allowEmpty === true)
    ? model.artifact
    : null

/** Why `model` may not move to `to`, or undefined when it may. */
export const transitionRefusal = (
  model: Model,
  to: ModelStatus
): InvalidTransitionError | ArtifactStateError | undefined => {
  const { id, status: from } = model
  if (!canTransition(from, to)) {
    return new InvalidTransitionError({
      modelId: id,
      from,
      to,
      message: from === to ? `Model ${id} is already ${to}` : `Model ${id} cannot move from ${from} to ${to}`
    })
  }
  if (to !== "archived" && usableArtifact(model) === null) {
    return new ArtifactStateError({
      modelId: id,
      message: model.artifact === null
        ? `Model ${id} has no artifact; upload one before it leaves draft`
        : `Model ${id} has an empty (0-byte) artifact uploaded without allowEmpty; it cannot move to ${to}`
    })
  }
  return undefined
}

/** Why `model` may not receive an artifact, or undefined when it may (a draft without a usable one). */
export const artifactRefusal = (model: Model): ArtifactStateError | undefined =>
  usableArtifact(model) !== null
    ? new ArtifactStateError({
      modelId: model.id,
      message: `Model ${model.id} already has an artifact; artifacts are immutable, register a new version instead`
    })
    : model.status !== "draft"
    ? new ArtifactStateError({
      modelId: model.id,
      message: `Model ${model.id} is ${model.status}; only draft models accept an artifact`
    })
    : undefined
