/**
 * Model metadata and audit trail on disk as a journal (`<dir>/registry.jsonl`, see Journal.ts):
 * one fsynced line per committed change holds the models it writes and the audit events it
 * appends, so a promotion, the demotion it causes and their audit events are durable together
 * or not at all. One server process owns a data directory at a time; several instances share
 * state through the Redis adapter instead.
 */
import { AuditEvent, Model, ModelStore, StorageError, storedRecord } from "@org/ml-core"
import { Effect, Layer, Schema } from "effect"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { makeJournal, replaySync } from "./Journal.js"

export interface FsModelStoreOptions {
  readonly directory: string
}

/** One line of registry.jsonl: a registration, or a committed change (models written, events appended). */
export const JournalEntry = Schema.Union([
  Schema.Struct({ op: Schema.Literal("insert"), model: Model, event: AuditEvent }),
  Schema.Struct({ op: Schema.Literal("commit"), put: Schema.Array(Model), events: Schema.Array(AuditEvent) })
])
export type JournalEntry = typeof JournalEntry.Type

const journalEntries = storedRecord(JournalEntry)

export const make = (options: FsModelStoreOptions) =>
  Effect.gen(function*() {
    const directory = path.resolve(options.directory)
    const journal = yield* makeJournal<ModelStore.ModelStoreShape, JournalEntry>({
      directory,
      name: "registry",
      fresh: () => Effect.runSync(ModelStore.makeMemory),
      entry: journalEntries,
      replay: (state, entry) =>
        replaySync(
          entry.op === "insert"
            ? state.insert(entry.model, entry.event)
            : state.commit({ expected: [], put: entry.put, events: entry.events }),
          "registry.jsonl"
        )
    })
    const read = <A, E>(f: (s: ModelStore.ModelStoreShape) => Effect.Effect<A, E>) =>
      Effect.suspend(() => f(journal.state()))
    return ModelStore.ModelStore.of({
      insert: (model, event) => journal.mutate((s) => s.insert(model, event), () => ({ op: "insert", model, event })),
      commit: (change) =>
        journal.mutate((s) => s.commit(change), () => ({ op: "commit", put: change.put, events: change.events })),
      get: (id) => read((s) => s.get(id)),
      findByNameVersion: (name, version) => read((s) => s.findByNameVersion(name, version)),
      productionOf: (name) => read((s) => s.productionOf(name)),
      list: (query) => read((s) => s.list(query)),
      countByStatus: () => read((s) => s.countByStatus()),
      historyOf: (id) => read((s) => s.historyOf(id)),
      historyOfName: (name) => read((s) => s.historyOfName(name)),
      ping: () =>
        Effect.tryPromise({
          try: () => fs.access(directory, fs.constants.W_OK),
          catch: (cause) => new StorageError({ message: `Data directory ${directory} is not writable`, cause })
        })
    })
  })

export const layer = (options: FsModelStoreOptions): Layer.Layer<ModelStore.ModelStore, StorageError> =>
  Layer.effect(ModelStore.ModelStore, make(options))
