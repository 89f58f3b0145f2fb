/**
 * API key management routes: the secret token is made here, answered once and stored only as
 * its hash; creation and revocation record the acting principal.
 */
import { Access, NotFound, permissions, rolePermissions } from "@org/ml-api"
import { KeyStore, makeUlid, ValidationError } from "@org/ml-core"
import { Effect } from "effect"
import { Hono } from "hono"
import { hashToken, newToken } from "../Auth.js"
import type { AppServices } from "./AppServices.js"
import type { Mount } from "./Mount.js"

const keys = <A, E>(f: (store: KeyStore.KeyStoreShape) => Effect.Effect<A, E>) => KeyStore.KeyStore.use(f)

export const keyRoutes = (mount: Mount<AppServices>) => {
  const app = new Hono()

  mount(app, Access.createKey, ({ body, principal }) => {
    const now = Date.now()
    if (body.expiresAt !== undefined && Date.parse(body.expiresAt) <= now) {
      return Effect.fail(
        new ValidationError({
          message: "expiresAt must be in the future",
          issues: [{ path: ["expiresAt"], message: "must be in the future" }]
        })
      )
    }
    const token = newToken()
    const key: KeyStore.ApiKey = {
      id: makeUlid(now),
      ...body,
      createdAt: new Date(now).toISOString(),
      createdBy: principal.name
    }
    return keys((store) => store.create(key, hashToken(token))).pipe(Effect.as({ key, token }))
  })

  mount(app, Access.listKeys, () => keys((store) => store.list()).pipe(Effect.map((items) => ({ items }))))

  mount(
    app,
    Access.revokeKey,
    ({ params, principal }) =>
      keys((store) => store.revoke(params.id, principal.name, new Date().toISOString())).pipe(
        Effect.flatMap((revoked) =>
          revoked === undefined
            ? Effect.fail(new NotFound({ message: `No active key ${params.id}` }))
            : Effect.succeed(undefined)
        )
      )
  )

  mount(app, Access.whoami, ({ principal }) =>
    Effect.succeed({
      ...principal,
      permissions: permissions.filter((permission) => rolePermissions[principal.role].has(permission))
    }))

  return app
}
