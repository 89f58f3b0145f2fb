import { describe, expect, it } from "vitest"
import { endpoint, endpoints, makeOpenApi, namedSchemas, Registry } from "../src/index.js"

const document = makeOpenApi({ endpoints, schemas: namedSchemas })
const operations = Object.entries(document.paths).flatMap(([path, item]) =>
  Object.entries(item).map(([method, op]) => ({ path, method, op: op as Record<string, any> }))
)

describe("generated OpenAPI document", () => {
  it("has one operation per endpoint, with its operationId, tag, summary and permission", () => {
    expect(operations.length).toBe(endpoints.length)
    for (const e of endpoints) {
      const op = document.paths[e.path]![e.method.toLowerCase()] as Record<string, unknown>
      expect(op).toMatchObject({
        operationId: e.operationId,
        tags: [e.resource],
        summary: e.summary,
        "x-permission": e.permission
      })
    }
  })

  it("gives every operation a success answer with an example, and a schema when it is JSON", () => {
    for (const { op, path } of operations) {
      const [status, success] = Object.entries(op.responses as Record<string, any>)[0]!
      expect(Number(status), path).toBeLessThan(300)
      if (status === "204") continue
      const [type, media] = Object.entries(success.content as Record<string, any>)[0]!
      expect(media.schema, path).toBeDefined()
      if (type !== "application/octet-stream") expect(media.example, path).toBeDefined()
    }
  })

  it("groups errors by status, listing the tags that answer with each as the code enum", () => {
    const responses = document.paths["/v1/models/{id}/promote"]!.post!.responses as Record<string, any>
    const codes = (status: string) =>
      responses[status].content["application/problem+json"].schema.allOf[1].properties.code.enum
    expect(codes("409")).toEqual(["InvalidTransitionError", "ArtifactStateError"])
    expect(codes("404")).toEqual(["ModelNotFoundError"])
    expect(codes("400")).toEqual(["ValidationError"])
    expect(responses["409"].content["application/problem+json"].example).toMatchObject({
      status: 409,
      code: "InvalidTransitionError",
      type: "urn:ml-pipeline:problem:invalid-transition"
    })
  })

  it("documents Retry-After on every 429 and WWW-Authenticate on every 401", () => {
    let checked = 0
    for (const item of Object.values(document.paths)) {
      for (const operation of Object.values(item as Record<string, any>)) {
        const responses = operation.responses as Record<string, any>
        if (responses["429"]) {
          expect(responses["429"].headers["Retry-After"].schema).toEqual({ type: "integer", minimum: 1 })
          checked++
        }
        if (responses["401"]) {
          expect(responses["401"].headers["WWW-Authenticate"].schema).toMatchObject({ type: "string" })
          checked++
        }
      }
    }
    expect(checked).toBeGreaterThan(80)
  })

  it("names shared schemas once and references them", () => {
    const schemas = document.components.schemas as Record<string, any>
    expect(schemas.ModelPage.properties.items.items).toEqual({ $ref: "#/components/schemas/Model" })
    expect(schemas.Problem.required).toEqual(["type", "title", "status", "detail", "code"])
    const history = document.paths["/v1/models/{id}/history"]!.get!.responses as Record<string, any>
    expect(history["200"].content["application/json"].schema).toEqual({
      type: "array",
      items: { $ref: "#/components/schemas/AuditEvent" }
    })
  })

  it("documents query values by their decoded type and path parameters as required", () => {
    const parameters = document.paths["/v1/models"]!.get!.parameters as Array<Record<string, any>>
    expect(parameters.find((p) => p.name === "limit")).toEqual({
      name: "limit",
      in: "query",
      required: false,
      schema: { type: "integer", minimum: 1, maximum: 500 }
    })
    const production = document.paths["/v1/registry/{name}/production"]!.get!.parameters as Array<any>
    expect(production.map((p) => [p.name, p.in, p.required])).toEqual([["name", "path", true], ["at", "query", false]])
    expect(production[1].schema).toEqual({ type: "string", format: "date-time" })
  })

  it("refuses two endpoints for one method and path", () => {
    const twice = endpoint({ ...Registry.getModel, operationId: "again" })
    expect(() => makeOpenApi({ endpoints: [...endpoints, twice], schemas: namedSchemas })).toThrow(/Two endpoints/)
  })
})
