/**
 * Who is calling, and may they: the principal is resolved once per request from the bearer
 * token (the bootstrap ML_API_TOKEN or an API key looked up by its SHA-256), then each route
 * checks its endpoint's permission against the role matrix of the contract, and a key confined
 * by `modelNames` against the model the route addresses.
 */
import { type Endpoint, Forbidden, hasPermission, type Permission } from "@org/ml-api"
import { Access, KeyStore } from "@org/ml-core"
import { createHash, randomBytes, timingSafeEqual } from "node:crypto"

declare module "hono" {
  interface ContextVariableMap {
    /** Set by the authentication middleware on every request; absent: no valid token was sent. */
    principal: Access.Principal
  }
}

export const bootstrapPrincipal: Access.Principal = { id: "bootstrap", name: "bootstrap", role: "admin" }

/** The form a key's token is stored and looked up in: its SHA-256, hex. */
export const hashToken = (token: string): string => createHash("sha256").update(token).digest("hex")

/** A new secret token: 256 random bits, prefixed so secret scanners recognise it. */
export const newToken = (): string => `mlk_${randomBytes(32).toString("base64url")}`

/**
 * The principal of an `Authorization` header, or undefined when it names no valid credential.
 * The bootstrap token is compared in constant time (digests of equal length); keys are found by
 * the hash of the token, so no comparison of secrets happens at all.
 */
export const makeAuthenticator = (
  apiToken: string,
  findKey: (tokenHash: string) => Promise<KeyStore.ApiKey | undefined>,
  now: () => Date = () => new Date()
) => {
  const bootstrapDigest = createHash("sha256").update(apiToken).digest()
  return async (authorization: string | undefined): Promise<Access.Principal | undefined> => {
    const match = authorization === undefined ? null : /^Bearer ([\x21-\x7e]+)$/.exec(authorization)
    if (match === null) return undefined
    const token = match[1]!
    if (timingSafeEqual(createHash("sha256").update(token).digest(), bootstrapDigest)) return bootstrapPrincipal
    const key = await findKey(hashToken(token))
    if (key === undefined || !KeyStore.isActive(key, now())) return undefined
    return {
      id: key.id,
      name: key.name,
      role: key.role,
      ...(key.modelNames === undefined ? {} : { modelNames: key.modelNames })
    }
  }
}

export const forbidden = (principal: Access.Principal, permission: Permission | string, what?: string) =>
  new Forbidden({
    message: what ??
      `Role ${principal.role} of key ${principal.name} lacks the permission ${permission}`,
    permission
  })

/** The permission check of an endpoint: undefined when allowed. */
export const checkPermission = (principal: Access.Principal, endpoint: Endpoint): Forbidden | undefined =>
  hasPermission(principal.role, endpoint.permission) ? undefined : forbidden(principal, endpoint.permission)

/** Whether a principal may touch the model named `name` (unconfined principals may touch all). */
export const mayTouchModel = (principal: Access.Principal, name: string): boolean =>
  principal.modelNames === undefined || KeyStore.globMatcher(principal.modelNames)(name)

/** The 403 for something (`model churn`, `key management`) outside a confined key's models. */
export const outsideModels = (principal: Access.Principal, what: string) =>
  forbidden(
    principal,
    "models:name",
    `Key ${principal.name} is confined to models ${principal.modelNames?.join(", ")}; ${what} is outside`
  )
