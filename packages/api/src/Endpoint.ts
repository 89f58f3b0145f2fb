/**
 * One HTTP operation, described once: method, path, the core's schemas for its path parameters,
 * query, JSON body and success value, the error tags it can fail with and the permission it
 * needs. The server mounts its routes from these descriptions, /openapi.json is generated from
 * them, and the SDK takes its request and response types from the same schemas.
 */
import type { Schema } from "effect"
import type { ApiError, ApiErrorTag } from "./Errors.js"
import type { Permission } from "./Permission.js"

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE"

/** A group of endpoints in the docs: one per resource. */
export type Resource = "Models" | "Experiments" | "Drift" | "Pipelines" | "Access" | "Operations"

export interface SuccessSpec {
  readonly status: 200 | 201 | 202 | 204
  readonly description: string
  /** The JSON body; undefined for 204 and for non-JSON bodies (see `contentType`). */
  readonly schema?: Schema.Top | undefined
  /** Defaults to application/json; e.g. application/octet-stream for a streamed artifact. */
  readonly contentType?: string | undefined
  /** An example body, shown in /docs and /openapi.json (required unless the status is 204). */
  readonly example?: unknown
  /** Response headers worth documenting (e.g. `location` of a created resource). */
  readonly headers?: ReadonlyArray<HeaderSpec> | undefined
}

/** A JSON request body. */
export interface BodySpec {
  readonly schema: Schema.Top
  /** Names the body in error messages ("Invalid model metadata: ...") and in the docs. */
  readonly description: string
  readonly example: unknown
  /** The body may be omitted entirely (e.g. a rollback to the parent version). */
  readonly optional?: boolean | undefined
  /**
   * True only for a body the schema accepts as it is (decoding gives an equal value), decided
   * without allocating: such a body reaches the handler without the schema's walk, which for a
   * hot ingestion route is most of a request's garbage. Any other body is decoded by the schema,
   * so every refusal is the schema's own.
   */
  readonly acceptsAsIs?: ((body: unknown) => boolean) | undefined
}

/** A body that is not JSON (an artifact upload): passed to the handler as a stream. */
export interface RawBodySpec {
  readonly contentType: string
  readonly description: string
}

export interface HeaderSpec {
  readonly name: string
  readonly description: string
  readonly schema: Schema.Top
}

export interface Endpoint {
  /** Unique, camelCase: the OpenAPI operationId and the SDK method's name where one exists. */
  readonly operationId: string
  readonly method: Method
  /** OpenAPI-style template: /v1/models/{id} */
  readonly path: `/${string}`
  readonly resource: Resource
  readonly summary: string
  readonly description?: string | undefined
  readonly permission: Permission
  /** Struct of the path parameters named in `path`. */
  readonly params?: Schema.Top | undefined
  /** Struct of the query parameters (values arrive as strings; see the schema's decoding). */
  readonly query?: Schema.Top | undefined
  /** Request headers the handler reads (documented; the handler checks them). */
  readonly headers?: ReadonlyArray<HeaderSpec> | undefined
  readonly body?: BodySpec | undefined
  readonly rawBody?: RawBodySpec | undefined
  readonly success: SuccessSpec
  /**
   * Error tags the operation itself can answer with. Those that request handling adds are
   * implied (see `documentedErrors`): a 400 for input, 413/415 for a JSON body, 401/403 unless public,
   * 507 wherever StorageError is declared.
   */
  readonly errors: ReadonlyArray<ApiErrorTag>
}

/** Declares an endpoint, keeping every literal type (paths, tags, schemas) for the helpers below. */
export const endpoint = <const E extends Endpoint>(spec: E): E => spec

type TypeOf<S> = S extends Schema.Top ? S["Type"] : undefined

export type ParamsOf<E extends Endpoint> = TypeOf<E["params"]>
export type QueryOf<E extends Endpoint> = TypeOf<E["query"]>
export type BodyOf<E extends Endpoint> = E["body"] extends BodySpec ? TypeOf<E["body"]["schema"]> : undefined
/** The JSON body as a client sends it (the encoded side of the body schema). */
export type BodyJsonOf<E extends Endpoint> = E["body"] extends BodySpec ? E["body"]["schema"]["Encoded"] : undefined
/** What the operation answers with on success (the decoded type of its success schema). */
export type SuccessOf<E extends Endpoint> = TypeOf<E["success"]["schema"]>
/** The JSON as it travels (the encoded side of the success schema): what a client receives. */
export type SuccessJsonOf<E extends Endpoint> = E["success"]["schema"] extends Schema.Top
  ? E["success"]["schema"]["Encoded"]
  : undefined

/** Tags request handling adds to an endpoint's own: the runtime twin is `implicitErrors`. */
export type ImplicitErrorTag<E extends Endpoint> =
  | "InternalError"
  | (E["permission"] extends "public" ? never : "Unauthorized" | "Forbidden")
  | (E["path"] extends `/v1/${string}` ? "RateLimited" : never)
  | (E["body"] extends BodySpec ? "PayloadTooLarge" | "UnsupportedMediaType" : never)
  | (E extends
    { params: Schema.Top } | { query: Schema.Top } | { body: BodySpec } | { headers: ReadonlyArray<HeaderSpec> }
    ? "ValidationError"
    : never)
  | ("StorageError" extends E["errors"][number] ? "InsufficientStorage" : never)

/** The typed errors a handler of this endpoint may fail with: the documented ones, no others. */
export type ErrorOf<E extends Endpoint> = Extract<
  ApiError,
  { readonly _tag: E["errors"][number] | ImplicitErrorTag<E> }
>

/** The errors request handling adds to every endpoint of its kind (see `ImplicitErrorTag`). */
export const implicitErrors = (e: Endpoint): ReadonlyArray<ApiErrorTag> => [
  ...(e.params || e.query || e.body || e.headers ? ["ValidationError" as const] : []),
  // With authentication on, a missing or unknown token is 401 and a role without the permission 403.
  ...(e.permission === "public" ? [] : ["Unauthorized" as const, "Forbidden" as const]),
  // Per-key rate limits apply to every /v1 route (see the server's RateLimit.ts).
  ...(e.path.startsWith("/v1/") ? ["RateLimited" as const] : []),
  ...(e.body ? ["PayloadTooLarge" as const, "UnsupportedMediaType" as const] : []),
  // A storage failure for want of space answers 507 rather than 503 (see the server's Problem.ts).
  ...(e.errors.includes("StorageError") ? ["InsufficientStorage" as const] : []),
  "InternalError"
]

/** Every error an endpoint can answer with, as documented in /openapi.json: its own and the implied ones. */
export const documentedErrors = (e: Endpoint): ReadonlyArray<ApiErrorTag> => [
  ...new Set([...e.errors, ...implicitErrors(e)])
]

/**
 * The Hono-style route path of an OpenAPI template: /v1/models/{id} -> /v1/models/:id. A parameter
 * followed by a suffix in its segment ({id}.html) becomes a pattern matching only that suffix, which
 * stays part of the value (Hono has no `:id.html`): the endpoint's params schema strips it.
 */
export const routePattern = (path: string): string =>
  path.replace(
    /\{([^}]+)\}([^/{]*)/g,
    (_, name: string, suffix: string) =>
      suffix === "" ? `:${name}` : `:${name}{[^/]+${suffix.replace(/[.*+?^$()|[\]\\]/g, "\\$&")}}`
  )
