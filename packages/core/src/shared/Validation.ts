/**
 * Decoding at the boundary: unknown input becomes a typed value or a ValidationError that names
 * every offending field. Unknown fields are errors too, so a typo never passes silently.
 */
import { Effect, Result, Schema, SchemaIssue } from "effect"
import { ValidationError } from "./Errors.js"

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

export const decodeInput = <S extends Schema.Decoder<unknown>>(schema: S, what: string) => {
  const decode = Schema.decodeUnknownResult(schema as any)
  return (input: unknown): Effect.Effect<S["Type"], ValidationError> => {
    const result = decode(input, { errors: "all", onExcessProperty: "error" })
    if (Result.isSuccess(result)) return Effect.succeed(result.success as S["Type"])
    const issues = formatter(result.failure.issue).issues.map((issue) => ({
      path: (issue.path ?? []).map((segment) =>
        typeof segment === "object" && segment !== null && "key" in segment
          ? String(segment.key)
          : (segment as string | number)
      ),
      message: issue.message === "Expected no excess property" ? "is not a known field" : issue.message
    }))
    const summary = issues.map((i) => `${i.path.length ? i.path.join(".") : "(body)"}: ${i.message}`).join("; ")
    return Effect.fail(new ValidationError({ message: `Invalid ${what}: ${summary}`, issues }))
  }
}
