/**
 * The definition history of an experiment: what decided serving after each committed change
 * (creation, start, pause, resume, re-split, bandit reweight, ramp step, guardrail pause,
 * completion), with its time and revision. Stores append one entry in the same atomic step as
 * the insert or commit (ExperimentStore), so the history never misses a change that was
 * acknowledged. An entry keeps only what can change after creation (status, effective weights,
 * coverage, winner); the rest of what decides serving (variants' models, seed, targeting,
 * stickiness) is fixed at creation and read from the experiment itself. Each experiment keeps its
 * newest MAX_DEFINITION_HISTORY entries: bandit reweights may be frequent, and an answer about a
 * time before the oldest kept entry says the history was cut there rather than guessing.
 */
import { Schema } from "effect"
import { ModelId } from "../registry/Model.js"
import { currentWeights } from "./Assignment.js"
import { type Experiment, ExperimentStatus } from "./Experiment.js"

/** Entries kept per experiment; older ones are dropped, oldest first (README "What served a user"). */
export const MAX_DEFINITION_HISTORY = 1000

export const DefinitionRevision = Schema.Struct({
  revision: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
  /** When this definition took effect (the experiment's updatedAt at the commit). */
  at: Schema.String,
  status: ExperimentStatus,
  /** The share of traffic per variant in force (bandit weights when there are some, else the split). */
  weights: Schema.Array(Schema.Finite),
  coverage: Schema.Finite,
  /** The declared winner once completed with one. */
  winnerModelId: Schema.NullOr(ModelId)
})
export type DefinitionRevision = typeof DefinitionRevision.Type

/** The history entry of a definition as committed. */
export const definitionRevisionOf = (experiment: Experiment): DefinitionRevision => ({
  revision: experiment.revision,
  at: experiment.updatedAt,
  status: experiment.status,
  weights: [...currentWeights(experiment)],
  coverage: experiment.coverage,
  winnerModelId: experiment.decision?.winnerModelId ?? null
})

/** A kept history after appending `entry`: at most MAX_DEFINITION_HISTORY entries, the newest. */
export const appendDefinitionRevision = (
  history: ReadonlyArray<DefinitionRevision>,
  entry: DefinitionRevision
): Array<DefinitionRevision> => [...history, entry].slice(-MAX_DEFINITION_HISTORY)

/** What changed from one entry to the next, in words (for answers and the history's readers). */
export const describeChange = (previous: DefinitionRevision | undefined, next: DefinitionRevision): string => {
  if (previous === undefined) return `created as ${next.status}`
  const changes: Array<string> = []
  if (previous.status !== next.status) {
    changes.push(
      next.status === "running" && previous.status === "paused"
        ? "resumed"
        : next.status === "running"
        ? "started"
        : next.status === "completed"
        ? `completed${next.winnerModelId === null ? " without a winner" : ` with winner ${next.winnerModelId}`}`
        : next.status
    )
  }
  if (previous.weights.join() !== next.weights.join()) changes.push(`weights became [${next.weights.join(", ")}]`)
  if (previous.coverage !== next.coverage) changes.push(`coverage became ${next.coverage}`)
  return changes.length === 0 ? "unchanged for serving" : changes.join("; ")
}
