/**
 * The OpenAPI 3.1 document, generated from the endpoint tables: components from the core's
 * schemas (the same ones the routes decode with, so the published contract cannot drift from
 * what the server accepts), and per operation its parameters, body, success answer with an
 * example, error answers grouped by status and the permission it needs. Portable: no runtime
 * modules, so any tool can build the document without starting a server.
 */
import { Schema, type SchemaAST, SchemaRepresentation } from "effect"
import { documentedErrors, type Endpoint, type HeaderSpec, type Resource } from "./Endpoint.js"
import { type ApiErrorTag, problemKinds } from "./Errors.js"
import { problem, ProblemDetails } from "./Problem.js"

type Json = Record<string, unknown>

export interface OpenApiInput {
  readonly endpoints: ReadonlyArray<Endpoint>
  /** Schemas listed by name under components/schemas and referenced wherever they occur. */
  readonly schemas: Readonly<Record<string, Schema.Top>>
}

export type OpenApiDocument = {
  readonly openapi: "3.1.0"
  readonly info: { readonly title: string; readonly version: string; readonly description: string }
  readonly tags: ReadonlyArray<{ readonly name: Resource; readonly description: string }>
  readonly components: { readonly schemas: Json; readonly securitySchemes: Json }
  readonly security: ReadonlyArray<Json>
  readonly paths: Record<string, Record<string, Json>>
}

const resources: OpenApiDocument["tags"] = [
  { name: "Models", description: "The model registry: versions, artifacts, lifecycle and audit trail" },
  { name: "Experiments", description: "A/B tests and bandits between registry models" },
  { name: "Drift", description: "Feature and prediction drift monitors, reports and webhooks" },
  { name: "Pipelines", description: "Online-learning pipelines" },
  { name: "Access", description: "API keys and the roles they grant" },
  { name: "Operations", description: "Health, readiness, metrics and this contract" }
]

/** Objects with declared properties are closed: the server rejects unknown fields (400). */
const adapt = (node: unknown): unknown => {
  if (Array.isArray(node)) return node.map(adapt)
  if (typeof node !== "object" || node === null) return node
  const out: Json = {}
  for (const [key, value] of Object.entries(node)) {
    out[key] = key === "$ref" && typeof value === "string"
      ? value.replace("#/$defs/", "#/components/schemas/")
      : adapt(value)
  }
  if ("properties" in out && out.additionalProperties === true) out.additionalProperties = false
  // An open record (Record<string, unknown>: a targeting condition, user attributes) says so, or
  // generated clients read a bare object type as one without keys.
  if (out.type === "object" && !("properties" in out) && !("additionalProperties" in out)) {
    out.additionalProperties = true
  }
  return out
}

/**
 * JSON Schemas of every schema the document uses, compiled together so named schemas become
 * shared components and are referenced (not repeated) wherever they occur.
 */
const compileSchemas = (roots: ReadonlyArray<Schema.Top>, named: Readonly<Record<string, Schema.Top>>) => {
  const names = new Map<SchemaAST.AST, string>()
  for (const [name, schema] of Object.entries(named)) names.set(Schema.toCodecJson(schema).ast, name)
  const all = [...Object.values(named), ...roots]
  const asts = all.map((schema) => Schema.toCodecJson(schema).ast) as [SchemaAST.AST, ...Array<SchemaAST.AST>]
  const document = SchemaRepresentation.toJsonSchemaMultiDocument(
    SchemaRepresentation.toRepresentations(asts, {
      referencePolicy: ({ ast, identifier }) => names.get(ast) ?? identifier
    })
  )
  const bySchema = new Map<Schema.Top, Json>()
  all.forEach((schema, i) => bySchema.set(schema, adapt(document.schemas[i]) as Json))
  return {
    components: adapt(document.definitions) as Json,
    jsonSchema: (schema: Schema.Top): Json => bySchema.get(schema)!
  }
}

/** Parameters are documented by their decoded type (an integer query value arrives as digits). */
const typeSides = new Map<Schema.Top, Schema.Top>()
const typeSide = (schema: Schema.Top): Schema.Top => {
  let found = typeSides.get(schema)
  if (found === undefined) typeSides.set(schema, found = Schema.toType(schema))
  return found
}

const schemasOf = (e: Endpoint): Array<Schema.Top> => [
  ...[e.params, e.query, ...(e.headers ?? []).map((h) => h.schema)].filter((s) => s !== undefined).map(typeSide),
  ...[e.body?.schema, e.success.schema].filter((s) => s !== undefined)
]

type Compiled = ReturnType<typeof compileSchemas>

const parameters = (e: Endpoint, { jsonSchema }: Compiled): Array<Json> => {
  const fromStruct = (schema: Schema.Top | undefined, location: "path" | "query") => {
    if (schema === undefined) return []
    const { properties = {}, required = [] } = jsonSchema(typeSide(schema)) as {
      properties?: Record<string, Json>
      required?: ReadonlyArray<string>
    }
    return Object.entries(properties).map(([name, property]) => ({
      name,
      in: location,
      required: location === "path" || required.includes(name),
      schema: property
    }))
  }
  const header = (h: HeaderSpec) => ({
    name: h.name,
    in: "header",
    required: false,
    description: h.description,
    schema: jsonSchema(typeSide(h.schema))
  })
  return [...fromStruct(e.params, "path"), ...fromStruct(e.query, "query"), ...(e.headers ?? []).map(header)]
}

const requestBody = (e: Endpoint, { jsonSchema }: Compiled): Json | undefined => {
  if (e.body) {
    return {
      description: e.body.description,
      required: !e.body.optional,
      content: { "application/json": { schema: jsonSchema(e.body.schema), example: e.body.example } }
    }
  }
  if (e.rawBody) {
    return {
      description: e.rawBody.description,
      required: true,
      content: { [e.rawBody.contentType]: { schema: { type: "string", contentMediaType: e.rawBody.contentType } } }
    }
  }
  return undefined
}

const successResponse = (e: Endpoint, { jsonSchema }: Compiled): Json => {
  const { success } = e
  const headers = success.headers && {
    headers: Object.fromEntries(
      success.headers.map((h) => [h.name, { description: h.description, schema: jsonSchema(typeSide(h.schema)) }])
    )
  }
  if (success.status === 204) return { description: success.description, ...headers }
  const contentType = success.contentType ?? "application/json"
  const schema = success.schema ? jsonSchema(success.schema) : { type: "string", contentMediaType: contentType }
  const example = success.example === undefined ? {} : { example: success.example }
  return { description: success.description, ...headers, content: { [contentType]: { schema, ...example } } }
}

/** Headers an error status always carries (the server's RateLimit.ts and its 401 answer set them). */
const errorHeaders: Readonly<Record<number, Json>> = {
  401: {
    "WWW-Authenticate": {
      description: "The authentication scheme to use (RFC 9110): always `Bearer`",
      schema: { type: "string", const: "Bearer" }
    }
  },
  429: {
    "Retry-After": {
      description: "Whole seconds until the caller's token bucket has a token again (also `retryAfterSeconds`)",
      schema: { type: "integer", minimum: 1 }
    }
  }
}

/** One response per status; `code` lists the error tags that answer with it. */
const errorResponses = (e: Endpoint): Json => {
  const byStatus = new Map<number, Array<ApiErrorTag>>()
  for (const tag of documentedErrors(e)) {
    const status = problemKinds[tag].status
    byStatus.set(status, [...(byStatus.get(status) ?? []), tag])
  }
  return Object.fromEntries(
    [...byStatus].sort(([a], [b]) => a - b).map(([status, tags]) => [String(status), {
      description: tags.map((tag) => problemKinds[tag].title).join("; "),
      ...(errorHeaders[status] ? { headers: errorHeaders[status] } : {}),
      content: {
        "application/problem+json": {
          schema: {
            allOf: [{ $ref: "#/components/schemas/Problem" }, { properties: { code: { enum: tags } } }]
          },
          example: problem(tags[0]!, problemKinds[tags[0]!].title, {}, e.path)
        }
      }
    }])
  )
}

const operation = (e: Endpoint, compiled: Compiled): Json => {
  const params = parameters(e, compiled)
  const body = requestBody(e, compiled)
  return {
    operationId: e.operationId,
    tags: [e.resource],
    summary: e.summary,
    ...(e.description ? { description: e.description } : {}),
    "x-permission": e.permission,
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(body ? { requestBody: body } : {}),
    responses: { [String(e.success.status)]: successResponse(e, compiled), ...errorResponses(e) }
  }
}

export const makeOpenApi = (input: OpenApiInput): OpenApiDocument => {
  const named = { Problem: ProblemDetails, ...input.schemas }
  const compiled = compileSchemas(input.endpoints.flatMap(schemasOf), named)
  const paths: Record<string, Record<string, Json>> = {}
  for (const e of input.endpoints) {
    const item = paths[e.path] ??= {}
    const method = e.method.toLowerCase()
    if (item[method]) throw new Error(`Two endpoints for ${e.method} ${e.path}`)
    item[method] = operation(e, compiled)
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "ML Pipeline API",
      version: "0.1.0",
      description: "Model registry with lifecycle, integrity checks and audit trail; A/B tests, drift monitoring " +
        "and online learning. Errors are RFC 9457 problem+json."
    },
    tags: resources,
    components: {
      schemas: compiled.components,
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "Required when the server sets ML_API_TOKEN." }
      }
    },
    security: [{}, { bearer: [] }],
    paths
  }
}
