import { endpoints, routePattern } from "@org/ml-api"
import { compileErrors, validate } from "@readme/openapi-parser"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { dashboardRoutes } from "../src/Dashboard.js"
import { makeOpenApi } from "../src/index.js"
import { makeTestApp } from "./helpers.js"

let t: Awaited<ReturnType<typeof makeTestApp>>
beforeAll(async () => {
  t = await makeTestApp()
})
afterAll(() => t.close())

const document = makeOpenApi()
const documented = Object.entries(document.paths).flatMap(([path, item]) =>
  Object.entries(item).map(([method, op]) => ({ route: `${method.toUpperCase()} ${path}`, op }))
)

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

  it("documents every mounted route, and every documented operation is mounted", () => {
    // The dashboard's pages and assets are HTML and files, not API operations.
    const dashboard = new Set(dashboardRoutes({ directory: "/nonexistent" }).routes.map((r) => `${r.method} ${r.path}`))
    const mounted = new Set(
      t.app.routes.filter((r) => r.method !== "ALL" && !dashboard.has(`${r.method} ${r.path}`))
        .map((r) => `${r.method} ${r.path}`)
    )
    const documentedPatterns = documented.map((d) => {
      const [method, path] = d.route.split(" ")
      return `${method} ${routePattern(path!)}`
    })
    expect([...mounted].sort()).toEqual(documentedPatterns.sort())
  })

  it("describes every operation from a table: no hand-written entries", () => {
    const generated = new Set(endpoints.map((e) => `${e.method} ${e.path}`))
    expect(generated.size).toBe(endpoints.length)
    expect(documented.map((d) => d.route).sort()).toEqual([...generated].sort())
    const operationIds = new Set(endpoints.map((e) => e.operationId))
    for (const { route, op } of documented) {
      expect(operationIds.has((op as { operationId?: string }).operationId ?? ""), route).toBe(true)
    }
  })

  it("renders /docs from the document: fields, types, limits, examples and error codes", async () => {
    const html = await (await t.app.request("/docs")).text()
    expect(html).toContain("<code>parentModelId</code>")
    expect(html).toContain("<code>training.dataset</code>")
    expect(html).toContain("max length 128")
    expect(html).toContain("array of <a href=\"#schema-AuditEvent\">AuditEvent</a>")
    expect(html).toContain("Permission: <code>models:promote</code>")
    expect(html).toContain("&quot;reason&quot;: &quot;canary ok&quot;")
    expect(html).toContain("<code>InvalidTransitionError</code>, <code>ArtifactStateError</code>")
    expect(html, "nothing loaded from elsewhere").not.toMatch(/<script|<link|src="http/)
  })
})
