/**
 * Routes for SDKs that evaluate experiments locally: SDK connections (admin-made public client
 * keys, audited), the GrowthBook-compatible features payload (ETag/304, optional AES-CBC
 * `encryptedFeatures`, open to every origin as GrowthBook's API is) with its server-sent events
 * stream `/sub/{clientKey}`, and `/v1/experiment-stream` for our SDK's LocalEvaluator. Both streams
 * follow one ExperimentFeed, so a change made by any instance reaches them within a second.
 */
import { NotFound, Sdk } from "@org/ml-api"
import { AbTests, type Experiment, growthBookPayload, makeUlid, SdkConnections, StorageError } from "@org/ml-core"
import { Effect, type ManagedRuntime } from "effect"
import { Hono } from "hono"
import { createCipheriv, createHash, randomBytes } from "node:crypto"
import { outsideModels } from "../Auth.js"
import type { ExperimentFeed } from "../ExperimentFeed.js"
import { makeExperimentFeed } from "../ExperimentFeed.js"
import type { AppServices } from "./AppServices.js"
import type { Mount } from "./Mount.js"

/** GrowthBook's encryption: AES-128-CBC, a random IV, `base64(iv).base64(ciphertext)`. */
export const encryptPayloadText = (plainText: string, keyBase64: string): string => {
  const iv = randomBytes(16)
  const cipher = createCipheriv("aes-128-cbc", Buffer.from(keyBase64, "base64"), iv)
  const encrypted = Buffer.concat([cipher.update(plainText, "utf8"), cipher.final()])
  return `${iv.toString("base64")}.${encrypted.toString("base64")}`
}

/** A client key: public, unguessable (so the payload is not enumerable), in GrowthBook's `sdk-` style. */
const newClientKey = () => `sdk-${randomBytes(18).toString("base64url")}`

const corsHeaders = {
  // Browsers on any site run GrowthBook SDKs with a public client key, as GrowthBook's own API allows.
  "access-control-allow-origin": "*",
  "access-control-expose-headers": "etag, x-sse-support"
}

interface Rendered {
  readonly etag: string
  readonly body: string
}

/**
 * The payload of one connection as sent: the body (encrypted when the connection says so) and its
 * ETag, from the plain text, so an encrypted body (a fresh IV each time) keeps its ETag. The last
 * body per connection is kept, so polling SDKs and streams do not re-encrypt an unchanged payload.
 */
const makeRenderer = () => {
  const last = new Map<string, Rendered>()
  return (connection: SdkConnections.SdkConnection, experiments: ReadonlyArray<Experiment>): Rendered => {
    const serves = SdkConnections.connectionServes(connection)
    const payload = growthBookPayload(experiments.filter((e) => serves(e.id)))
    const plain = JSON.stringify(payload)
    const etag = `"${createHash("sha256").update(plain).digest("base64url").slice(0, 27)}"`
    const kept = last.get(connection.id)
    if (kept?.etag === etag) return kept
    const body = connection.decryptionKey === undefined ? plain : JSON.stringify({
      status: 200,
      features: {},
      encryptedFeatures: encryptPayloadText(JSON.stringify(payload.features), connection.decryptionKey),
      experiments: [],
      dateUpdated: payload.dateUpdated
    })
    const rendered = { etag, body }
    if (last.size > 10_000) last.clear()
    last.set(connection.id, rendered)
    return rendered
  }
}

/** A server-sent events answer: `start` gets a sender and answers its cleanup, run when the client leaves. */
const eventStream = (start: (send: (event: string, data: string) => void) => () => void): Response => {
  const encoder = new TextEncoder()
  let stop: (() => void) | undefined
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      let open = true
      const write = (text: string) => {
        if (!open) return
        try {
          controller.enqueue(encoder.encode(text))
        } catch {
          open = false
        }
      }
      // A comment now and then keeps proxies from closing an idle stream.
      const heartbeat = setInterval(() => write(": keep-alive\n\n"), 15_000)
      ;(heartbeat as { unref?: () => void }).unref?.()
      const cleanup = start((event, data) => write(`event: ${event}\ndata: ${data}\n\n`))
      stop = () => {
        open = false
        clearInterval(heartbeat)
        cleanup()
      }
    },
    cancel() {
      stop?.()
    }
  })
  return new Response(stream, {
    status: 200,
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      "x-accel-buffering": "no",
      ...corsHeaders
    }
  })
}

export interface SdkRouteOptions {
  readonly runtime: ManagedRuntime.ManagedRuntime<AppServices, unknown>
  /** The change feed (one per app); made from the runtime's experiments when absent. */
  readonly feed?: ExperimentFeed | undefined
  readonly log?: ((line: string) => void) | undefined
}

export const sdkRoutes = (mount: Mount<AppServices>, options: SdkRouteOptions) => {
  const app = new Hono()
  const feed = options.feed ?? makeExperimentFeed({
    list: () => options.runtime.runPromise(AbTests.AbTests.use((t) => t.listExperiments())),
    log: options.log
  })
  const render = makeRenderer()

  const connections = <A, E>(f: (store: SdkConnections.SdkConnectionStoreShape) => Effect.Effect<A, E>) =>
    SdkConnections.SdkConnectionStore.use(f)
  const connectionOf = (clientKey: string) =>
    connections((store) => store.findByClientKey(clientKey)).pipe(
      Effect.flatMap((connection) =>
        connection === undefined
          ? Effect.fail(new NotFound({ message: `No SDK connection has the client key ${clientKey}` }))
          : Effect.succeed(connection)
      )
    )
  const currentExperiments = Effect.tryPromise({
    try: () => feed.current(),
    catch: (cause) =>
      cause instanceof StorageError ? cause : new StorageError({ message: `Reading experiments failed: ${cause}` })
  })

  mount(app, Sdk.createSdkConnection, ({ body, principal }) => {
    const now = Date.now()
    const connection: SdkConnections.SdkConnection = {
      id: makeUlid(now),
      name: body.name,
      clientKey: newClientKey(),
      ...(body.projectFilter === undefined ? {} : { projectFilter: body.projectFilter }),
      ...(body.encrypt === true ? { decryptionKey: randomBytes(16).toString("base64") } : {}),
      createdAt: new Date(now).toISOString(),
      createdBy: principal.name
    }
    return connections((store) => store.create(connection)).pipe(Effect.as(connection))
  })

  mount(
    app,
    Sdk.listSdkConnections,
    () => connections((store) => store.list()).pipe(Effect.map((items) => ({ items })))
  )

  mount(
    app,
    Sdk.listSdkConnectionEvents,
    () => connections((store) => store.events()).pipe(Effect.map((items) => ({ items })))
  )

  mount(
    app,
    Sdk.deleteSdkConnection,
    ({ params, principal }) =>
      connections((store) => store.remove(params.id, principal.name, new Date().toISOString())).pipe(
        Effect.flatMap((removed) =>
          removed === undefined
            ? Effect.fail(new NotFound({ message: `No SDK connection ${params.id}` }))
            : Effect.succeed(undefined)
        )
      )
  )

  mount(app, Sdk.getFeatures, ({ params, request }) =>
    Effect.gen(function*() {
      const connection = yield* connectionOf(params.clientKey)
      const { experiments } = yield* currentExperiments
      const { body, etag } = render(connection, experiments)
      const headers = { etag, "cache-control": "no-cache", "x-sse-support": "enabled", ...corsHeaders }
      if (request.headers.get("if-none-match") === etag) return new Response(null, { status: 304, headers })
      return new Response(body, { status: 200, headers: { ...headers, "content-type": "application/json" } })
    }))

  mount(
    app,
    Sdk.subscribeFeatures,
    ({ params }) =>
      connectionOf(params.clientKey).pipe(Effect.map((connection) =>
        eventStream((send) => {
          let sent: string | undefined
          return feed.subscribe(({ experiments }) => {
            const { body, etag } = render(connection, experiments)
            // Changes to experiments this connection does not serve send nothing.
            if (etag === sent) return
            sent = etag
            send("features", body)
          })
        })
      ))
  )

  mount(app, Sdk.streamExperiments, ({ principal }) =>
    // A key confined to some models reads experiments through the filtered list, not this stream of all.
    principal.modelNames !== undefined
      ? Effect.fail(outsideModels(principal, "the stream of every experiment"))
      : Effect.succeed(eventStream((send) =>
        feed.subscribe(({ experiments }) => send("experiments", JSON.stringify({ items: experiments })))
      )))

  return app
}
