/** Typed errors of A/B tests and bandits. */
import { Data } from "effect"

export class ExperimentNotFoundError extends Data.TaggedError("ExperimentNotFoundError")<{
  readonly experimentId: string
  readonly message: string
}> {}

/** The id is taken, or (with `featureKey`) another unfinished experiment has that feature key. */
export class ExperimentConflictError extends Data.TaggedError("ExperimentConflictError")<{
  readonly experimentId: string
  readonly message: string
  readonly featureKey?: string
}> {}

/** An experiment action not allowed in its current status (e.g. starting a completed one). */
export class ExperimentStateError extends Data.TaggedError("ExperimentStateError")<{
  readonly experimentId: string
  readonly experimentStatus: string
  readonly message: string
}> {}

export type ExperimentError = ExperimentNotFoundError | ExperimentConflictError | ExperimentStateError
