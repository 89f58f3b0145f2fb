/**
 * The operational endpoints: liveness, readiness, Prometheus metrics and the contract itself
 * (/openapi.json and the /docs page rendered from it). They sit outside /v1, so no bearer token
 * is needed, and anyone may call them.
 */
import { Schema } from "effect"
import { endpoint } from "./Endpoint.js"

export const Liveness = Schema.Struct({ status: Schema.Literal("ok") })
export const Readiness = Schema.Struct({ status: Schema.Literal("ready") })
/** The generated OpenAPI 3.1 document (described by the OpenAPI specification, not repeated here). */
export const OpenApiDocument = Schema.Record(Schema.String, Schema.Unknown).annotate({
  description: "An OpenAPI 3.1 document"
})

export const health = endpoint({
  operationId: "health",
  method: "GET",
  path: "/healthz",
  resource: "Operations",
  summary: "Liveness",
  permission: "public",
  success: { status: 200, description: "Alive", schema: Liveness, example: { status: "ok" } },
  errors: []
})

export const ready = endpoint({
  operationId: "ready",
  method: "GET",
  path: "/readyz",
  resource: "Operations",
  summary: "Readiness: storage answers and the data directory has room",
  description: "503 when storage does not answer, or (problem with `reason: insufficient-storage` and `directory`) " +
    "when the data directory has less free space than ML_MIN_FREE_BYTES or the last write failed for want of " +
    "space; ready again by itself once space is freed.",
  permission: "public",
  success: { status: 200, description: "Ready", schema: Readiness, example: { status: "ready" } },
  errors: ["StorageError"]
})

export const metrics = endpoint({
  operationId: "metrics",
  method: "GET",
  path: "/metrics",
  resource: "Operations",
  summary: "Prometheus metrics",
  permission: "metrics",
  success: {
    status: 200,
    description: "Text exposition format",
    contentType: "text/plain",
    example: "# HELP ml_models_total Models per lifecycle status\n# TYPE ml_models_total gauge\n" +
      "ml_models_total{status=\"production\"} 3\n"
  },
  errors: []
})

export const openApi = endpoint({
  operationId: "openApi",
  method: "GET",
  path: "/openapi.json",
  resource: "Operations",
  summary: "This contract as an OpenAPI 3.1 document",
  permission: "public",
  success: {
    status: 200,
    description: "The document",
    schema: OpenApiDocument,
    example: { openapi: "3.1.0", info: { title: "ML Pipeline API", version: "0.1.0" }, paths: {} }
  },
  errors: []
})

export const docs = endpoint({
  operationId: "docs",
  method: "GET",
  path: "/docs",
  resource: "Operations",
  summary: "Browsable API docs (fields, types and examples of every operation)",
  permission: "public",
  success: {
    status: 200,
    description: "An HTML page",
    contentType: "text/html",
    example: "<!doctype html><html lang=\"en\">...</html>"
  },
  errors: []
})

export const endpoints = [health, ready, metrics, openApi, docs] as const
