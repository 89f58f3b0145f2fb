/**
 * What SDKs evaluating experiments locally read: SDK connections (admins create them; each has a
 * public client key), the GrowthBook-compatible features payload and its server-sent events
 * stream (any GrowthBook SDK is a client), and the stream of experiment definitions our own
 * SDK's LocalEvaluator follows. The two streams are served from one change feed of the
 * experiments store.
 */
import { SdkConnections } from "@org/ml-core"
import { Schema } from "effect"
import { endpoint } from "./Endpoint.js"

const exampleConnection = {
  id: "01J8Z3NDEKTSV4RRFFQ69G5FAV",
  name: "web-frontend",
  clientKey: "sdk-3q2-7wAAAAexampleexample",
  projectFilter: ["checkout-*"],
  createdAt: "2026-01-05T10:00:00.000Z",
  createdBy: "bootstrap"
} as const

export const SdkConnectionParams = Schema.Struct({ id: Schema.String })
export const ClientKeyParams = Schema.Struct({
  clientKey: Schema.String.check(
    Schema.isMaxLength(128, { message: "must be at most 128 characters" })
  )
})

export const createSdkConnection = endpoint({
  operationId: "createSdkConnection",
  method: "POST",
  path: "/v1/sdk-connections",
  resource: "Access",
  summary: "Create an SDK connection: a public client key for the GrowthBook-compatible features payload",
  description: "The client key reads GET /api/features/{clientKey} and /sub/{clientKey} and nothing else. " +
    "`projectFilter` globs narrow the experiments served; `encrypt` serves `encryptedFeatures` (AES-CBC) " +
    "that SDKs decrypt with the connection's `decryptionKey`.",
  permission: "keys:manage",
  body: {
    schema: SdkConnections.CreateSdkConnectionInput,
    description: "SDK connection",
    example: { name: "web-frontend", projectFilter: ["checkout-*"] }
  },
  success: { status: 201, description: "Created", schema: SdkConnections.SdkConnection, example: exampleConnection },
  errors: ["StorageError"]
})

export const listSdkConnections = endpoint({
  operationId: "listSdkConnections",
  method: "GET",
  path: "/v1/sdk-connections",
  resource: "Access",
  summary: "Every SDK connection",
  permission: "keys:manage",
  success: {
    status: 200,
    description: "SDK connections",
    schema: SdkConnections.SdkConnectionList,
    example: { items: [exampleConnection] }
  },
  errors: ["StorageError"]
})

export const listSdkConnectionEvents = endpoint({
  operationId: "listSdkConnectionEvents",
  method: "GET",
  path: "/v1/sdk-connections/events",
  resource: "Access",
  summary: "The audit events of SDK connection creation and deletion, oldest first",
  permission: "keys:manage",
  success: {
    status: 200,
    description: "SDK connection events",
    schema: SdkConnections.SdkConnectionEventList,
    example: {
      items: [{
        at: exampleConnection.createdAt,
        action: "created",
        actor: "bootstrap",
        connectionId: exampleConnection.id,
        connectionName: exampleConnection.name
      }]
    }
  },
  errors: ["StorageError"]
})

export const deleteSdkConnection = endpoint({
  operationId: "deleteSdkConnection",
  method: "DELETE",
  path: "/v1/sdk-connections/{id}",
  resource: "Access",
  summary: "Delete an SDK connection: its client key stops serving at once on every instance",
  permission: "keys:manage",
  params: SdkConnectionParams,
  success: { status: 204, description: "Deleted" },
  errors: ["NotFound", "StorageError"]
})

const examplePayload = {
  status: 200,
  features: {
    "checkout-ranker": {
      defaultValue: "ranker-v1",
      rules: [{
        id: "checkout-ranker:r2",
        key: "checkout-ranker",
        variations: ["ranker-v1", "ranker-v2"],
        weights: [0.5, 0.5],
        coverage: 1,
        hashAttribute: "id",
        hashVersion: 2,
        seed: "checkout-ranker",
        name: "Checkout ranker",
        meta: [{ key: "0", name: "ranker-v1" }, { key: "1", name: "ranker-v2" }]
      }]
    }
  },
  experiments: [],
  dateUpdated: "2026-01-05T10:00:00.000Z"
}

/** The payload's shape as documented: features are GrowthBook feature definitions (see GrowthBookPayload.ts). */
export const FeaturesPayload = Schema.Struct({
  status: Schema.Literal(200),
  features: Schema.Record(Schema.String, Schema.Unknown),
  encryptedFeatures: Schema.optionalKey(Schema.String),
  experiments: Schema.Array(Schema.Unknown),
  dateUpdated: Schema.String
})

export const getFeatures = endpoint({
  operationId: "getFeatures",
  method: "GET",
  path: "/api/features/{clientKey}",
  resource: "Experiments",
  summary: "The GrowthBook SDK features payload of the connection's experiments (one feature per experiment)",
  description: "Running experiments are experiment rules (variations = model ids); draft, paused and completed " +
    "ones are force rules with the model the server answers. Users left out get the default value, the " +
    "control. ETag and If-None-Match (304) for polling SDKs; open to any origin (CORS) like GrowthBook's API.",
  permission: "public",
  params: ClientKeyParams,
  success: {
    status: 200,
    description: "The payload (features, or encryptedFeatures)",
    schema: FeaturesPayload,
    example: examplePayload
  },
  errors: ["NotFound", "StorageError"]
})

export const subscribeFeatures = endpoint({
  operationId: "subscribeFeatures",
  method: "GET",
  path: "/sub/{clientKey}",
  resource: "Experiments",
  summary: "Server-sent events: a `features` event with the new payload whenever the connection's experiments change",
  description: "GrowthBook's streaming protocol: SDKs with streaming enabled see a re-split, pause or " +
    "completion within a second, whichever instance made it.",
  permission: "public",
  params: ClientKeyParams,
  success: {
    status: 200,
    description: "An event stream",
    contentType: "text/event-stream",
    example: `event: features\ndata: ${JSON.stringify(examplePayload)}\n\n`
  },
  errors: ["NotFound", "StorageError"]
})

export const streamExperiments = endpoint({
  operationId: "streamExperiments",
  method: "GET",
  path: "/v1/experiment-stream",
  resource: "Experiments",
  summary: "Server-sent events: an `experiments` event with every experiment, at once and after each change",
  description: "What the SDK's LocalEvaluator follows instead of polling; a change made through any " +
    "instance arrives within a second.",
  permission: "experiments:read",
  success: {
    status: 200,
    description: "An event stream of `experiments` events, each `{ items: Experiment[] }`",
    contentType: "text/event-stream",
    example: "event: experiments\ndata: {\"items\":[]}\n\n"
  },
  errors: ["StorageError"]
})

export const endpoints = [
  createSdkConnection,
  listSdkConnections,
  listSdkConnectionEvents,
  deleteSdkConnection,
  getFeatures,
  subscribeFeatures,
  streamExperiments
] as const
