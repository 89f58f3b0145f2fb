/**
 * The operational routes: liveness (never touches storage, so a slow store cannot fail it),
 * readiness (storage answers and the data directory has room), Prometheus metrics and the
 * contract (/openapi.json, /docs).
 */
import { type OpenApiDocument, Operations } from "@org/ml-api"
import { ModelRegistry, type StorageError } from "@org/ml-core"
import { Effect } from "effect"
import { Hono } from "hono"
import type { DiskSpace } from "../DiskSpace.js"
import { docsPage } from "../Docs.js"
import { problem, problemResponse } from "../Problem.js"
import type { AppServices } from "./AppServices.js"
import type { Mount } from "./Mount.js"

export interface OperationRoutesOptions {
  /** Renders the Prometheus exposition after the registry gauges are refreshed. */
  readonly metrics: () => Promise<{ readonly contentType: string; readonly body: string }>
  readonly openApi: OpenApiDocument
  readonly diskSpace?: DiskSpace | undefined
}

/**
 * Not ready for want of space: a 503 (a balancer takes the instance out of rotation) whose
 * problem names the directory and says "insufficient storage", unlike the 507 a failed write gets.
 */
const notReadyForSpace = (error: { readonly message: string; readonly directory?: string | undefined }) =>
  problemResponse(
    problem("StorageError", `Insufficient storage in ${error.directory}: ${error.message}`, {
      reason: "insufficient-storage",
      directory: error.directory
    }, "/readyz")
  )

/** `mount` runs handlers with the app's services; `mountPlain` runs those that need none. */
export const operationRoutes = (
  mount: Mount<AppServices>,
  mountPlain: Mount<never>,
  options: OperationRoutesOptions
) => {
  const app = new Hono()
  let docs: string | undefined

  mountPlain(app, Operations.health, () => Effect.succeed({ status: "ok" as const }))

  const diskSpace = options.diskSpace
  mount(
    app,
    Operations.ready,
    () =>
      ModelRegistry.ModelRegistry.use((r) => r.ping()).pipe(
        Effect.andThen(() => diskSpace ? Effect.promise(diskSpace.check) : Effect.succeed(undefined)),
        Effect.flatMap((error) =>
          error === undefined ? Effect.succeed({ status: "ready" as const }) : Effect.fail(error)
        ),
        // Also when the store itself reports the full disk: /readyz answers 503, never the 507 of a write.
        Effect.catchTag(
          "StorageError",
          (error): Effect.Effect<Response, StorageError> =>
            error.reason === "insufficient-storage" ? Effect.succeed(notReadyForSpace(error)) : Effect.fail(error)
        )
      )
  )

  mountPlain(app, Operations.metrics, () =>
    Effect.promise(async () => {
      const { contentType, body } = await options.metrics()
      return new Response(body, { headers: { "content-type": contentType } })
    }))

  mountPlain(app, Operations.openApi, () => Effect.succeed(options.openApi))

  mountPlain(
    app,
    Operations.docs,
    () =>
      Effect.sync(() =>
        new Response(docs ??= docsPage(options.openApi), { headers: { "content-type": "text/html; charset=UTF-8" } })
      )
  )

  return app
}
