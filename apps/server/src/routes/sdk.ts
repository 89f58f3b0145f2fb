/**
 * Routes for SDKs that evaluate experiments locally: SDK connections (admin-made public client
 * keys, audited), the GrowthBook-compatible features payload (ETag/304, optional AES-CBC
 * `encryptedFeatures`, open to every origin as GrowthBook's API is) with its server-sent events
 * stream `/sub/{clientKey}`, and `/v1/experiment-stream` for our SDK's LocalEvaluator. Both streams
 * and the payload follow one ExperimentFeed, so a change made by any instance reaches them within a
 * second, and the payload is built once per connection and experiments version, not per request.
 * The client key is looked up per request (a deleted connection stops serving at once on every
 * instance), and a deleted connection's open streams end when the connections feed sees it gone.
 */
import { NotFound, Sdk } from "@org/ml-api"
import { AbTests, ExperimentStore, growthBookPayload, makeUlid, SdkConnections, StorageError } from "@org/ml-core"
import { Effect, type ManagedRuntime, Option } from "effect"
import { Hono } from "hono"
import { createCipheriv, createHash, randomBytes } from "node:crypto"
import { outsideModels } from "../Auth.js"
import { type ChangeFeed, makeChangeFeed } from "../ChangeFeed.js"
import { type EventStreams, makeEventStreams } from "../EventStreams.js"
import { type ExperimentFeed, type ExperimentsSnapshot, makeExperimentFeed } from "../ExperimentFeed.js"
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
  /** The text the streams send. */
  readonly body: string
  /** The same, encoded once: a large payload is not encoded again for every request. */
  readonly bytes: Uint8Array<ArrayBuffer>
}

/** Payload builds in this process, every cache counted (bench/features-payload.mjs reads it). */
let payloadBuilds = 0
export const payloadBuildsSoFar = (): number => payloadBuilds

/**
 * The payload of one connection as sent: the body (encrypted when the connection says so) and its
 * ETag, from the plain text, so an encrypted body (a fresh IV each time) keeps its ETag. Built once
 * per connection and experiments snapshot (the feed keeps one object per version, so identity is
 * the key); an unchanged payload keeps its body, so streams and polling SDKs see the same bytes.
 */
const makePayloadCache = () => {
  const kept = new Map<string, { readonly snapshot: ExperimentsSnapshot; readonly rendered: Rendered }>()
  return (connection: SdkConnections.SdkConnection, snapshot: ExperimentsSnapshot): Rendered => {
    const hit = kept.get(connection.id)
    if (hit?.snapshot === snapshot) return hit.rendered
    payloadBuilds++
    const serves = SdkConnections.connectionServes(connection)
    const payload = growthBookPayload(snapshot.experiments.filter((e) => serves(e.id)))
    const plain = JSON.stringify(payload)
    const etag = `"${createHash("sha256").update(plain).digest("base64url").slice(0, 27)}"`
    const body = hit?.rendered.etag === etag
      ? undefined
      : connection.decryptionKey === undefined
      ? plain
      : JSON.stringify({
        status: 200,
        features: {},
        encryptedFeatures: encryptPayloadText(JSON.stringify(payload.features), connection.decryptionKey),
        experiments: [],
        dateUpdated: payload.dateUpdated
      })
    const rendered = body === undefined ? hit!.rendered : { etag, body, bytes: new TextEncoder().encode(body) }
    // One entry per connection; deleted connections' entries go with the next overflow.
    if (kept.size > 10_000) kept.clear()
    kept.set(connection.id, { snapshot, rendered })
    return rendered
  }
}

/** The SDK connections as stored, watched while /sub streams are open so a deleted one's streams end. */
export interface ConnectionsSnapshot {
  readonly clientKeys: ReadonlySet<string>
  readonly version: string
}

/** The feeds the SDK routes follow: one per app, invalidated by the writes made through it (App.ts). */
export interface SdkFeeds {
  readonly experiments: ExperimentFeed
  readonly connections: ChangeFeed<ConnectionsSnapshot>
}

export const makeSdkFeeds = (
  runtime: ManagedRuntime.ManagedRuntime<AppServices, unknown>,
  log?: ((line: string) => void) | undefined
): SdkFeeds => ({
  experiments: makeExperimentFeed({
    list: () => runtime.runPromise(AbTests.AbTests.use((t) => t.listExperiments())),
    // The store, where the runtime has it (the server's does), for its cheap token.
    token: () =>
      runtime.runPromise(
        Effect.serviceOption(ExperimentStore.ExperimentStore).pipe(
          Effect.flatMap((store) =>
            Option.isSome(store) && store.value.definitionsToken !== undefined
              ? store.value.definitionsToken()
              : Effect.undefined
          )
        )
      ),
    log
  }),
  connections: makeChangeFeed({
    name: "SDK connection",
    read: async () => {
      const connections = await runtime.runPromise(SdkConnections.SdkConnectionStore.use((store) => store.list()))
      return {
        clientKeys: new Set(connections.map((c) => c.clientKey)),
        version: connections.map((c) => c.id).join(",")
      }
    },
    log
  })
})

export interface SdkRouteOptions {
  readonly runtime: ManagedRuntime.ManagedRuntime<AppServices, unknown>
  /** The change feeds (one per app); made from the runtime's stores when absent. */
  readonly feeds?: SdkFeeds | undefined
  /** The open event streams, ended at shutdown (Server.ts); a register of the routes' own when absent. */
  readonly streams?: EventStreams | undefined
  readonly log?: ((line: string) => void) | undefined
}

export const sdkRoutes = (mount: Mount<AppServices>, options: SdkRouteOptions) => {
  const app = new Hono()
  const feeds = options.feeds ?? makeSdkFeeds(options.runtime, options.log)
  const streams = options.streams ?? makeEventStreams()
  streams.onClose(() => {
    feeds.experiments.close()
    feeds.connections.close()
  })
  const render = makePayloadCache()

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
    try: () => feeds.experiments.snapshot(),
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
            : Effect.sync(() => {
              // Its open streams on this instance end now, not at the next poll.
              feeds.connections.invalidate()
              return undefined
            })
        )
      )
  )

  mount(app, Sdk.getFeatures, ({ params, request }) =>
    Effect.gen(function*() {
      const connection = yield* connectionOf(params.clientKey)
      const { bytes, etag } = render(connection, yield* currentExperiments)
      const headers = { etag, "cache-control": "no-cache", "x-sse-support": "enabled", ...corsHeaders }
      if (request.headers.get("if-none-match") === etag) return new Response(null, { status: 304, headers })
      return new Response(bytes, { status: 200, headers: { ...headers, "content-type": "application/json" } })
    }))

  mount(
    app,
    Sdk.subscribeFeatures,
    ({ params }) =>
      connectionOf(params.clientKey).pipe(Effect.map((connection) =>
        streams.open((send, close) => {
          let sent: string | undefined
          const stopFeatures = feeds.experiments.subscribe((snapshot) => {
            const { body, etag } = render(connection, snapshot)
            // Changes to experiments this connection does not serve send nothing.
            if (etag === sent) return
            sent = etag
            send("features", body)
          })
          // A deleted connection serves nothing more: its streams end (the SDK's reconnect gets a 404).
          // A list without the key may predate the connection (made on another instance a moment
          // ago): the store has the last word.
          const stopConnections = feeds.connections.subscribe(({ clientKeys }) => {
            if (clientKeys.has(connection.clientKey)) return
            options.runtime.runPromise(connections((store) => store.findByClientKey(connection.clientKey))).then(
              (found) => found === undefined && close(),
              () => undefined
            )
          })
          return () => {
            stopFeatures()
            stopConnections()
          }
        }, corsHeaders)
      ))
  )

  mount(app, Sdk.streamExperiments, ({ principal }) =>
    // A key confined to some models reads experiments through the filtered list, not this stream of all.
    principal.modelNames !== undefined
      ? Effect.fail(outsideModels(principal, "the stream of every experiment"))
      : Effect.succeed(streams.open(
        (send) =>
          feeds.experiments.subscribe(({ experiments }) => send("experiments", JSON.stringify({ items: experiments }))),
        corsHeaders
      )))

  return app
}
