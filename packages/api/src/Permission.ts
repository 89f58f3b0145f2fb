/**
 * What a caller must be allowed to do to call an endpoint. Every endpoint declares one; the
 * roles issue maps roles (and per-model grants) onto these.
 */
export const permissions = [
  "public",
  "models:read",
  "models:write",
  "models:promote",
  "experiments:read",
  "experiments:write",
  "drift:read",
  "drift:write",
  "pipelines:read",
  "pipelines:write",
  "admin"
] as const

export type Permission = typeof permissions[number]
