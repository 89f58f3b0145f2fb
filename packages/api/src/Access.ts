/**
 * API key management: admins create keys (the secret token is in the answer once), list them
 * (never the secret nor its hash) and revoke them. Creation and revocation record the acting
 * principal (createdBy, revokedBy).
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

/** The caller's principal and what it may do: a UI shows only the actions these permissions allow. */
export const WhoAmI = Schema.Struct({
  ...Access.Principal.fields,
  permissions: Schema.Array(Schema.Literals(permissions))
})

export const whoami = endpoint({
  operationId: "whoami",
  method: "GET",
  path: "/v1/whoami",
  resource: "Access",
  summary: "The calling principal (key id, name, role, model confinement) and its permissions",
  permission: "self:read",
  success: {
    status: 200,
    description: "Principal",
    schema: WhoAmI,
    example: {
      id: "01J8Z3NDEKTSV4RRFFQ69G5FAV",
      name: "checkout-service",
      role: "viewer",
      permissions: ["public", "self:read", "metrics", "models:read", "experiments:read", "drift:read", "pipelines:read"]
    }
  },
  errors: []
})

export const endpoints = [createKey, listKeys, revokeKey, whoami] as const
