import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import {
  documentedErrors,
  endpoints,
  hasPermission,
  permissions,
  problemKinds,
  readsBeyondViewer,
  routePattern
} from "../src/index.js"

const decodes = (schema: Schema.Top, value: unknown) =>
  Schema.decodeUnknownResult(schema as Schema.Decoder<unknown>)(value, { errors: "all", onExcessProperty: "error" })

describe("endpoint tables", () => {
  it("give every operation a unique operationId and a unique method and path", () => {
    const ids = endpoints.map((e) => e.operationId)
    const routes = endpoints.map((e) => `${e.method} ${e.path}`)
    expect(new Set(ids).size).toBe(ids.length)
    expect(new Set(routes).size).toBe(routes.length)
  })

  it("use every permission of the role matrix: no dead entries", () => {
    // Checked by handlers (the target status of a promotion, a protected alias), not declared by a route.
    const checkedByHandlers = new Set(["models:promote-production", "models:protected-aliases"])
    const declared = new Set(endpoints.map((e) => e.permission as string))
    for (const permission of permissions) {
      expect(declared.has(permission) || checkedByHandlers.has(permission), permission).toBe(true)
    }
  })

  it("let a viewer call every GET but the declared key-management reads", () => {
    const beyond = endpoints.filter((e) => e.method === "GET" && !hasPermission("viewer", e.permission))
    expect(beyond.map((e) => e.operationId).sort()).toEqual([...readsBeyondViewer].sort())
  })

  it("declare a params schema naming exactly the path's parameters", () => {
    for (const e of endpoints) {
      const inPath = [...e.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort()
      const declared = e.params && "fields" in e.params ? Object.keys(e.params.fields as object).sort() : []
      expect(declared, e.operationId).toEqual(inPath)
    }
  })

  it.each(endpoints.map((e) => [e.operationId, e] as const))(
    "%s: examples decode with the schemas they illustrate",
    (_id, e) => {
      if (e.body) expect(decodes(e.body.schema, e.body.example)._tag, "body example").toBe("Success")
      if (e.success.schema) {
        expect(e.success.example, "success example").toBeDefined()
        expect(decodes(e.success.schema, e.success.example)._tag, "success example").toBe("Success")
      } else if (e.success.status !== 204 && e.success.contentType !== "application/octet-stream") {
        expect(e.success.example, "a text answer has an example").toBeDefined()
      }
    }
  )

  it("document every error an operation can answer with, each with a status", () => {
    for (const e of endpoints) {
      const errors = documentedErrors(e)
      expect(errors, e.operationId).toContain("InternalError")
      if (e.path.startsWith("/v1/")) expect(errors, e.operationId).toContain("Unauthorized")
      if (e.params || e.query || e.body) expect(errors, e.operationId).toContain("ValidationError")
      for (const tag of errors) expect(problemKinds[tag].status, tag).toBeGreaterThanOrEqual(400)
    }
  })

  it("turn OpenAPI path templates into Hono route patterns", () => {
    expect(routePattern("/v1/registry/{name}/production")).toBe("/v1/registry/:name/production")
    // A suffix in the parameter's segment stays in the value, matched literally (the dot is no wildcard).
    expect(routePattern("/v1/drift/reports/{id}.html")).toBe("/v1/drift/reports/:id{[^/]+\\.html}")
  })
})
