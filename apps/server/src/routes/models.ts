/**
 * The model registry's routes, mounted from its endpoint table: each handler is one use-case
 * call. What HTTP adds lives here too: the expected digest from headers on upload, the
 * download's digest headers, and refusing identity fields in a metadata update.
 */
import { hasPermission, NotFound, Registry } from "@org/ml-api"
import {
  type Access,
  ArtifactTooLargeError,
  immutableModelFields,
  type Model,
  ModelRegistry,
  Sha256Hex,
  ValidationError
} from "@org/ml-core"
import { Effect, Schema } from "effect"
import { Hono } from "hono"
import { forbidden } from "../Auth.js"
import type { AppServices } from "./AppServices.js"
import { type Mount, Reply } from "./Mount.js"

const registry = <A, E>(f: (r: ModelRegistry.ModelRegistryShape) => Effect.Effect<A, E>) =>
  ModelRegistry.ModelRegistry.use(f)

const isSha256Hex = Schema.is(Sha256Hex)

/** The expected digest from `x-artifact-sha256` (hex) or RFC 9530 `content-digest: sha-256=:base64:`. */
const expectedDigest = (headers: Headers): Effect.Effect<string | undefined, ValidationError> => {
  const hex = headers.get("x-artifact-sha256")
  if (hex !== null) {
    const value = hex.trim().toLowerCase()
    return isSha256Hex(value) ? Effect.succeed(value) : Effect.fail(
      new ValidationError({
        message: "Header x-artifact-sha256 must be 64 hex characters",
        issues: [{ path: ["x-artifact-sha256"], message: "must be 64 hex characters" }]
      })
    )
  }
  const digest = headers.get("content-digest")
  if (digest === null) return Effect.succeed(undefined)
  const match = /sha-256=:([A-Za-z0-9+/=]+):/.exec(digest)
  const bytes = match ? Buffer.from(match[1]!, "base64") : undefined
  return bytes && bytes.length === 32 ? Effect.succeed(bytes.toString("hex")) : Effect.fail(
    new ValidationError({
      message: "Header content-digest must carry sha-256=:<base64 of 32 bytes>:",
      issues: [{ path: ["content-digest"], message: "must be sha-256=:<base64>:" }]
    })
  )
}

/** Identity fields never change after registration: name them, rather than call them unknown fields. */
const refuseIdentityChanges = (body: unknown): ValidationError | undefined => {
  const immutable = typeof body === "object" && body !== null
    ? immutableModelFields.filter((field) => field in body)
    : []
  return immutable.length === 0 ? undefined : new ValidationError({
    message: `Fields ${immutable.join(", ")} cannot be changed after registration; register a new version instead`,
    issues: immutable.map((field) => ({ path: [field], message: "is immutable once registered" }))
  })
}

/** The streamed artifact with its digest in three forms (ours, RFC 9530, and an ETag). */
const artifactResponse = ({ model, stream }: { model: Model; stream: ReadableStream<Uint8Array> }) => {
  const artifact = model.artifact!
  return new Response(stream, {
    headers: {
      "content-type": "application/octet-stream",
      "content-length": String(artifact.sizeBytes),
      "content-disposition": `attachment; filename="${model.name}-${model.version}.bin"`,
      "x-artifact-sha256": artifact.sha256,
      "content-digest": `sha-256=:${Buffer.from(artifact.sha256, "hex").toString("base64")}:`,
      etag: `"${artifact.sha256}"`
    }
  })
}

/** Protected aliases move, and change protection, only with this admin permission. */
const protectedAliasesPermission = "models:protected-aliases"

/** A create or update that sets `protectedAliases`, refused (403) to a caller who may not change them. */
const refuseProtectionChange = <A>(
  principal: Access.Principal,
  body: { readonly protectedAliases?: ReadonlyArray<string> | undefined },
  then: () => A
) =>
  body.protectedAliases !== undefined && !hasPermission(principal.role, protectedAliasesPermission)
    ? Effect.fail(forbidden(principal, protectedAliasesPermission))
    : then()

/** Promotion targets beyond an editor's reach. */
const endStates: ReadonlySet<string> = new Set(["production", "archived"])

export const modelRoutes = (mount: Mount<AppServices>, options: { readonly maxUploadBytes: number }) => {
  const app = new Hono()

  mount(
    app,
    Registry.registerModel,
    ({ actor, body, onBehalfOf }) =>
      registry((r) => r.registerModel(body, undefined, { actor, onBehalfOf })).pipe(
        // Registration over HTTP carries no artifact, so the artifact's errors cannot happen.
        Effect.catchTag(["ArtifactStateError", "ArtifactTooLargeError", "IntegrityError"], Effect.die),
        Effect.map((model) => new Reply(model, { location: `/v1/models/${model.id}` }))
      )
  )

  mount(app, Registry.listModels, ({ query }) => registry((r) => r.listModels(query)))

  // Before getModel: /v1/models/search is not a model id.
  mount(app, Registry.searchModels, ({ query }) => registry((r) => r.searchModels(query)))

  mount(app, Registry.getModel, ({ params }) => registry((r) => r.getModel(params.id)))

  mount(
    app,
    Registry.updateModel,
    ({ actor, body, onBehalfOf, params }) =>
      registry((r) =>
        r.updateModel(params.id, body, { actor, onBehalfOf: body.onBehalfOf ?? body.actor ?? onBehalfOf })
      ),
    { screenBody: refuseIdentityChanges }
  )

  mount(
    app,
    Registry.setModelTag,
    ({ actor, body, onBehalfOf, params }) =>
      registry((r) => r.setTag(params.id, params.key, body.value, { actor, onBehalfOf }))
  )

  mount(
    app,
    Registry.deleteModelTag,
    ({ actor, onBehalfOf, params }) => registry((r) => r.deleteTag(params.id, params.key, { actor, onBehalfOf }))
  )

  mount(app, Registry.uploadArtifact, ({ actor, onBehalfOf, params, query, request }) => {
    const declared = request.headers.get("content-length")
    if (declared !== null && Number(declared) > options.maxUploadBytes) {
      return Effect.fail(
        new ArtifactTooLargeError({
          message: `Artifact exceeds the upload limit of ${options.maxUploadBytes} bytes`,
          limitBytes: options.maxUploadBytes
        })
      )
    }
    const body = request.body ?? new Blob([]).stream()
    return Effect.flatMap(
      expectedDigest(request.headers),
      (expectedSha256) =>
        registry((r) =>
          r.uploadArtifact(params.id, body, { expectedSha256, actor, onBehalfOf, allowEmpty: query.allowEmpty })
        )
    )
  })

  mount(
    app,
    Registry.downloadArtifact,
    ({ params }) => registry((r) => r.readArtifact(params.id)).pipe(Effect.map(artifactResponse))
  )

  mount(
    app,
    Registry.promoteModel,
    ({ actor, body, onBehalfOf, params, principal }) =>
      // Editors promote up to staging; production and archive need the admin's permission.
      endStates.has(body.status) && !hasPermission(principal.role, "models:promote-production")
        ? Effect.fail(forbidden(principal, "models:promote-production"))
        : registry((r) =>
          r.promoteModel(params.id, body.status, {
            reason: body.reason,
            actor,
            onBehalfOf: body.onBehalfOf ?? body.actor ?? onBehalfOf
          })
        )
  )

  mount(app, Registry.getHistory, ({ params }) => registry((r) => r.getHistory(params.id)))

  mount(
    app,
    Registry.getProduction,
    ({ params: { name }, query: { at } }) =>
      registry((r) => r.getProduction(name, at)).pipe(
        Effect.flatMap((model) =>
          model ? Effect.succeed(model) : Effect.fail(
            new NotFound({
              message: `No version of ${name} was in production${at ? ` at ${at}` : ""}`,
              name,
              ...(at ? { at } : {})
            })
          )
        )
      )
  )

  mount(app, Registry.listRegisteredModels, ({ query }) => registry((r) => r.listRegisteredModels(query)))

  mount(
    app,
    Registry.createRegisteredModel,
    ({ actor, body, principal }) =>
      refuseProtectionChange(principal, body, () =>
        registry((r) => r.createRegisteredModel(body, { actor })).pipe(
          Effect.map((created) =>
            new Reply(created, { location: `/v1/registered-models/${encodeURIComponent(created.name)}` })
          )
        ))
  )

  mount(app, Registry.getRegisteredModel, ({ params }) => registry((r) => r.getRegisteredModel(params.name)))

  mount(
    app,
    Registry.updateRegisteredModel,
    ({ body, params, principal }) =>
      refuseProtectionChange(principal, body, () => registry((r) => r.updateRegisteredModel(params.name, body)))
  )

  mount(
    app,
    Registry.getRegisteredModelHistory,
    ({ params }) => registry((r) => r.getRegisteredModelHistory(params.name))
  )

  mount(
    app,
    Registry.archiveRegisteredModel,
    ({ actor, body, onBehalfOf, params }) =>
      registry((r) =>
        r.archiveRegisteredModel(params.name, {
          actor,
          onBehalfOf: body?.onBehalfOf ?? onBehalfOf,
          reason: body?.reason
        })
      )
  )

  // Protected aliases are checked by the use case on the state it commits against (no race with a PATCH).
  const aliasOptions = (actor: string, onBehalfOf: string | undefined, principal: Access.Principal) => ({
    actor,
    onBehalfOf,
    mayMoveProtected: hasPermission(principal.role, protectedAliasesPermission)
  })

  mount(
    app,
    Registry.setAlias,
    ({ actor, body, onBehalfOf, params, principal }) =>
      registry((r) => r.setAlias(params.name, params.alias, body, aliasOptions(actor, onBehalfOf, principal)))
  )

  mount(
    app,
    Registry.deleteAlias,
    ({ actor, onBehalfOf, params, principal }) =>
      registry((r) => r.deleteAlias(params.name, params.alias, aliasOptions(actor, onBehalfOf, principal))).pipe(
        Effect.as(undefined)
      )
  )

  mount(
    app,
    Registry.getAlias,
    ({ params, query }) => registry((r) => r.resolveAlias(params.name, params.alias, query.at))
  )

  return app
}
