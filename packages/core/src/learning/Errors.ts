/** Typed errors of online-learning pipelines. */
import { Data } from "effect"

export class PipelineNotFoundError extends Data.TaggedError("PipelineNotFoundError")<{
  readonly pipelineId: string
  readonly message: string
}> {}

export class PipelineConflictError extends Data.TaggedError("PipelineConflictError")<{
  readonly pipelineId: string
  readonly message: string
}> {}

export type LearningError = PipelineNotFoundError | PipelineConflictError

/**
 * A binary learner state (format 2) that cannot be read: `part` says where it went wrong
 * ("magic", "header", "slots", "values", "length", "checksum"), the message what was found. Raised by
 * loadLearner, a pure function; the use cases turn it into a ValidationError naming the model,
 * so it is not among the errors HTTP maps.
 */
export class LearnerStateFormatError extends Data.TaggedError("LearnerStateFormatError")<{
  readonly part: "magic" | "header" | "slots" | "values" | "length" | "checksum"
  readonly message: string
}> {}
