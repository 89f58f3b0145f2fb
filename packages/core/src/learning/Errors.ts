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

export { LearnerStateFormatError } from "./learners/LearnerStateFormatError.js"
