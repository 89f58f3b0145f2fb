/**
 * `isRowsBodyAsIs` lets a rows body skip the schema's walk (BodySpec.acceptsAsIs), so it must be
 * true only where `ObservationsBody` accepts the body and decodes it to an equal value: checked
 * here against the schema itself (the same options the server decodes with) over ordinary,
 * boundary and hostile bodies.
 */
import { Result, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { isRowsBodyAsIs, MAX_FEATURES_PER_MONITOR, MAX_ROWS_PER_BATCH, ObservationsBody } from "../src/index.js"

const decode = Schema.decodeUnknownResult(ObservationsBody)
const schemaVerdict = (body: unknown) => decode(body, { errors: "all", onExcessProperty: "error" })

const row = (features: number) => Object.fromEntries(Array.from({ length: features }, (_, i) => [`f${i}`, i]))

/** Bodies as the server has them: parsed from JSON text. */
const parsed = (text: string): unknown => JSON.parse(text)

const bodies: ReadonlyArray<readonly [string, unknown]> = [
  ["ten rows", { rows: Array.from({ length: 10 }, () => ({ amount: 1.5, country: "DE", missing: null })) }],
  ["no rows", { rows: [] }],
  ["an empty row", { rows: [{}] }],
  ["values of any JSON type", parsed(`{"rows":[{"a":[1,2],"b":{"c":1},"d":true,"e":"x","f":null}]}`)],
  ["rows at the feature bound", { rows: [row(MAX_FEATURES_PER_MONITOR)] }],
  ["a row over the feature bound", { rows: [row(1), row(MAX_FEATURES_PER_MONITOR + 1)] }],
  ["rows at the row bound", { rows: Array.from({ length: MAX_ROWS_PER_BATCH }, () => ({ a: 1 })) }],
  ["rows over the row bound", { rows: Array.from({ length: MAX_ROWS_PER_BATCH + 1 }, () => ({ a: 1 })) }],
  ["a null row", { rows: [{ a: 1 }, null] }],
  ["an array row", { rows: [[1, 2]] }],
  ["a number row", { rows: [3] }],
  ["a string row", { rows: ["a"] }],
  ["rows not an array", { rows: { a: 1 } }],
  ["rows null", { rows: null }],
  ["an excess field", { rows: [{ a: 1 }], extra: 1 }],
  ["columns and rows", { values: { a: [1] }, rows: [{ a: 1 }] }],
  ["columns", { values: { a: [1, 2] } }],
  ["nothing", {}],
  ["an array body", [{ rows: [] }]],
  ["null", null],
  ["a string", "rows"],
  ["a __proto__ row key", parsed(`{"rows":[{"__proto__":{"a":1},"b":2}]}`)],
  ["a __proto__ body key", parsed(`{"rows":[{"a":1}],"__proto__":{"x":1}}`)],
  ["a constructor key", parsed(`{"rows":[{"constructor":1,"toString":"x"}]}`)]
]

describe("isRowsBodyAsIs", () => {
  it.each(bodies)("%s: accepted as is only where the schema accepts it unchanged", (_, body) => {
    const verdict = schemaVerdict(body)
    if (isRowsBodyAsIs(body)) {
      expect(Result.isSuccess(verdict)).toBe(true)
      expect(Result.getOrThrow(verdict)).toEqual(body)
    }
  })

  it("accepts the ordinary bodies, so the hot route skips the walk", () => {
    const accepted = bodies.filter(([, body]) => isRowsBodyAsIs(body)).map(([name]) => name)
    expect(accepted).toEqual([
      "ten rows",
      "no rows",
      "an empty row",
      "values of any JSON type",
      "rows at the feature bound",
      "rows at the row bound",
      "a constructor key"
    ])
  })
})
