/**
 * Who is calling: the authenticated principal a request acts as. The server resolves it from the
 * bearer token (the bootstrap admin token, or an API key) before any handler runs; with no token
 * configured every request acts as `anonymous` with the admin role (the zero-setup default).
 * Audit events, `createdBy` and every recorded actor come from here, never from the request.
 */
import { Schema } from "effect"

export const roles = ["viewer", "ingest", "editor", "admin"] as const
export const Role = Schema.Literals(roles)
export type Role = typeof Role.Type

export const Principal = Schema.Struct({
  /** The key's id; "bootstrap" for ML_API_TOKEN, "anonymous" when auth is off. */
  id: Schema.String,
  /** The key's name: what audit trails show as the actor. */
  name: Schema.String,
  role: Role,
  /** Glob patterns of the model names this principal may touch; absent: all models. */
  modelNames: Schema.optionalKey(Schema.Array(Schema.String))
})
export type Principal = typeof Principal.Type

export const anonymous: Principal = { id: "anonymous", name: "anonymous", role: "admin" }
