/**
 * "What served user U at time T": the model an experiment (or a registry alias) gave a user at a
 * past instant, recomputed from what was in force then. For an experiment that is the definition
 * history entry in force at T (DefinitionHistory.ts) over the fixed parts of the experiment, the
 * user's attributes when targeting reads them, and the sticky assignment when it was stored by T,
 * taken in the order the assignment itself takes them (AbTests: not running -> winner or control;
 * a kept sticky assignment; left out by targeting or coverage -> control; else the hash). For an
 * alias it is the version the registry's audit events pointed it to at T. Pure functions over
 * plain data, so the answer is the same one assignment would have given, by construction.
 */
import { Schema } from "effect"
import { aliasAt, type AuditEvent, productionAt } from "../registry/AuditEvent.js"
import { ModelId, ModelName, ModelVersion } from "../registry/Model.js"
import { productionAlias } from "../registry/RegisteredModel.js"
import { type DefinitionRevision, describeChange, MAX_DEFINITION_HISTORY } from "./DefinitionHistory.js"
import type { Assignment, Experiment } from "./Experiment.js"
import type { Attributes } from "./Requests.js"
import { keepsStickyVariant, makeTargetedAssigner } from "./Targeting.js"
import { controlIndex } from "./Variants.js"

export const ServedSource = Schema.Literals(["sticky", "hashed", "forced-control", "winner", "alias", "production"])
export type ServedSource = typeof ServedSource.Type

/** The answer of GET /v1/served: which model version served a user at an instant, and why. */
export const ServedModel = Schema.Struct({
  userId: Schema.String,
  /** The instant asked about. */
  at: Schema.String,
  modelId: ModelId,
  name: ModelName,
  version: ModelVersion,
  source: ServedSource,
  /** The experiment asked about (absent for an alias). */
  experimentId: Schema.optionalKey(Schema.String),
  /** The variant index in the experiment (null for an alias). */
  variant: Schema.NullOr(Schema.Int),
  /** The experiment revision whose definition was in force at `at` (null for an alias). */
  definitionRevision: Schema.NullOr(Schema.Int),
  /** The alias asked about (absent for an experiment). */
  alias: Schema.optionalKey(Schema.String),
  explanation: Schema.String
})
export type ServedModel = typeof ServedModel.Type

/** Which variant an experiment served, before the model's name and version are looked up. */
export interface ExperimentServed {
  readonly variant: number
  readonly modelId: string
  readonly source: Exclude<ServedSource, "alias" | "production">
  readonly definitionRevision: number
  readonly explanation: string
}

/** Why an experiment cannot say what it served at an instant. */
export type NotAnswerable =
  | { readonly _tag: "BeforeCreation"; readonly createdAt: string }
  | { readonly _tag: "HistoryTruncated"; readonly oldestAt: string }

/** The history entry in force at `atMillis` (the last one at or before it), with the one before it. */
const inForce = (history: ReadonlyArray<DefinitionRevision>, atMillis: number) => {
  let index = -1
  for (let i = 0; i < history.length; i++) {
    if (Date.parse(history[i]!.at) <= atMillis) index = i
    else break
  }
  return index === -1 ? undefined : { entry: history[index]!, previous: history[index - 1] }
}

/**
 * The variant `experiment` served `userId` at `atMillis`: `history` is its kept definition
 * history (oldest first), `sticky` the user's stored assignment if any (it counts only when
 * stored by then), `attributes` what the user's requests carried (targeting may read them).
 */
export const servedByExperiment = (input: {
  readonly experiment: Experiment
  readonly history: ReadonlyArray<DefinitionRevision>
  readonly atMillis: number
  readonly userId: string
  readonly attributes?: Attributes | undefined
  readonly sticky: Assignment | undefined
}): ExperimentServed | NotAnswerable => {
  const { atMillis, experiment, history, sticky, userId } = input
  const found = inForce(history, atMillis)
  if (found === undefined) {
    const oldest = history[0]
    // The oldest kept entry is the creation unless the cap dropped earlier ones.
    return oldest === undefined || oldest.revision === 1
      ? { _tag: "BeforeCreation", createdAt: experiment.createdAt }
      : { _tag: "HistoryTruncated", oldestAt: oldest.at }
  }
  const { entry, previous } = found
  const context = `revision ${entry.revision} (${describeChange(previous, entry)} at ${entry.at})`
  const answer = (variant: number, source: ExperimentServed["source"], why: string): ExperimentServed => ({
    variant,
    modelId: experiment.variants[variant]!.modelId,
    source,
    definitionRevision: entry.revision,
    explanation: `${why}; definition in force: ${context}`
  })
  const control = controlIndex(experiment)
  if (entry.status !== "running") {
    const winner = entry.winnerModelId === null
      ? -1
      : experiment.variants.findIndex((v) => v.modelId === entry.winnerModelId)
    return winner === -1
      ? answer(control, "forced-control", `the experiment was ${entry.status}: everyone got the control`)
      : answer(winner, "winner", `the experiment was completed: everyone got the winner`)
  }
  // The definition as it was: the weights in force (bandit or split) and the coverage then.
  const targeted = makeTargetedAssigner({
    ...experiment,
    coverage: entry.coverage,
    mode: "bandit",
    banditHistory: [{ at: entry.at, weights: entry.weights }]
  })(userId, input.attributes)
  // A kept sticky assignment wins over targeting and coverage, as in assignment (keepsStickyVariant).
  if (
    experiment.stickyAssignment && keepsStickyVariant(targeted) && sticky !== undefined &&
    Date.parse(sticky.at) <= atMillis
  ) {
    return {
      ...answer(sticky.variant, "sticky", `sticky assignment stored at ${sticky.at}`),
      modelId: sticky.modelId
    }
  }
  if (typeof targeted === "string" && targeted !== "coverage") {
    return answer(control, "forced-control", `the user was left out by the experiment's ${targeted}: the control`)
  }
  if (targeted === "coverage") {
    return answer(control, "forced-control", `the user was outside the coverage (${entry.coverage}): the control`)
  }
  return answer(
    targeted,
    "hashed",
    `hashed into variant ${targeted} with weights [${entry.weights.join(", ")}]` +
      (experiment.stickyAssignment ? " (no sticky assignment was stored by then)" : "")
  )
}

/**
 * The model id `alias` of a name pointed to at `at`, from the name's audit events (append order),
 * or null when it pointed nowhere. `production` is the version promoted to production
 * (productionAt); any other alias follows its alias_set / alias_deleted events (aliasAt).
 */
export const aliasTargetAt = (events: ReadonlyArray<AuditEvent>, alias: string, at: string): string | null =>
  alias === productionAlias ? productionAt(events, at) : aliasAt(events, alias, at)

/** The retention of the history, for the answers that hit it. */
export const historyRetention = `the newest ${MAX_DEFINITION_HISTORY} definition changes are kept per experiment`
