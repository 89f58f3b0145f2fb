/**
 * Who a change records (issue 12): the authenticated actor, with what the request claimed kept
 * as a separate onBehalfOf annotation; text without control or bidi characters; and records of
 * the previous release (actor fields of any length, no onBehalfOf) still decoding.
 */
import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import { CreateExperimentInput } from "../src/experiments/Experiment.js"
import { AuditEvent } from "../src/registry/AuditEvent.js"
import { PromoteModelInput, RegisterModelInput } from "../src/registry/Model.js"
import { newModel } from "../src/registry/ModelChanges.js"
import { OnBehalfOf, SafeLabel, SafeText } from "../src/shared/SafeText.js"

const at = "2030-01-01T00:00:00.000Z"
const input = { name: "n", version: "1", algorithm: "a", framework: "f" }
const accepts = (schema: Schema.Decoder<unknown>, value: unknown) =>
  Schema.decodeUnknownResult(schema)(value)._tag === "Success"

describe("attribution of a registration", () => {
  it("records the authenticated actor as createdBy and the claimed creator only as onBehalfOf", () => {
    const model = newModel({ ...input, createdBy: "ceo@corp" }, "01ARZ3NDEKTSV4RRFFQ69G5FAV", at, { actor: "ci" })
    expect([model.createdBy, model.onBehalfOf]).toEqual(["ci", "ceo@corp"])
  })

  it("prefers the body's onBehalfOf, then the header's", () => {
    const id = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    expect(newModel({ ...input, onBehalfOf: "body" }, id, at, { actor: "ci", onBehalfOf: "header" }).onBehalfOf)
      .toBe("body")
    expect(newModel(input, id, at, { actor: "ci", onBehalfOf: "header" }).onBehalfOf).toBe("header")
  })

  it("keeps a pipeline's createdBy when no authenticated actor is given (callers inside the process)", () => {
    const model = newModel({ ...input, createdBy: "pipeline:p1" }, "01ARZ3NDEKTSV4RRFFQ69G5FAV", at)
    expect(model.createdBy).toBe("pipeline:p1")
    expect("onBehalfOf" in model).toBe(false)
  })
})

describe("safe text", () => {
  it.each([
    ["newline", "a\nb"],
    ["carriage return", "a\rb"],
    ["NUL", "a\u0000b"],
    ["DEL", "a\u007Fb"],
    ["C1 NEL", "a\u0085b"],
    ["right-to-left override", "a\u202Eb"],
    ["left-to-right isolate", "a\u2066b"],
    ["right-to-left mark", "a\u200Fb"],
    ["Arabic letter mark", "a\u061Cb"]
  ])("refuses a %s in a label and in onBehalfOf", (_name, text) => {
    expect(accepts(SafeLabel(128), text)).toBe(false)
    expect(accepts(OnBehalfOf, text)).toBe(false)
  })

  it("accepts ordinary Unicode, and newlines and tabs in prose only", () => {
    expect(accepts(SafeLabel(128), "Zoë 数据 team@corp")).toBe(true)
    expect(accepts(SafeText(100), "line one\n\tline two")).toBe(true)
    expect(accepts(SafeText(100), "bad\u202E")).toBe(false)
  })

  it("limits onBehalfOf to 256 characters", () => {
    expect(accepts(OnBehalfOf, "a".repeat(256))).toBe(true)
    expect(accepts(OnBehalfOf, "a".repeat(257))).toBe(false)
  })

  it("refuses the deprecated actor and createdBy aliases under the same rules", () => {
    expect(accepts(PromoteModelInput, { status: "testing", actor: "bob\nforged" })).toBe(false)
    expect(accepts(RegisterModelInput, { ...input, createdBy: "x".repeat(16 * 1024) })).toBe(false)
  })

  it("refuses control characters in an experiment's name and description", () => {
    const experiment = { name: "split", targetMetric: "revenue", variants: [] }
    expect(accepts(CreateExperimentInput, experiment)).toBe(true)
    expect(accepts(CreateExperimentInput, { ...experiment, name: "split\nforged" })).toBe(false)
    expect(accepts(CreateExperimentInput, { ...experiment, description: "a\u202Eb" })).toBe(false)
  })

  it("states the limits in the JSON Schema (OpenAPI shows maxLength)", () => {
    const document = Schema.toJsonSchemaDocument(RegisterModelInput)
    const text = JSON.stringify(document)
    expect(text).toContain("\"maxLength\":256")
    expect(text).toContain("\"maxLength\":128")
  })
})

describe("records of the previous release", () => {
  it("decode: an audit event whose actor was forged (long, with control characters) and no onBehalfOf", () => {
    const event = {
      at,
      modelId: "01ARZ3NDEKTSV4RRFFQ69G5FAV",
      name: "n",
      version: "1",
      action: "promoted",
      actor: `ceo@corp\n${"x".repeat(16 * 1024)}\u202E`,
      from: "draft",
      to: "testing",
      reason: null
    }
    expect(accepts(AuditEvent, event)).toBe(true)
  })
})
