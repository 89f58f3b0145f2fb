/**
 * Port: where model metadata and its audit trail live. The shape is the smallest the registry
 * needs: an insert that guarantees (name, version) uniqueness, reads, and one compare-and-set
 * `commit` that writes models and their audit events together, so every adapter can make a
 * promotion (and the demotion it causes) a single atomic step.
 *
 * The audit trail is also the registry's outbox: every event gets a store-wide sequence number in
 * that same atomic step (strictly increasing in the order changes commit), so a consumer that
 * remembers the last sequence it handled (`eventCursor`, advanced with `advanceEventCursor`) reads
 * exactly the events recorded after it (`eventsAfter`): none lost, none invented across crashes.
 */
import { Context, Effect, Layer } from "effect"
import { StaleRevisionError, StorageError } from "../shared/Errors.js"
import type { AuditEvent } from "./AuditEvent.js"
import { ModelConflictError } from "./Errors.js"
import { type ListModelsQuery, matchesQuery, type Model, type ModelStatus, modelStatuses } from "./Model.js"
import { type ModelSearchQuery, searchModelsIn } from "./ModelSearchEvaluation.js"
import { matchesRegisteredQuery, type RegisteredModel } from "./RegisteredModel.js"

export interface ModelCommit {
  /** Each listed model must still be at this revision, or the commit fails with StaleRevisionError. */
  readonly expected: ReadonlyArray<{ readonly id: string; readonly revision: number }>
  /** When set, the production pointer of `name` must still be `expectedId` (null: none). */
  readonly production?: { readonly name: string; readonly expectedId: string | null }
  readonly put: ReadonlyArray<Model>
  readonly events: ReadonlyArray<AuditEvent>
  /**
   * When set, the registered model `put.name` must still be at `expectedRevision` (null: not stored
   * yet), and `put` replaces it. Its alias pointers live in it, so an alias move and its audit event
   * are one compare-and-set, like the production pointer.
   */
  readonly registered?: { readonly expectedRevision: number | null; readonly put: RegisteredModel }
}

/** A page of registered models: names after `cursor`, starting with `namePrefix`, ascending. */
export interface RegisteredModelsQuery {
  readonly cursor?: string | undefined
  readonly namePrefix?: string | undefined
  readonly limit: number
}

/** An audit event with its place in the store-wide order of events. */
export interface RecordedEvent {
  /** Strictly increasing in commit order, from 1; never reused by the same store. */
  readonly sequence: number
  readonly event: AuditEvent
}

/** The most events one `eventsAfter` call returns: a bound on what one read may load. */
export const MAX_EVENTS_PER_READ = 1000

export interface ModelStoreShape {
  /** Stores a new model unless its (name, version) is taken; the winner of a race is kept. */
  readonly insert: (model: Model, event: AuditEvent) => Effect.Effect<void, ModelConflictError | StorageError>
  readonly get: (id: string) => Effect.Effect<Model | undefined, StorageError>
  readonly findByNameVersion: (name: string, version: string) => Effect.Effect<Model | undefined, StorageError>
  /** The model whose status is production for `name`, if any. */
  readonly productionOf: (name: string) => Effect.Effect<Model | undefined, StorageError>
  /** Models matching the filters with id > `cursor`, ascending by id (creation time), at most `limit`. */
  readonly list: (
    query: ListModelsQuery & { readonly limit: number }
  ) => Effect.Effect<ReadonlyArray<Model>, StorageError>
  /**
   * The models matching a parsed search (ModelSearch.ts), in its order (then by id), after its
   * cursor, at most `limit`; every adapter gives the answer `searchModelsIn` gives.
   */
  readonly search: (query: ModelSearchQuery) => Effect.Effect<ReadonlyArray<Model>, StorageError>
  readonly getRegistered: (name: string) => Effect.Effect<RegisteredModel | undefined, StorageError>
  /** Registered models matching the query, ascending by name (bytewise), at most `limit`. */
  readonly listRegistered: (query: RegisteredModelsQuery) => Effect.Effect<ReadonlyArray<RegisteredModel>, StorageError>
  /** Atomically checks revisions, the production pointer and the registered model, writes them, appends events. */
  readonly commit: (change: ModelCommit) => Effect.Effect<void, StaleRevisionError | StorageError>
  readonly countByStatus: () => Effect.Effect<Readonly<Record<ModelStatus, number>>, StorageError>
  /** Audit events of one model, in append order. */
  readonly historyOf: (id: string) => Effect.Effect<ReadonlyArray<AuditEvent>, StorageError>
  /** Audit events of every version of one name, in append order. */
  readonly historyOfName: (name: string) => Effect.Effect<ReadonlyArray<AuditEvent>, StorageError>
  /**
   * Events recorded after `sequence` (0: from the first), in sequence order, at most `limit`
   * (capped at MAX_EVENTS_PER_READ).
   */
  readonly eventsAfter: (sequence: number, limit: number) => Effect.Effect<ReadonlyArray<RecordedEvent>, StorageError>
  /** The last sequence `consumer` recorded as handled (0: none yet). */
  readonly eventCursor: (consumer: string) => Effect.Effect<number, StorageError>
  /** Records `sequence` as handled by `consumer`; a cursor never moves back (a lower sequence is ignored). */
  readonly advanceEventCursor: (consumer: string, sequence: number) => Effect.Effect<void, StorageError>
  /** Succeeds when the storage answers; used by readiness checks. */
  readonly ping: () => Effect.Effect<void, StorageError>
}

export class ModelStore extends Context.Service<ModelStore, ModelStoreShape>()("@org/ml-core/ModelStore") {}

export const emptyStatusCounts = (): Record<ModelStatus, number> =>
  Object.fromEntries(modelStatuses.map((s) => [s, 0])) as Record<ModelStatus, number>

/** The production pointer after writing `put`: shared by every adapter so they agree on it. */
export const productionPointerChanges = (
  put: ReadonlyArray<Model>,
  current: (name: string) => string | undefined
): ReadonlyArray<{ readonly name: string; readonly id: string | null }> => {
  const changes: Array<{ name: string; id: string | null }> = []
  for (const model of put) {
    if (model.status === "production") changes.push({ name: model.name, id: model.id })
    else if (current(model.name) === model.id && !put.some((m) => m.name === model.name && m.status === "production")) {
      changes.push({ name: model.name, id: null })
    }
  }
  return changes
}

/** The number of events one read returns for a requested `limit`: at least 1, at most MAX_EVENTS_PER_READ. */
export const eventReadLimit = (limit: number): number =>
  Math.min(MAX_EVENTS_PER_READ, Math.max(1, Number.isFinite(limit) ? Math.floor(limit) : MAX_EVENTS_PER_READ))

/** Every consumer's cursor, for adapters that snapshot the memory store (the fs journal's compaction). */
export interface EventCursors {
  readonly eventCursors: () => ReadonlyMap<string, number>
}

/** In-process storage: for tests, edge runtimes and as the reference behaviour of the contract. */
export const makeMemory = Effect.sync((): ModelStoreShape & EventCursors => {
  const models = new Map<string, Model>()
  const byNameVersion = new Map<string, string>()
  const production = new Map<string, string>()
  const modelEvents = new Map<string, Array<AuditEvent>>()
  const nameEvents = new Map<string, Array<AuditEvent>>()
  // Sequence n is outbox[n - 1]: events are only appended, so the index is the order.
  const outbox: Array<AuditEvent> = []
  const cursors = new Map<string, number>()
  const registered = new Map<string, RegisteredModel>()
  const append = (event: AuditEvent) => {
    outbox.push(event)
    const forModel = modelEvents.get(event.modelId) ?? []
    forModel.push(event)
    modelEvents.set(event.modelId, forModel)
    const forName = nameEvents.get(event.name) ?? []
    forName.push(event)
    nameEvents.set(event.name, forName)
  }
  const key = (name: string, version: string) => `${name}\u0000${version}`
  return {
    insert: (model, event) =>
      Effect.suspend(() => {
        const existing = byNameVersion.get(key(model.name, model.version))
        if (existing !== undefined) {
          return Effect.fail(
            new ModelConflictError({
              name: model.name,
              version: model.version,
              existingId: existing,
              message: `Model ${model.name} version ${model.version} is already registered`
            })
          )
        }
        byNameVersion.set(key(model.name, model.version), model.id)
        models.set(model.id, model)
        if (model.status === "production") production.set(model.name, model.id)
        append(event)
        return Effect.void
      }),
    get: (id) => Effect.sync(() => models.get(id)),
    findByNameVersion: (name, version) =>
      Effect.sync(() => {
        const id = byNameVersion.get(key(name, version))
        return id === undefined ? undefined : models.get(id)
      }),
    productionOf: (name) =>
      Effect.sync(() => {
        const id = production.get(name)
        return id === undefined ? undefined : models.get(id)
      }),
    list: (query) =>
      Effect.sync(() =>
        [...models.values()]
          .filter((m) => (query.cursor === undefined || m.id > query.cursor) && matchesQuery(m, query))
          .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
          .slice(0, query.limit)
      ),
    search: (query) => Effect.sync(() => searchModelsIn(models.values(), query)),
    commit: (change) =>
      Effect.suspend(() => {
        for (const { id, revision } of change.expected) {
          if (models.get(id)?.revision !== revision) {
            return Effect.fail(new StaleRevisionError({ message: `Model ${id} changed since it was read` }))
          }
        }
        if (change.production && (production.get(change.production.name) ?? null) !== change.production.expectedId) {
          return Effect.fail(
            new StaleRevisionError({ message: `Production version of ${change.production.name} changed` })
          )
        }
        if (change.registered) {
          const { expectedRevision, put } = change.registered
          if ((registered.get(put.name)?.revision ?? null) !== expectedRevision) {
            return Effect.fail(new StaleRevisionError({ message: `Registered model ${put.name} changed` }))
          }
          registered.set(put.name, put)
        }
        for (const { name, id } of productionPointerChanges(change.put, (n) => production.get(n))) {
          if (id === null) production.delete(name)
          else production.set(name, id)
        }
        for (const model of change.put) models.set(model.id, model)
        change.events.forEach(append)
        return Effect.void
      }),
    getRegistered: (name) => Effect.sync(() => registered.get(name)),
    listRegistered: (query) =>
      Effect.sync(() =>
        [...registered.values()]
          .filter((r) => matchesRegisteredQuery(r, query))
          .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
          .slice(0, query.limit)
      ),
    countByStatus: () =>
      Effect.sync(() => {
        const counts = emptyStatusCounts()
        for (const m of models.values()) counts[m.status]++
        return counts
      }),
    historyOf: (id) => Effect.sync(() => [...(modelEvents.get(id) ?? [])]),
    historyOfName: (name) => Effect.sync(() => [...(nameEvents.get(name) ?? [])]),
    eventsAfter: (sequence, limit) =>
      Effect.sync(() => {
        const from = Math.max(0, Math.floor(sequence))
        return outbox.slice(from, from + eventReadLimit(limit)).map((event, i) => ({ sequence: from + i + 1, event }))
      }),
    eventCursor: (consumer) => Effect.sync(() => cursors.get(consumer) ?? 0),
    advanceEventCursor: (consumer, sequence) =>
      Effect.sync(() => {
        if (sequence > (cursors.get(consumer) ?? 0)) cursors.set(consumer, sequence)
      }),
    ping: () => Effect.void,
    eventCursors: () => new Map(cursors)
  }
})

export const layerMemory: Layer.Layer<ModelStore> = Layer.effect(ModelStore, makeMemory)

/** Wraps a thrown driver or I/O failure as a StorageError with a message naming the operation. */
export const storageFailure = (operation: string) => (cause: unknown) =>
  new StorageError({
    message: `Storage failed during ${operation}: ${cause instanceof Error ? cause.message : String(cause)}`,
    cause
  })
