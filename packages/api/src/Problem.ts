/**
 * RFC 9457 problem details: the body of every error response. `code` is the error tag, the
 * status and title come from the typed table in Errors.ts, and the error's own fields (model id,
 * from/to, digests, field issues) ride along as extensions so clients can act on them.
 */
import { Schema } from "effect"
import { type ApiErrorTag, problemKinds } from "./Errors.js"

/** One offending field of a 400: its dotted path and what is wrong with it. */
export const FieldProblem = Schema.Struct({ path: Schema.String, message: Schema.String })

export const ProblemDetails = Schema.StructWithRest(
  Schema.Struct({
    type: Schema.String,
    title: Schema.String,
    status: Schema.Int,
    detail: Schema.String,
    instance: Schema.optionalKey(Schema.String),
    code: Schema.String,
    errors: Schema.optionalKey(Schema.Array(FieldProblem))
  }),
  [Schema.Record(Schema.String, Schema.Unknown)]
).annotate({
  description: "RFC 9457 problem details. `code` is the error tag; other fields depend on it (e.g. `errors` for 400)."
})
export type ProblemDetails = typeof ProblemDetails.Type

const kebab = (tag: string) => tag.replace(/Error$/, "").replace(/([a-z])([A-Z])/g, "$1-$2").toLowerCase()

/** The problem `type` URI of an error tag: urn:ml-pipeline:problem:model-not-found */
export const problemType = (code: ApiErrorTag): string => `urn:ml-pipeline:problem:${kebab(code)}`

/** The problem body for an error tag; extensions never override the standard members. */
export const problem = (
  code: ApiErrorTag,
  detail: string,
  extensions: Readonly<Record<string, unknown>> = {},
  instance?: string
): ProblemDetails => {
  const kind = problemKinds[code]
  return {
    ...extensions,
    type: problemType(code),
    title: kind.title,
    status: kind.status,
    detail,
    ...(instance ? { instance } : {}),
    code
  }
}
