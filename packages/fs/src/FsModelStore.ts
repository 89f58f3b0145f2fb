/**
 * Model metadata and audit trail on disk as a journal (`<dir>/registry.jsonl`, see Journal.ts):
 * one fsynced line per committed change holds the models it writes and the audit events it
 * appends, so a promotion, the demotion it causes and their audit events are durable together
 * or not at all. One server process owns a data directory at a time; several instances share
 * state through the Redis adapter instead. The events' outbox sequence is their order in the
 * journal (replay appends them in order; compaction writes them in that order), and an outbox
 * consumer's cursor is a line of its own.
 */
import { AuditEvent, Model, ModelStore, RegisteredModel, StorageError, storedRecord } from "@org/ml-core"
import { Effect, Layer, Schema } from "effect"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { makeJournal, replaySync } from "./Journal.js"

export interface FsModelStoreOptions {
  readonly directory: string
}

/**
 * One line of registry.jsonl: a registration, or a committed change (models written, events
 * appended, and the registered model with its alias pointers written when the change had one).
 */
export const JournalEntry = Schema.Union([
  Schema.Struct({ op: Schema.Literal("insert"), model: Model, event: AuditEvent }),
  Schema.Struct({
    op: Schema.Literal("commit"),
    put: Schema.Array(Model),
    events: Schema.Array(AuditEvent),
    registered: Schema.optionalKey(RegisteredModel)
  }),
  Schema.Struct({ op: Schema.Literal("cursor"), consumer: Schema.String, sequence: Schema.Int })
])
export type JournalEntry = typeof JournalEntry.Type

const journalEntries = storedRecord(JournalEntry)

type State = ModelStore.ModelStoreShape & ModelStore.EventCursors

/**
 * The registry as entries, for compaction: every event in outbox order; a model's first event
 * registers it (in its current form), the others are committed in runs, and each consumer's
 * cursor follows. Replaying them gives the same models, production pointers, audit trails (per
 * model and per name), event sequences and cursors.
 */
export const snapshotEntries = (state: State): ReadonlyArray<JournalEntry> => {
  const models = Effect.runSync(state.list({ limit: Number.MAX_SAFE_INTEGER }))
  const byId = new Map(models.map((m) => [m.id, m]))
  const entries: Array<JournalEntry> = []
  const registered = new Set<string>()
  let run: Array<AuditEvent> = []
  const endRun = () => {
    if (run.length > 0) entries.push({ op: "commit", put: [], events: run })
    run = []
  }
  for (let after = 0;;) {
    const page = Effect.runSync(state.eventsAfter(after, ModelStore.MAX_EVENTS_PER_READ))
    for (const { event } of page) {
      const model = byId.get(event.modelId)
      if (model !== undefined && !registered.has(model.id)) {
        endRun()
        registered.add(model.id)
        entries.push({ op: "insert", model, event })
      } else run.push(event)
    }
    if (page.length < ModelStore.MAX_EVENTS_PER_READ) break
    after = page[page.length - 1]!.sequence
  }
  endRun()
  // Registered models as they are now: replaying writes each record over whatever was before.
  for (const record of Effect.runSync(state.listRegistered({ limit: Number.MAX_SAFE_INTEGER }))) {
    entries.push({ op: "commit", put: [], events: [], registered: record })
  }
  for (const [consumer, sequence] of state.eventCursors()) entries.push({ op: "cursor", consumer, sequence })
  return entries
}

/** Replays a committed entry as it was committed: the checks already passed when it was written. */
const replayCommit = (state: State, entry: JournalEntry & { readonly op: "commit" }) =>
  Effect.flatMap(
    entry.registered === undefined ? Effect.succeed(undefined) : state.getRegistered(entry.registered.name),
    (current) =>
      state.commit({
        expected: [],
        put: entry.put,
        events: entry.events,
        ...(entry.registered === undefined
          ? {}
          : { registered: { expectedRevision: current?.revision ?? null, put: entry.registered } })
      })
  )

const replayEntry = (state: State, entry: JournalEntry) => {
  switch (entry.op) {
    case "insert":
      return state.insert(entry.model, entry.event)
    case "commit":
      return replayCommit(state, entry)
    case "cursor":
      return state.advanceEventCursor(entry.consumer, entry.sequence)
  }
}

export const make = (options: FsModelStoreOptions) =>
  Effect.gen(function*() {
    const directory = path.resolve(options.directory)
    const journal = yield* makeJournal<State, JournalEntry>({
      directory,
      name: "registry",
      fresh: () => Effect.runSync(ModelStore.makeMemory),
      entry: journalEntries,
      snapshot: snapshotEntries,
      replay: (state, entry) => replaySync(replayEntry(state, entry), "registry.jsonl")
    })
    const read = <A, E>(f: (s: ModelStore.ModelStoreShape) => Effect.Effect<A, E>) =>
      Effect.suspend(() => f(journal.state()))
    return ModelStore.ModelStore.of({
      insert: (model, event) => journal.mutate((s) => s.insert(model, event), () => ({ op: "insert", model, event })),
      commit: (change) =>
        journal.mutate((s) => s.commit(change), () => ({
          op: "commit",
          put: change.put,
          events: change.events,
          ...(change.registered ? { registered: change.registered.put } : {})
        })),
      get: (id) => read((s) => s.get(id)),
      findByNameVersion: (name, version) => read((s) => s.findByNameVersion(name, version)),
      productionOf: (name) => read((s) => s.productionOf(name)),
      getRegistered: (name) => read((s) => s.getRegistered(name)),
      listRegistered: (query) => read((s) => s.listRegistered(query)),
      list: (query) => read((s) => s.list(query)),
      search: (query) => read((s) => s.search(query)),
      countByStatus: () => read((s) => s.countByStatus()),
      historyOf: (id) => read((s) => s.historyOf(id)),
      historyOfName: (name) => read((s) => s.historyOfName(name)),
      eventsAfter: (sequence, limit) => read((s) => s.eventsAfter(sequence, limit)),
      eventCursor: (consumer) => read((s) => s.eventCursor(consumer)),
      advanceEventCursor: (consumer, sequence) =>
        // A cursor that does not move writes no line.
        journal.mutate(
          (s) =>
            Effect.flatMap(
              s.eventCursor(consumer),
              (before) => Effect.as(s.advanceEventCursor(consumer, sequence), sequence > before)
            ),
          (moved) => (moved ? { op: "cursor", consumer, sequence } : undefined)
        ).pipe(Effect.asVoid),
      ping: () =>
        Effect.suspend(() => {
          const broken = journal.broken()
          return broken !== undefined ? Effect.fail(broken) : Effect.tryPromise({
            try: () => fs.access(directory, fs.constants.W_OK),
            catch: (cause) =>
              new StorageError({ message: `Data directory ${directory} is not writable`, cause, directory })
          })
        })
    })
  })

export const layer = (options: FsModelStoreOptions): Layer.Layer<ModelStore.ModelStore, StorageError> =>
  Layer.effect(ModelStore.ModelStore, make(options))
