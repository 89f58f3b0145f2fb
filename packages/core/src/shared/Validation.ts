/**
 * Decoding at the boundary: unknown input becomes a typed value or a ValidationError that names
 * every offending field. Unknown fields are errors too, so a typo never passes silently.
 */
import { Effect, Result, Schema, SchemaIssue } from "effect"
import { StorageError, ValidationError } from "./Errors.js"
import { MAX_JSON_DEPTH } from "./InputLimits.js"

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

export const decodeInput = <S extends Schema.Decoder<unknown>>(schema: S, what: string) => {
  const decode = Schema.decodeUnknownResult(schema as any)
  return (input: unknown): Effect.Effect<S["Type"], ValidationError> => {
    let result: ReturnType<typeof decode>
    let formatted: ReturnType<typeof formatter>
    try {
      result = decode(input, { errors: "all", onExcessProperty: "error" })
      if (Result.isSuccess(result)) return Effect.succeed(result.success as S["Type"])
      formatted = formatter(result.failure.issue)
    } catch (error) {
      // Decoding and formatting recurse over the input: a nesting the server did not bound first
      // (MAX_JSON_DEPTH) overflows the stack. That is bad input, described without internals.
      if (!(error instanceof RangeError)) throw error
      const message = `is nested too deeply (at most ${MAX_JSON_DEPTH} levels)`
      return Effect.fail(
        new ValidationError({ message: `Invalid ${what}: ${message}`, issues: [{ path: [], message }] })
      )
    }
    const issues = formatted.issues.map((issue) => ({
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

const summarize = (issue: SchemaIssue.Issue): string =>
  formatter(issue).issues.slice(0, 5).map((i) =>
    `${
      (i.path ?? []).map((s) => typeof s === "object" && s !== null && "key" in s ? String(s.key) : String(s)).join(".")
      || "(record)"
    }: ${i.message}`
  ).join("; ")

/** A record read back from storage did not decode; `where` names the key, or the file and line. */
export const undecodableRecord = (where: string, detail: string, cause?: unknown) =>
  new StorageError({ message: `Stored record at ${where} is not valid: ${detail}`, cause })

/**
 * Decoding at the storage boundary: adapters turn what they read into typed records through
 * the domain schema, so a damaged or foreign record is a StorageError naming where it was read,
 * never a cast that lets it flow into the core.
 */
export interface RecordDecoder<A> {
  /** The typed record; throws the StorageError (for adapters written with promises). */
  readonly orThrow: (value: unknown, where: string) => A
  /** Parses JSON text, then decodes; throws the StorageError for either failure. */
  readonly fromJson: (text: string, where: string) => A
  /** The typed record as an Effect failing with the StorageError. */
  readonly decode: (value: unknown, where: string) => Effect.Effect<A, StorageError>
}

export const storedRecord = <S extends Schema.Decoder<unknown>>(schema: S): RecordDecoder<S["Type"]> => {
  const decode = Schema.decodeUnknownResult(schema as any)
  const orThrow = (value: unknown, where: string): S["Type"] => {
    const result = decode(value)
    if (Result.isSuccess(result)) return result.success as S["Type"]
    throw undecodableRecord(where, summarize(result.failure.issue))
  }
  return {
    orThrow,
    fromJson: (text: string, where: string): S["Type"] => {
      let value: unknown
      try {
        value = JSON.parse(text)
      } catch (cause) {
        throw undecodableRecord(where, `not JSON (${(cause as Error).message})`, cause)
      }
      return orThrow(value, where)
    },
    decode: (value: unknown, where: string): Effect.Effect<S["Type"], StorageError> =>
      Effect.try({ try: () => orThrow(value, where), catch: (error) => error as StorageError })
  }
}
