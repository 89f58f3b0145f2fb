/**
 * Schemas for big or hot values, whose decoding must cost what the checks guarding them cost
 * today: a learner state holds arrays of up to 2^24 numbers, a buffer read returns up to a
 * million feature objects, a request carries 100,000 samples whose values the use case checks
 * anyway. Walking such values element by element through Schema's parser would cost more than
 * reading them. These schemas decode with a plain check (or a cheaper envelope schema) and
 * document the full shape in JSON Schema, so /openapi.json and generated clients still see every
 * field and type.
 */
import { Effect, Schema, SchemaIssue, SchemaParser, SchemaTransformation } from "effect"

interface Documentation {
  readonly title?: string
  readonly description?: string
}

/** The JSON form of a declaration: exactly `documented`'s (the values are not transformed). */
const jsonAs = <S extends Schema.Top>(documented: S) => () =>
  Schema.link<S["Type"]>()(documented, SchemaTransformation.passthrough())

/**
 * A schema of `documented`'s type that decodes by `problemOf` (undefined when the value is fine,
 * else a message naming the field at fault) and exports `documented` as its JSON Schema.
 */
export const checkedSchema = <S extends Schema.Top>(
  documented: S,
  problemOf: (input: unknown) => string | undefined,
  documentation: Documentation = {}
) =>
  Schema.declareConstructor<S["Type"]>()(
    [],
    () => (input, _ast, options) => {
      const problem = problemOf(input)
      return problem === undefined
        ? Effect.succeed(input as S["Type"])
        : Effect.fail(new SchemaIssue.InvalidValue({ message: problem }, input, options))
    },
    { ...documentation, toCodecJson: jsonAs(documented) }
  )

/**
 * A request body documented as `documented` but decoded by `envelope`, which checks its shape
 * and leaves the values to the use case: the use case checks every value once, naming the field
 * and the value (and knows what a schema cannot, such as the pipeline's kind). The decoded value
 * has `documented`'s type; the use case that receives it re-checks what the envelope left open.
 */
export const documentedAs = <S extends Schema.Top>(
  envelope: Schema.Decoder<unknown>,
  documented: S,
  documentation: Documentation = {}
) =>
  Schema.declareConstructor<S["Type"]>()(
    [envelope],
    ([envelopeCodec]) => {
      const decode = SchemaParser.decodeUnknownEffect(envelopeCodec)
      return (input, _ast, options) => decode(input, options) as Effect.Effect<S["Type"], SchemaIssue.Issue>
    },
    { ...documentation, toCodecJson: jsonAs(documented) }
  )
