/**
 * Requests for every operation of the server's OpenAPI document, as fast-check arbitraries: values
 * derived from each parameter's and body's JSON Schema, the document's own examples with leaves
 * swapped for hostile values, and raw hostile bodies (deep nesting, prototype keys, huge numbers,
 * wrong content types). Ids in paths and bodies are drawn mostly from entities the fuzzer created,
 * so requests get past "not found" into the handlers. The test (fuzz.test.ts) sends them and
 * collects every 5xx.
 */
import * as fc from "fast-check"

type JsonSchema = {
  readonly $ref?: string
  readonly type?: string | ReadonlyArray<string>
  readonly enum?: ReadonlyArray<unknown>
  readonly const?: unknown
  readonly anyOf?: ReadonlyArray<JsonSchema>
  readonly oneOf?: ReadonlyArray<JsonSchema>
  readonly allOf?: ReadonlyArray<JsonSchema>
  readonly properties?: Readonly<Record<string, JsonSchema>>
  readonly required?: ReadonlyArray<string>
  readonly additionalProperties?: boolean | JsonSchema
  readonly items?: JsonSchema
  readonly minItems?: number
  readonly maxItems?: number
  readonly minimum?: number
  readonly maximum?: number
  readonly minLength?: number
  readonly maxLength?: number
}

interface Parameter {
  readonly name: string
  readonly in: "path" | "query" | "header"
  readonly required?: boolean
  readonly schema: JsonSchema
}

interface Operation {
  readonly parameters?: ReadonlyArray<Parameter>
  readonly requestBody?: { readonly content: Readonly<Record<string, { schema: JsonSchema; example?: unknown }>> }
}

export interface OpenApiDocument {
  readonly paths: Readonly<Record<string, Readonly<Record<string, Operation>>>>
  readonly components: { readonly schemas: Readonly<Record<string, JsonSchema>> }
}

/** Ids of entities that exist, by the path segment that names their resource. */
export interface EntityPools {
  readonly models: ReadonlyArray<string>
  readonly modelNames: ReadonlyArray<string>
  readonly experiments: ReadonlyArray<string>
  readonly monitors: ReadonlyArray<string>
  readonly pipelines: ReadonlyArray<string>
  readonly webhooks: ReadonlyArray<string>
  /** Feature and metric names the entities use: keys of rows, feature maps and metric names. */
  readonly names: ReadonlyArray<string>
}

export interface FuzzRequest {
  readonly method: string
  /** The documented path template, for grouping failures by route. */
  readonly route: string
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: string | Uint8Array | undefined
}

const operationMethods = ["get", "post", "put", "patch", "delete"] as const

/** Every documented operation as [method, path template, operation]. */
export const operationsOf = (doc: OpenApiDocument): ReadonlyArray<readonly [string, string, Operation]> =>
  Object.entries(doc.paths).flatMap(([route, item]) =>
    operationMethods.filter((m) => item[m] !== undefined).map((m) => [m.toUpperCase(), route, item[m]!] as const)
  )

// ---------------------------------------------------------------------------------------------
// Hostile values

/** An object whose own keys are prototype names; JSON.stringify writes them like any other key. */
const withOwnKeys = (entries: ReadonlyArray<readonly [string, unknown]>): Record<string, unknown> => {
  const object: Record<string, unknown> = {}
  for (const [key, value] of entries) {
    Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true })
  }
  return object
}

const prototypeKeys = ["__proto__", "constructor", "toString", "prototype", "hasOwnProperty", "valueOf"] as const

const hostileStrings = [
  "",
  " ",
  "NaN",
  "Infinity",
  "-Infinity",
  "1e308",
  "null",
  "undefined",
  "__proto__",
  "constructor",
  "toString",
  "a:{b} c",
  ":{}",
  "{tag}",
  "../../etc/passwd",
  "%00",
  "\u0000",
  "\ud800",
  "ü名前🚀\u202e",
  "'; DROP TABLE models; --",
  "<script>alert(1)</script>",
  "x".repeat(10_000)
]

const hostileNumbers = [
  1e308,
  -1e308,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.MIN_VALUE,
  5e-324,
  -0,
  2 ** 53 + 1,
  -(2 ** 53) - 1,
  1e150,
  -1e151,
  0.1 + 0.2,
  -1,
  0,
  1e21
]

const deepArray = (depth: number): unknown => {
  let value: unknown = 1
  for (let i = 0; i < depth; i++) value = [value]
  return value
}

/** A JSON value meant to break whatever reads it (small enough to be stringified). */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...hostileNumbers),
  fc.constantFrom(...hostileStrings),
  fc.constantFrom(null, true, false, [], {}),
  fc.constantFrom(...prototypeKeys).map((key) => withOwnKeys([[key, 1]])),
  fc.subarray([...prototypeKeys], { minLength: 1 }).map((keys) => withOwnKeys(keys.map((k) => [k, [1, 2]] as const))),
  fc.integer({ min: 50, max: 2000 }).map(deepArray),
  fc.integer({ min: 1000, max: 20_000 }).map((n) => Array.from({ length: n }, (_, i) => i * 1e300)),
  fc.string({ unit: "binary", maxLength: 64 }),
  fc.double(),
  fc.jsonValue({ maxDepth: 3 })
)

/** Bodies that are not a JSON value at all, or one too deep or too big to build as an object. */
const hostileRawBody: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("", " ", "{", "}", "[", "nul", "{\"a\":}", "{'a':1}", "\u0000", "NaN", "1e999", "-1e999"),
  fc.integer({ min: 1000, max: 200_000 }).map((n) => "[".repeat(n) + "]".repeat(n)),
  fc.integer({ min: 1000, max: 100_000 }).map((n) => "{\"a\":".repeat(n) + "1" + "}".repeat(n)),
  fc.integer({ min: 100_000, max: 200_000 }).map((n) => `{"values":{"x":[${"1,".repeat(n)}1]}}`),
  fc.constant(`{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}`),
  fc.constant("x".repeat(1024 * 1024 + 10)),
  fc.string({ unit: "binary", maxLength: 200 })
)

// ---------------------------------------------------------------------------------------------
// Values from schemas

const resolve = (doc: OpenApiDocument, schema: JsonSchema): JsonSchema =>
  schema.$ref === undefined ? schema : resolve(doc, doc.components.schemas[schema.$ref.split("/").at(-1)!] ?? {})

/** The pool an id-like field or path parameter draws from, by its name and the route. */
const poolFor = (pools: EntityPools, name: string, route: string): ReadonlyArray<string> | undefined => {
  if (/^(modelId|toModelId)$/.test(name)) return pools.models
  if (name === "monitorId") return pools.monitors
  if (name === "metric" || name === "targetMetric") return pools.names
  if (name === "name" && route.startsWith("/v1/registry")) return pools.modelNames
  if (name !== "id") return undefined
  if (route.startsWith("/v1/models")) return pools.models
  if (route.startsWith("/v1/experiments")) return pools.experiments
  if (route.startsWith("/v1/drift/monitors")) return pools.monitors
  if (route.startsWith("/v1/drift/webhooks")) return pools.webhooks
  if (route.startsWith("/v1/pipelines")) return pools.pipelines
  return undefined
}

const stringArbitrary = (schema: JsonSchema): fc.Arbitrary<string> => {
  const minLength = schema.minLength ?? 0
  const maxLength = Math.min(schema.maxLength ?? 24, minLength + 24)
  return fc.oneof(
    { weight: 3, arbitrary: fc.stringMatching(/^[a-z][a-z0-9_-]{0,15}$/) },
    { weight: 1, arbitrary: fc.string({ minLength, maxLength }) },
    { weight: 1, arbitrary: fc.string({ unit: "grapheme", minLength, maxLength }) },
    { weight: 1, arbitrary: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()) }
  )
}

const numberArbitrary = (schema: JsonSchema, integer: boolean): fc.Arbitrary<number> => {
  const min = schema.minimum ?? -1e6
  const max = schema.maximum ?? 1e6
  const inRange = integer
    ? fc.integer({ min: Math.max(min, Number.MIN_SAFE_INTEGER), max: Math.min(max, Number.MAX_SAFE_INTEGER) })
    : fc.double({ min, max, noNaN: true, noDefaultInfinity: true })
  return fc.oneof({ weight: 4, arbitrary: inRange }, { weight: 1, arbitrary: fc.constantFrom(min, max, 0, 1) })
}

/** Keys of free-form objects (rows, feature maps): known names mostly, prototype names and odd ones too. */
const keyArbitrary = (pools: EntityPools): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 6, arbitrary: pools.names.length > 0 ? fc.constantFrom(...pools.names) : fc.constant("x") },
    { weight: 2, arbitrary: fc.constantFrom(...prototypeKeys) },
    { weight: 1, arbitrary: fc.constantFrom("a:b", "{x}", " ", "", "名前", "f:meta") },
    { weight: 1, arbitrary: fc.stringMatching(/^[a-z][a-z0-9_]{0,10}$/) }
  )

/**
 * A value that mostly fits the schema: the right type and shape, sizes kept small, ids from the
 * pools; now and then a hostile value instead (at every depth, so nested fields are hit too).
 */
export const valueFor = (
  doc: OpenApiDocument,
  pools: EntityPools,
  route: string,
  raw: JsonSchema,
  name = "",
  depth = 0
): fc.Arbitrary<unknown> => {
  const schema = resolve(doc, raw)
  const pool = poolFor(pools, name, route)
  const fitting = ((): fc.Arbitrary<unknown> => {
    if (pool !== undefined && pool.length > 0) {
      return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...pool) }, {
        weight: 1,
        arbitrary: stringArbitrary(schema)
      })
    }
    if (schema.const !== undefined) return fc.constant(schema.const)
    if (schema.enum !== undefined && schema.enum.length > 0) return fc.constantFrom(...schema.enum)
    const choices = schema.anyOf ?? schema.oneOf
    if (choices !== undefined && choices.length > 0) {
      return fc.oneof(...choices.map((c) => valueFor(doc, pools, route, c, name, depth)))
    }
    if (schema.allOf !== undefined && schema.allOf.length > 0) {
      return valueFor(doc, pools, route, schema.allOf[0]!, name, depth)
    }
    const type = Array.isArray(schema.type) ? schema.type[0] : schema.type
    if (depth > 6) return fc.constant(null)
    switch (type) {
      case "string":
        return stringArbitrary(schema)
      case "integer":
        return numberArbitrary(schema, true)
      case "number":
        return numberArbitrary(schema, false)
      case "boolean":
        return fc.boolean()
      case "null":
        return fc.constant(null)
      case "array": {
        const minLength = schema.minItems ?? 0
        const maxLength = Math.min(schema.maxItems ?? 6, minLength + 6)
        return fc.array(valueFor(doc, pools, route, schema.items ?? {}, name, depth + 1), { minLength, maxLength })
      }
      case "object":
      case undefined: {
        const properties = Object.entries(schema.properties ?? {})
        const required = new Set(schema.required ?? [])
        const known = fc.record(
          Object.fromEntries(properties.map(([key, s]) => [key, valueFor(doc, pools, route, s, key, depth + 1)])),
          { requiredKeys: properties.map(([key]) => key).filter((key) => required.has(key)) }
        )
        const extraValue = typeof schema.additionalProperties === "object"
          ? valueFor(doc, pools, route, schema.additionalProperties, "", depth + 1)
          : fc.jsonValue({ maxDepth: 2 })
        const extra = fc.array(fc.tuple(keyArbitrary(pools), extraValue), { maxLength: 4 }).map(withOwnKeys)
        return properties.length === 0 ? extra : fc.oneof({ weight: 4, arbitrary: known }, {
          weight: 1,
          arbitrary: fc.tuple(known, extra).map(([k, e]) => ({ ...e, ...k }))
        })
      }
      default:
        return fc.jsonValue({ maxDepth: 2 })
    }
  })()
  return fc.oneof({ weight: 12, arbitrary: fitting }, { weight: 1, arbitrary: hostileValue })
}

// ---------------------------------------------------------------------------------------------
// Mutating the document's examples

/** The example with the id fields it names replaced by pool ids (the document's ids exist nowhere). */
const withPoolIds = (value: unknown, pools: EntityPools, route: string, pick: number): unknown => {
  if (Array.isArray(value)) return value.map((v, i) => withPoolIds(v, pools, route, pick + i))
  if (value === null || typeof value !== "object") return value
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => {
      const pool = poolFor(pools, key, route)
      return [
        key,
        typeof v === "string" && pool && pool.length > 0 ? pool[pick % pool.length] : withPoolIds(v, pools, route, pick)
      ]
    })
  )
}

/** Every path to a value inside `value`, the root included. */
const pathsOf = (value: unknown, prefix: ReadonlyArray<string | number> = []): Array<Array<string | number>> => {
  const here = [[...prefix]]
  if (Array.isArray(value)) return [...here, ...value.flatMap((v, i) => pathsOf(v, [...prefix, i]))]
  if (value !== null && typeof value === "object") {
    return [...here, ...Object.entries(value).flatMap(([k, v]) => pathsOf(v, [...prefix, k]))]
  }
  return here
}

const replaceAt = (value: unknown, path: ReadonlyArray<string | number>, replacement: unknown): unknown => {
  if (path.length === 0) return replacement
  const [head, ...rest] = path
  if (Array.isArray(value)) return value.map((v, i) => (i === head ? replaceAt(v, rest, replacement) : v))
  const object = value as Record<string, unknown>
  return Object.fromEntries(
    Object.entries(object).map(([k, v]) => [k, k === head ? replaceAt(v, rest, replacement) : v])
  )
}

/** Adds own keys (prototype names among them) to the object at `path`, when there is one. */
const addKeysAt = (value: unknown, path: ReadonlyArray<string | number>, keys: ReadonlyArray<string>): unknown => {
  const target = path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)?.[k], value)
  if (target === null || typeof target !== "object" || Array.isArray(target)) return value
  return replaceAt(value, path, withOwnKeys([...Object.entries(target), ...keys.map((k) => [k, 1] as const)]))
}

const mutatedExample = (example: unknown, pools: EntityPools, route: string): fc.Arbitrary<unknown> =>
  fc.nat(1000).chain((pick) => {
    const base = withPoolIds(example, pools, route, pick)
    const paths = pathsOf(base)
    return fc.oneof(
      { weight: 1, arbitrary: fc.constant(base) },
      {
        weight: 4,
        arbitrary: fc.tuple(fc.constantFrom(...paths), hostileValue).map(([p, v]) => replaceAt(base, p, v))
      },
      {
        weight: 2,
        arbitrary: fc.tuple(
          fc.constantFrom(...paths),
          fc.subarray([...prototypeKeys, "a:b", "{x}", " ", "名前"], { minLength: 1 })
        ).map(([p, keys]) => addKeysAt(base, p, keys))
      }
    )
  })

// ---------------------------------------------------------------------------------------------
// Requests

const contentTypes = [
  "application/json",
  "application/json; charset=utf-8",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/octet-stream",
  ""
]

const pathValue = (
  doc: OpenApiDocument,
  pools: EntityPools,
  route: string,
  parameter: Parameter
): fc.Arbitrary<string> => {
  const pool = poolFor(pools, parameter.name, route) ?? []
  return fc.oneof(
    { weight: pool.length > 0 ? 8 : 0, arbitrary: pool.length > 0 ? fc.constantFrom(...pool) : fc.constant("x") },
    { weight: 2, arbitrary: valueFor(doc, pools, route, parameter.schema, parameter.name).map(asText) },
    { weight: 1, arbitrary: fc.constantFrom(...hostileStrings.filter((s) => s !== "")) }
  ).map(encodePathSegment)
}

/** A parameter's text: strings as they are, anything else (objects with own `toString` keys too) as JSON. */
const asText = (value: unknown): string => (typeof value === "string" ? value : JSON.stringify(value) ?? "")

/** encodeURIComponent, with lone surrogates (which it refuses) sent as U+FFFD as a client would. */
const encodePathSegment = (value: string) => encodeURIComponent(value.replace(/[\ud800-\udfff]/gu, "\ufffd"))

const queryValue = (doc: OpenApiDocument, pools: EntityPools, route: string, parameter: Parameter) =>
  fc.oneof(
    { weight: 4, arbitrary: valueFor(doc, pools, route, parameter.schema, parameter.name).map(asText) },
    { weight: 1, arbitrary: fc.constantFrom(...hostileStrings) }
  )

/** Requests for one operation: parameters, body and content type, each fitting or hostile. */
export const requestFor = (
  doc: OpenApiDocument,
  pools: EntityPools,
  method: string,
  route: string,
  operation: Operation
): fc.Arbitrary<FuzzRequest> => {
  const parameters = operation.parameters ?? []
  const pathParameters = parameters.filter((p) => p.in === "path")
  const queryParameters = parameters.filter((p) => p.in === "query")
  const headerParameters = parameters.filter((p) => p.in === "header")
  const path = fc.tuple(...pathParameters.map((p) => pathValue(doc, pools, route, p))).map((values) =>
    pathParameters.reduce((url, p, i) => url.replace(`{${p.name}}`, values[i]!), route)
  )
  const query = fc.subarray([...queryParameters]).chain((chosen) =>
    fc.tuple(...chosen.map((p) => queryValue(doc, pools, route, p))).map((values) =>
      chosen.length === 0 ? "" : `?${new URLSearchParams(chosen.map((p, i) => [p.name, values[i]!])).toString()}`
    )
  )
  const headers = fc.subarray([...headerParameters]).chain((chosen) =>
    fc.tuple(...chosen.map(() => fc.oneof(fc.stringMatching(/^[0-9a-f]{64}$/), fc.string())))
      .map((values) => Object.fromEntries(chosen.map((p, i) => [p.name, values[i]!.replace(/[^\x20-\x7e]/g, "")])))
  )
  const content = operation.requestBody?.content ?? {}
  const json = content["application/json"]
  const body: fc.Arbitrary<{ contentType: string | undefined; body: string | Uint8Array | undefined }> =
    json !== undefined
      ? fc.oneof(
        {
          weight: 4,
          arbitrary: valueFor(doc, pools, route, json.schema).map((v) => JSON.stringify(v) ?? "null")
        },
        {
          weight: json.example === undefined ? 0 : 6,
          arbitrary: mutatedExample(json.example ?? null, pools, route).map((v) => JSON.stringify(v) ?? "null")
        },
        { weight: 2, arbitrary: hostileRawBody }
      ).chain((text) =>
        fc.oneof(
          { weight: 8, arbitrary: fc.constant({ contentType: "application/json", body: text }) },
          {
            weight: 1,
            arbitrary: fc.constantFrom(...contentTypes).map((contentType) => ({ contentType, body: text }))
          },
          { weight: 1, arbitrary: fc.constant({ contentType: undefined, body: undefined }) }
        )
      )
      : content["application/octet-stream"] !== undefined
      ? fc.oneof(
        fc.uint8Array({ maxLength: 256 }).map((bytes) => ({ contentType: "application/octet-stream", body: bytes })),
        fc.constant({ contentType: "application/octet-stream", body: new Uint8Array() }),
        fc.constantFrom(...contentTypes).map((contentType) => ({ contentType, body: "{\"not\":\"bytes\"}" }))
      )
      : fc.oneof(
        { weight: 6, arbitrary: fc.constant({ contentType: undefined, body: undefined }) },
        { weight: 1, arbitrary: hostileRawBody.map((text) => ({ contentType: "application/json", body: text })) }
      )
  return fc.tuple(path, query, headers, body).map(([url, search, extraHeaders, b]) => ({
    method,
    route,
    url: url + search,
    headers: b.contentType ? { ...extraHeaders, "content-type": b.contentType } : extraHeaders,
    // GET and DELETE with a body are sent too: a server must not trip over them.
    body: b.body
  }))
}

/** Requests spread evenly over every operation of the document. */
export const requestsFor = (doc: OpenApiDocument, pools: EntityPools): fc.Arbitrary<FuzzRequest> =>
  fc.oneof(
    ...operationsOf(doc).map(([method, route, operation]) => ({
      // Operations that take a body have the most to get wrong: they get three times the requests.
      weight: operation.requestBody === undefined ? 1 : 3,
      arbitrary: requestFor(doc, pools, method, route, operation)
    }))
  )
