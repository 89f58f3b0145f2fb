/**
 * The model lifecycle, written once: which status may follow which. Users move models forward
 * one step at a time; any live status may be archived; archived is final (versions are kept,
 * never deleted).
 */
import type { ModelStatus } from "./Model.js"

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
