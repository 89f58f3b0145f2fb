/**
 * How an experiment's winner reaches production: the model-lifecycle steps from its current
 * status, one at a time as the registry requires (draft -> testing -> staging -> production),
 * derived from the lifecycle table so the two never disagree. Archived models have no path.
 */
import { transitions } from "../registry/Lifecycle.js"
import type { ModelStatus } from "../registry/Model.js"

const forward = (status: ModelStatus) => transitions[status].find((next) => next !== "archived")

/** The statuses a model passes through, in order, to reach production (empty when it is there or archived). */
export const promotionSteps = (from: ModelStatus): Array<ModelStatus> => {
  const steps: Array<ModelStatus> = []
  for (let status = forward(from); status !== undefined; status = forward(status)) steps.push(status)
  return steps
}
