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

const isApiErrorTag = (tag: unknown): tag is ApiErrorTag => typeof tag === "string" && Object.hasOwn(problemKinds, tag)

/**
 * A storage failure: 507 naming the data directory when the write failed for want of space (the
 * operator must free space there), otherwise a 503 that does not expose server paths.
 */
const storageProblem = (fields: Record<string, unknown>, instance: string): ProblemDetails => {
  const { message, reason, directory } = fields
  if (reason !== "insufficient-storage") return problem("StorageError", String(message), {}, instance)
  const named = typeof directory === "string" ? directory : "the data directory"
  return problem(
    "InsufficientStorage",
    `Insufficient storage in ${named}: ${String(message)}`,
    { directory: named },
    instance
  )
}

/**
 * The problem for a typed error (the server's answers, the library entry's errors): its own
 * fields become extensions; field issues become `errors`.
 */
export const problemFromError = (error: unknown, instance: string): ProblemDetails | undefined => {
  const tagged = error as { _tag?: unknown } | null
  if (typeof tagged !== "object" || tagged === null || !isApiErrorTag(tagged._tag)) return undefined
  if (tagged._tag === "StorageError") return storageProblem(tagged as Record<string, unknown>, instance)
  const { _tag, message, cause: _cause, issues, ...fields } = tagged as Record<string, unknown>
  const errors = Array.isArray(issues)
    ? {
      errors: issues.map((issue: { path: ReadonlyArray<unknown>; message: string }) => ({
        path: issue.path.join("."),
        message: issue.message
      }))
    }
    : {}
  return problem(tagged._tag, String(message ?? _tag), { ...fields, ...errors }, instance)
}
