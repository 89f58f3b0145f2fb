/**
 * The operational routes: liveness (never touches storage, so a slow store cannot fail it),
 * readiness (storage answers), Prometheus metrics and the contract (/openapi.json, /docs).
 */
import { type OpenApiDocument, Operations } from "@org/ml-api"
import { ModelRegistry } from "@org/ml-core"
import { Effect } from "effect"
import { Hono } from "hono"
import { docsPage } from "../Docs.js"
import type { AppServices } from "./AppServices.js"
import type { Mount } from "./Mount.js"

export interface OperationRoutesOptions {
  /** Renders the Prometheus exposition after the registry gauges are refreshed. */
  readonly metrics: () => Promise<{ readonly contentType: string; readonly body: string }>
  readonly openApi: OpenApiDocument
}

/** `mount` runs handlers with the app's services; `mountPlain` runs those that need none. */
export const operationRoutes = (
  mount: Mount<AppServices>,
  mountPlain: Mount<never>,
  options: OperationRoutesOptions
) => {
  const app = new Hono()
  let docs: string | undefined

  mountPlain(app, Operations.health, () => Effect.succeed({ status: "ok" as const }))

  mount(
    app,
    Operations.ready,
    () => ModelRegistry.ModelRegistry.use((r) => r.ping()).pipe(Effect.as({ status: "ready" as const }))
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
