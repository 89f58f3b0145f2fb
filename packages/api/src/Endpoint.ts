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
export type Resource = "Models" | "Experiments" | "Drift" | "Pipelines" | "Operations"

export interface SuccessSpec {
  readonly status: 200 | 201 | 202 | 204
  readonly description: string
  /** The JSON body; undefined for 204 and for non-JSON bodies (see `contentType`). */
  readonly schema?: Schema.Top | undefined
  /** Defaults to application/json; e.g. application/octet-stream for a streamed artifact. */
  readonly contentType?: string | undefined
  /** An example body, shown in /docs and /openapi.json. */
  readonly example?: unknown
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
  readonly headers?: ReadonlyArray<HeaderSpec> | undefined
  /** The JSON body. */
  readonly body?: Schema.Top | undefined
  /** A JSON body may be omitted entirely (e.g. a rollback to the parent version). */
  readonly bodyOptional?: boolean | undefined
  readonly bodyExample?: unknown
  readonly rawBody?: RawBodySpec | undefined
  readonly success: SuccessSpec
  /** Error tags this operation can answer with, besides the common ones. */
  readonly errors: ReadonlyArray<ApiErrorTag>
}

/** Declares an endpoint, keeping every literal type (paths, tags, schemas) for the helpers below. */
export const endpoint = <const E extends Endpoint>(spec: E): E => spec

type TypeOf<S> = S extends Schema.Top ? S["Type"] : undefined

export type ParamsOf<E extends Endpoint> = TypeOf<E["params"]>
export type QueryOf<E extends Endpoint> = TypeOf<E["query"]>
export type BodyOf<E extends Endpoint> = TypeOf<E["body"]>
/** What the operation answers with on success (the decoded type of its success schema). */
export type SuccessOf<E extends Endpoint> = TypeOf<E["success"]["schema"]>
/** The JSON as it travels (the encoded side of the success schema): what a client receives. */
export type SuccessJsonOf<E extends Endpoint> = E["success"]["schema"] extends Schema.Top
  ? E["success"]["schema"]["Encoded"]
  : undefined
/** The typed errors a handler of this endpoint may fail with. */
export type ErrorOf<E extends Endpoint> = Extract<ApiError, { readonly _tag: E["errors"][number] }>
