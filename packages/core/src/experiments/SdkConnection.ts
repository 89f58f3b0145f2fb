/**
 * SDK connections: what lets a GrowthBook SDK (or our own) read the experiments payload without
 * an API key. An admin creates one and gets a public `clientKey`, which grants nothing but
 * `GET /api/features/{clientKey}` and its stream `/sub/{clientKey}`. A connection may narrow the
 * experiments it serves (`projectFilter`, globs over experiment ids: we have no projects, ids
 * such as `checkout-*` play their part) and may encrypt the payload (AES-CBC with a 128-bit key
 * made at creation, as GrowthBook's `encryptedFeatures`). Creation and deletion are audited in
 * the store's same write.
 */
import { Context, Effect, Layer, Schema } from "effect"
import { globMatcher, KeyName, ModelNamePattern } from "../access/KeyStore.js"
import type { StorageError } from "../shared/Errors.js"

export const MAX_PROJECT_FILTERS = 64
/** Connection audit events kept, newest first to stay. */
export const MAX_SDK_CONNECTION_EVENTS = 10_000

export const CreateSdkConnectionInput = Schema.Struct({
  name: KeyName,
  /** Globs over experiment ids ('*' and '?'); absent: every experiment. */
  projectFilter: Schema.optionalKey(
    Schema.Array(ModelNamePattern).check(
      Schema.isMaxLength(MAX_PROJECT_FILTERS, { message: `must have at most ${MAX_PROJECT_FILTERS} patterns` })
    )
  ),
  /** Serve `encryptedFeatures` instead of `features`; the SDK needs the connection's decryptionKey. */
  encrypt: Schema.optionalKey(Schema.Boolean)
})
export type CreateSdkConnectionInput = typeof CreateSdkConnectionInput.Type

export const SdkConnection = Schema.Struct({
  id: Schema.String,
  name: KeyName,
  /** Public: SDKs send it in the URL. It reads the features payload and nothing else. */
  clientKey: Schema.String,
  projectFilter: Schema.optionalKey(Schema.Array(ModelNamePattern)),
  /** Base64 AES-128 key of an encrypted connection: the SDKs' `decryptionKey`. */
  decryptionKey: Schema.optionalKey(Schema.String),
  createdAt: Schema.String,
  createdBy: Schema.String
})
export type SdkConnection = typeof SdkConnection.Type
export const SdkConnectionList = Schema.Struct({ items: Schema.Array(SdkConnection) })

export const SdkConnectionEvent = Schema.Struct({
  at: Schema.String,
  action: Schema.Literals(["created", "deleted"]),
  actor: Schema.String,
  connectionId: Schema.String,
  connectionName: Schema.String
})
export type SdkConnectionEvent = typeof SdkConnectionEvent.Type
export const SdkConnectionEventList = Schema.Struct({ items: Schema.Array(SdkConnectionEvent) })

/** Whether a connection serves an experiment. */
export const connectionServes = (connection: Pick<SdkConnection, "projectFilter">) => {
  if (connection.projectFilter === undefined) return (_experimentId: string) => true
  return globMatcher(connection.projectFilter)
}

export interface SdkConnectionStoreShape {
  /** Stores the connection and its "created" event in one write. */
  readonly create: (connection: SdkConnection) => Effect.Effect<void, StorageError>
  readonly list: () => Effect.Effect<ReadonlyArray<SdkConnection>, StorageError>
  /** Read per request, never cached: a deleted connection stops serving on every instance. */
  readonly findByClientKey: (clientKey: string) => Effect.Effect<SdkConnection | undefined, StorageError>
  /** Deletes it with a "deleted" event; answers the deleted connection, or undefined when there is none. */
  readonly remove: (id: string, actor: string, at: string) => Effect.Effect<SdkConnection | undefined, StorageError>
  /** Creations and deletions, oldest first (the newest MAX_SDK_CONNECTION_EVENTS). */
  readonly events: () => Effect.Effect<ReadonlyArray<SdkConnectionEvent>, StorageError>
}

export class SdkConnectionStore extends Context.Service<SdkConnectionStore, SdkConnectionStoreShape>()(
  "@org/ml-core/SdkConnectionStore"
) {}

export const createdEvent = (connection: SdkConnection): SdkConnectionEvent => ({
  at: connection.createdAt,
  action: "created",
  actor: connection.createdBy,
  connectionId: connection.id,
  connectionName: connection.name
})

/** The memory store, with hooks for adapters that persist its state (fs journal replay). */
export interface MemorySdkConnectionStore extends SdkConnectionStoreShape {
  readonly connectionList: () => ReadonlyArray<SdkConnection>
  readonly eventList: () => ReadonlyArray<SdkConnectionEvent>
  /** Stores or replaces a connection as given (replay). */
  readonly put: (connection: SdkConnection) => void
  /** Drops a connection by id (replay). */
  readonly drop: (id: string) => void
  readonly putEvent: (event: SdkConnectionEvent) => void
}

export const makeMemory = Effect.sync((): MemorySdkConnectionStore => {
  const byId = new Map<string, SdkConnection>()
  let events: Array<SdkConnectionEvent> = []
  const putEvent = (event: SdkConnectionEvent) => {
    events.push(event)
    if (events.length > MAX_SDK_CONNECTION_EVENTS * 1.1) events = events.slice(-MAX_SDK_CONNECTION_EVENTS)
  }
  const eventList = () => events.slice(-MAX_SDK_CONNECTION_EVENTS)
  const connectionList = () => [...byId.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt))
  return {
    create: (connection) =>
      Effect.sync(() => {
        byId.set(connection.id, connection)
        putEvent(createdEvent(connection))
      }),
    list: () => Effect.sync(connectionList),
    findByClientKey: (clientKey) => Effect.sync(() => [...byId.values()].find((c) => c.clientKey === clientKey)),
    remove: (id, actor, at) =>
      Effect.sync(() => {
        const connection = byId.get(id)
        if (connection === undefined) return undefined
        byId.delete(id)
        putEvent({ at, action: "deleted", actor, connectionId: id, connectionName: connection.name })
        return connection
      }),
    events: () => Effect.sync(eventList),
    connectionList,
    eventList,
    put: (connection) => void byId.set(connection.id, connection),
    drop: (id) => void byId.delete(id),
    putEvent
  }
})

export const layerMemory: Layer.Layer<SdkConnectionStore> = Layer.effect(SdkConnectionStore, makeMemory)
