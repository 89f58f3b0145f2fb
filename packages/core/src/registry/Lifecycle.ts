/**
 * The model lifecycle, written once: which status may follow which, and what a model must have
 * to take a step. Users move models forward one step at a time; any live status may be archived;
 * archived is final (versions are kept, never deleted). A model leaves draft only with an
 * artifact, and an artifact is set once, on a draft, so identity never changes after that.
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
  if (from === "draft" && to !== "archived" && model.artifact === null) {
    return new ArtifactStateError({
      modelId: id,
      message: `Model ${id} has no artifact; upload one before it leaves draft`
    })
  }
  return undefined
}

/** Why `model` may not receive an artifact, or undefined when it may (a draft without one). */
export const artifactRefusal = (model: Model): ArtifactStateError | undefined =>
  model.artifact !== null
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
