/**
 * API key management: admins create keys (the secret token is in the answer once), list them
 * (never the secret nor its hash), revoke them and read the audit events of both. Key listing
 * and its events are the reads a viewer does not get: they are key management (keys:manage).
 * Any authenticated principal may ask who it is (`whoami`), so a client can show only what it may do.
 */
import { Access, KeyStore } from "@org/ml-core"
import { Schema } from "effect"
import { endpoint } from "./Endpoint.js"
import { permissions } from "./Permission.js"

const exampleKey = {
  id: "01J8Z3NDEKTSV4RRFFQ69G5FAV",
  name: "checkout-service",
  role: "ingest",
  modelNames: ["fraud-*"],
  createdAt: "2026-01-05T10:00:00.000Z",
  createdBy: "bootstrap"
} as const

export const KeyParams = Schema.Struct({ id: Schema.String })

export const createKey = endpoint({
  operationId: "createKey",
  method: "POST",
  path: "/v1/keys",
  resource: "Access",
  summary: "Create an API key (its secret token is shown only in this answer)",
  description: "Rotation: create the new key, deploy its token, then delete the old key.",
  permission: "keys:manage",
  body: {
    schema: KeyStore.CreateKeyInput,
    description: "key",
    example: { name: "checkout-service", role: "ingest", modelNames: ["fraud-*"] }
  },
  success: {
    status: 201,
    description: "Created; store the token now: the server keeps only its hash",
    schema: KeyStore.CreatedKey,
    example: { key: exampleKey, token: "mlk_3q2-7wAAAAexampleexampleexampleexampleexa" }
  },
  errors: ["StorageError"]
})

export const listKeys = endpoint({
  operationId: "listKeys",
  method: "GET",
  path: "/v1/keys",
  resource: "Access",
  summary: "Every API key, revoked ones included (never a secret)",
  permission: "keys:manage",
  success: { status: 200, description: "Keys", schema: KeyStore.ApiKeyList, example: { items: [exampleKey] } },
  errors: ["StorageError"]
})

export const revokeKey = endpoint({
  operationId: "revokeKey",
  method: "DELETE",
  path: "/v1/keys/{id}",
  resource: "Access",
  summary: "Revoke an API key, at once on every instance",
  permission: "keys:manage",
  params: KeyParams,
  success: { status: 204, description: "Revoked" },
  errors: ["NotFound", "StorageError"]
})

export const listKeyEvents = endpoint({
  operationId: "listKeyEvents",
  method: "GET",
  path: "/v1/keys/events",
  resource: "Access",
  summary: "The audit events of key creation and revocation, oldest first (never a secret)",
  description: `Who created or revoked which key, and when; the newest ${KeyStore.MAX_KEY_EVENTS} are kept.`,
  permission: "keys:manage",
  success: {
    status: 200,
    description: "Key events",
    schema: KeyStore.KeyEventList,
    example: {
      items: [{
        at: exampleKey.createdAt,
        action: "created",
        actor: "bootstrap",
        keyId: exampleKey.id,
        keyName: exampleKey.name,
        role: exampleKey.role,
        modelNames: exampleKey.modelNames
      }]
    }
  },
  errors: ["StorageError"]
})

/** Who the caller is and what it may do. */
export const WhoAmI = Schema.Struct({
  ...Access.Principal.fields,
  /** Every permission the principal's role holds (see the role matrix). */
  permissions: Schema.Array(Schema.Literals(permissions))
})
export type WhoAmI = typeof WhoAmI.Type

export const whoami = endpoint({
  operationId: "whoami",
  method: "GET",
  path: "/v1/whoami",
  resource: "Access",
  summary: "The calling principal: id, name, role, model confinement and permissions",
  description: "Any authenticated caller may ask; with authentication off the answer is `anonymous`, an admin.",
  permission: "identity:read",
  success: {
    status: 200,
    description: "The caller",
    schema: WhoAmI,
    example: {
      id: exampleKey.id,
      name: exampleKey.name,
      role: "viewer",
      modelNames: exampleKey.modelNames,
      permissions: ["identity:read", "metrics", "models:read", "experiments:read", "drift:read", "pipelines:read"]
    }
  },
  errors: []
})

export const endpoints = [createKey, listKeys, listKeyEvents, revokeKey, whoami] as const
