/**
 * A binary learner state (format 2) that cannot be read: `part` says where it went wrong
 * ("magic", "header", "slots", "values", "length", "checksum"), the message what was found. Raised by
 * loadLearner, a pure function; the use cases turn it into a ValidationError naming the model,
 * so it is not among the errors HTTP maps. A plain Error with a `_tag` (Effect's catchTag still
 * finds it), so the learners' edge entry holds no Effect code.
 */
export class LearnerStateFormatError extends Error {
  readonly _tag = "LearnerStateFormatError" as const
  readonly part: "magic" | "header" | "slots" | "values" | "length" | "checksum"

  constructor(props: {
    readonly part: "magic" | "header" | "slots" | "values" | "length" | "checksum"
    readonly message: string
  }) {
    super(props.message)
    this.name = "LearnerStateFormatError"
    this.part = props.part
  }
}
