/**
 * What a caller must be allowed to do to call an endpoint. Every endpoint declares one; the
 * role matrix below is the one place that says which role holds which permission (the server's
 * middleware checks it, README prints it).
 */
import type { Access } from "@org/ml-core"

export const permissions = [
  "public",
  /** Asking who one is (GET /v1/whoami): every authenticated principal. */
  "identity:read",
  "metrics",
  "models:read",
  "models:write",
  "models:promote",
  /** Promotion to production or archived: checked by the promote handler on the target status. */
  "models:promote-production",
  /** Setting or deleting a protected alias, and changing which aliases are protected: checked by the handlers. */
  "models:protected-aliases",
  "experiments:read",
  /** What production services send: assignments, metric and exposure events. */
  "experiments:record",
  "experiments:write",
  /** Completion may promote the winner to production, so it is an admin operation. */
  "experiments:complete",
  "drift:read",
  /** Observations from production traffic. */
  "drift:record",
  "drift:write",
  "webhooks:manage",
  "pipelines:read",
  /** Training samples from production traffic. */
  "pipelines:ingest",
  "pipelines:predict",
  "pipelines:write",
  "keys:manage"
] as const

export type Permission = typeof permissions[number]

const viewer: ReadonlyArray<Permission> = [
  "public",
  "identity:read",
  "metrics",
  "models:read",
  "experiments:read",
  "drift:read",
  "pipelines:read"
]
const ingest: ReadonlyArray<Permission> = [
  ...viewer,
  "experiments:record",
  "drift:record",
  "pipelines:ingest",
  "pipelines:predict"
]
const editor: ReadonlyArray<Permission> = [
  ...ingest,
  "models:write",
  "models:promote",
  "experiments:write",
  "drift:write",
  "pipelines:write"
]

/** Each role's permissions; each role holds all of the one before it. */
export const rolePermissions: { readonly [R in Access.Role]: ReadonlySet<Permission> } = {
  viewer: new Set(viewer),
  ingest: new Set(ingest),
  editor: new Set(editor),
  admin: new Set(permissions)
}

/**
 * The reads a viewer does not get although they are GETs: key listing and key events are key
 * management, and so are SDK connections (their list holds decryption keys). Every other GET needs
 * a permission the viewer role holds (a test checks it).
 */
export const readsBeyondViewer: ReadonlySet<string> = new Set([
  "listKeys",
  "listKeyEvents",
  "listSdkConnections",
  "listSdkConnectionEvents"
])

export const hasPermission = (role: Access.Role, permission: Permission): boolean =>
  rolePermissions[role].has(permission)
