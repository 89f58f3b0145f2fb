/**
 * SDK connections on disk, in one journal (`<dir>/sdk-connections.jsonl`, see Journal.ts): a
 * creation is one line with the connection and its audit event, a deletion one line with the id
 * and its event. One process owns the directory, so its memory is the truth between writes.
 */
import { SdkConnections, type StorageError, storedRecord } from "@org/ml-core"
import { Effect, Layer, Schema } from "effect"
import * as path from "node:path"
import { makeJournal } from "./Journal.js"

const JournalEntry = Schema.Union([
  Schema.Struct({
    op: Schema.Literal("put"),
    connection: SdkConnections.SdkConnection,
    event: Schema.optionalKey(SdkConnections.SdkConnectionEvent)
  }),
  Schema.Struct({ op: Schema.Literal("delete"), id: Schema.String, event: SdkConnections.SdkConnectionEvent }),
  Schema.Struct({ op: Schema.Literal("event"), event: SdkConnections.SdkConnectionEvent })
])
type JournalEntry = typeof JournalEntry.Type

const replay = (memory: SdkConnections.MemorySdkConnectionStore, entry: JournalEntry) => {
  if (entry.op === "put") memory.put(entry.connection)
  if (entry.op === "delete") memory.drop(entry.id)
  if (entry.event !== undefined) memory.putEvent(entry.event)
}

export const make = (options: { readonly directory: string }) =>
  Effect.gen(function*() {
    const journal = yield* makeJournal<SdkConnections.MemorySdkConnectionStore, JournalEntry>({
      directory: path.resolve(options.directory),
      name: "sdk-connections",
      fresh: () => Effect.runSync(SdkConnections.makeMemory),
      entry: storedRecord(JournalEntry),
      snapshot: (memory): ReadonlyArray<JournalEntry> => [
        ...memory.connectionList().map((connection) => ({ op: "put" as const, connection })),
        ...memory.eventList().map((event) => ({ op: "event" as const, event }))
      ],
      replay
    })
    const read = <A, E>(f: (s: SdkConnections.SdkConnectionStoreShape) => Effect.Effect<A, E>) =>
      Effect.suspend(() => f(journal.state()))
    return SdkConnections.SdkConnectionStore.of({
      create: (connection) =>
        journal.mutate(
          (s) => s.create(connection),
          () => ({ op: "put", connection, event: SdkConnections.createdEvent(connection) })
        ),
      list: () => read((s) => s.list()),
      findByClientKey: (clientKey) => read((s) => s.findByClientKey(clientKey)),
      remove: (id, actor, at) =>
        journal.mutate((s) => s.remove(id, actor, at), (removed) =>
          removed === undefined ? undefined : {
            op: "delete",
            id,
            event: { at, action: "deleted", actor, connectionId: id, connectionName: removed.name }
          }),
      events: () => read((s) => s.events())
    })
  })

export const layer = (
  options: { readonly directory: string }
): Layer.Layer<SdkConnections.SdkConnectionStore, StorageError> =>
  Layer.effect(SdkConnections.SdkConnectionStore, make(options))
