/**
 * Response bodies of the A/B test endpoints besides the experiment record and its results
 * (Experiment.ts, Results.ts): the model a user is assigned, lists, and the count of what a
 * recording request accepted.
 */
import { Schema } from "effect"
import { ModelId } from "../registry/Model.js"
import { Experiment, ExperimentId } from "./Experiment.js"
import { AssignmentUserId } from "./Requests.js"

/** Which model serves a user, and why. Field order is the order the use case writes. */
export const ModelAssignment = Schema.Struct({
  experimentId: ExperimentId,
  userId: AssignmentUserId,
  /** Index into the experiment's variants. */
  variant: Schema.Int,
  modelId: ModelId,
  /** False when the user is outside coverage or the experiment is not running (they get the control or winner). */
  inExperiment: Schema.Boolean,
  /** True when the answer comes from (or was written to) sticky storage. */
  sticky: Schema.Boolean
})
export type ModelAssignment = typeof ModelAssignment.Type

export const ModelAssignmentList = Schema.Struct({ items: Schema.Array(ModelAssignment) })
export type ModelAssignmentList = typeof ModelAssignmentList.Type

/** The answer to an AssignmentRequest: one assignment for `userId`, a list for `userIds`. */
export const ModelAssignmentAnswer = Schema.Union([ModelAssignment, ModelAssignmentList])
export type ModelAssignmentAnswer = typeof ModelAssignmentAnswer.Type

export const ExperimentList = Schema.Struct({ items: Schema.Array(Experiment) })
export type ExperimentList = typeof ExperimentList.Type

/** How many observations or exposure counts a recording request accepted. */
export const RecordedCount = Schema.Struct({ recorded: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)) })
export type RecordedCount = typeof RecordedCount.Type
