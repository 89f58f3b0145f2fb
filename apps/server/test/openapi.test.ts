import { compileErrors, validate } from "@readme/openapi-parser"
import { describe, expect, it } from "vitest"
import { makeOpenApi } from "../src/index.js"

describe("OpenAPI document", () => {
  it("is a valid OpenAPI 3.1 document according to an independent validator", async () => {
    const result = await validate(structuredClone(makeOpenApi()) as never)
    if (!result.valid) throw new Error(compileErrors(result))
    expect(result.valid).toBe(true)
  })

  it("carries the domain's validation rules (patterns, limits, closed objects)", () => {
    const schemas = makeOpenApi().components.schemas as Record<string, any>
    expect(schemas.RegisterModelInput.properties.name.pattern).toBe("^[A-Za-z0-9][A-Za-z0-9._-]*$")
    expect(schemas.RegisterModelInput.additionalProperties).toBe(false)
    expect(schemas.Model.properties.status.enum).toEqual(["draft", "testing", "staging", "production", "archived"])
    expect(schemas.Model.properties.metrics.additionalProperties).toEqual({ type: "number" })
  })
})
