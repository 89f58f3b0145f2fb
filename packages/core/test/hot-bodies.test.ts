/**
 * `isAssignmentBodyAsIs` and `isMetricBodyAsIs` let the assignment and metric bodies skip their
 * schemas' walk (BodySpec.acceptsAsIs), so each must be true only where its schema accepts the
 * body and decodes it to an equal value: checked here against the schemas themselves (with the
 * options the server decodes with) over ordinary, boundary and hostile bodies.
 */
import { Result, Schema } from "effect"
import { describe, expect, it } from "vitest"
import {
  AssignmentRequest,
  isAssignmentBodyAsIs,
  isMetricBodyAsIs,
  MAX_VALUE_MAGNITUDE,
  RecordMetricsInput
} from "../src/index.js"

const verdictOf = (schema: Schema.Decoder<unknown>) => {
  const decode = Schema.decodeUnknownResult(schema)
  return (body: unknown) => decode(body, { errors: "all", onExcessProperty: "error" })
}

/** Bodies as the server has them: parsed from JSON text. */
const parsed = (text: string): unknown => JSON.parse(text)

const modelId = "01J9Z8K2W4X6Y8A0B2C4D6E8FG"

const assignmentBodies: ReadonlyArray<readonly [string, unknown]> = [
  ["a user", { userId: "user-42" }],
  ["a one-character user", { userId: "u" }],
  ["a user at the length bound", { userId: "u".repeat(256) }],
  ["a user over the length bound", { userId: "u".repeat(257) }],
  ["an empty user", { userId: "" }],
  ["a user with a newline", { userId: "a\nb" }],
  ["a user with a right-to-left override", { userId: "a\u202Eb" }],
  ["a user with DEL", { userId: "a\u007Fb" }],
  ["a non-ASCII user", { userId: "jürgen-東京" }],
  ["a numeric user", { userId: 42 }],
  ["a null user", { userId: null }],
  ["a user with attributes", { userId: "u1", attributes: { country: "DE" } }],
  ["a batch", { userIds: ["a", "b"] }],
  ["a user and a batch", { userId: "a", userIds: ["b"] }],
  ["an excess field", { userId: "a", extra: 1 }],
  ["nothing", {}],
  ["an array body", [{ userId: "a" }]],
  ["null", null],
  ["a string", "userId"],
  ["a __proto__ key", parsed(`{"userId":"a","__proto__":{"x":1}}`)],
  ["only a __proto__ key", parsed(`{"__proto__":{"userId":"a"}}`)]
]

const metricBodies: ReadonlyArray<readonly [string, unknown]> = [
  ["one observation", { modelId, metric: "conversion", value: 1 }],
  ["keys in another order", { value: 0.5, metric: "revenue", modelId }],
  ["with a covariate", { modelId, metric: "revenue", value: 12.5, covariate: 3 }],
  ["with a denominator", { modelId, metric: "clicks", value: 3, denominator: 14 }],
  ["with both", { modelId, metric: "clicks", value: 3, covariate: 1, denominator: 14 }],
  ["values at the magnitude bound", {
    modelId,
    metric: "m",
    value: MAX_VALUE_MAGNITUDE,
    covariate: -MAX_VALUE_MAGNITUDE
  }],
  ["a value over the magnitude bound", { modelId, metric: "m", value: MAX_VALUE_MAGNITUDE * 10 }],
  ["a covariate over the magnitude bound", { modelId, metric: "m", value: 1, covariate: -MAX_VALUE_MAGNITUDE * 10 }],
  ["negative zero", parsed(`{"modelId":"${modelId}","metric":"m","value":-0}`)],
  ["an empty metric name", { modelId, metric: "", value: 1 }],
  ["a string value", { modelId, metric: "m", value: "1" }],
  ["a null value", { modelId, metric: "m", value: null }],
  ["a null covariate", { modelId, metric: "m", value: 1, covariate: null }],
  ["no value", { modelId, metric: "m" }],
  ["no metric", { modelId, value: 1 }],
  ["no model", { metric: "m", value: 1 }],
  ["a lower-case model id", { modelId: modelId.toLowerCase(), metric: "m", value: 1 }],
  ["a short model id", { modelId: modelId.slice(1), metric: "m", value: 1 }],
  ["a model id with I", { modelId: `I${modelId.slice(1)}`, metric: "m", value: 1 }],
  ["a numeric metric", { modelId, metric: 3, value: 1 }],
  ["with dimensions", { modelId, metric: "m", value: 1, dimensions: { country: "de" } }],
  ["an excess field", { modelId, metric: "m", value: 1, extra: true }],
  ["a batch", { observations: [{ modelId, metric: "m", value: 1 }] }],
  ["nothing", {}],
  ["an array body", [{ modelId, metric: "m", value: 1 }]],
  ["null", null],
  ["a __proto__ key", parsed(`{"modelId":"${modelId}","metric":"m","value":1,"__proto__":{"x":1}}`)],
  ["a constructor key", parsed(`{"modelId":"${modelId}","metric":"m","value":1,"constructor":1}`)]
]

const predicates = [
  {
    predicate: "isAssignmentBodyAsIs",
    accepts: isAssignmentBodyAsIs,
    verdict: verdictOf(AssignmentRequest as Schema.Decoder<unknown>),
    bodies: assignmentBodies,
    ordinary: ["a user", "a one-character user", "a user at the length bound", "a non-ASCII user"]
  },
  {
    predicate: "isMetricBodyAsIs",
    accepts: isMetricBodyAsIs,
    verdict: verdictOf(RecordMetricsInput as Schema.Decoder<unknown>),
    bodies: metricBodies,
    ordinary: [
      "one observation",
      "keys in another order",
      "with a covariate",
      "with a denominator",
      "with both",
      "values at the magnitude bound",
      "negative zero",
      "an empty metric name"
    ]
  }
]

for (const { accepts, bodies, ordinary, predicate, verdict } of predicates) {
  describe(predicate, () => {
    it.each(bodies)("%s: accepted as is only where the schema accepts it unchanged", (_, body) => {
      if (accepts(body)) {
        const decoded = verdict(body)
        expect(Result.isSuccess(decoded)).toBe(true)
        expect(Result.getOrThrow(decoded)).toEqual(body)
      }
    })

    it("accepts the ordinary bodies, so the hot route skips the walk", () => {
      expect(bodies.filter(([, body]) => accepts(body)).map(([name]) => name)).toEqual(ordinary)
    })
  })
}
