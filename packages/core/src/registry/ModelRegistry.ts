/**
 * Use case: the model registry. Every business rule of registration, upload, lifecycle,
 * metadata changes and audit lives here, once, written against the ports; swapping storage
 * adapters never changes behaviour. Writes that race are compare-and-set commits retried on
 * fresh state, which is how "exactly one production version per name" holds across instances.
 */
import { Clock, Context, Effect, Layer } from "effect"
import { StaleRevisionError, StorageError } from "../shared/Errors.js"
import { metricNames, MetricsSink } from "../shared/MetricsSink.js"
import * as MetricsSinkMemory from "../shared/MetricsSink.js"
import { makeUlid } from "../shared/Ulid.js"
import { ArtifactStore, type ArtifactStoreShape } from "./ArtifactStore.js"
import * as ArtifactStoreMemory from "./ArtifactStore.js"
import { type AuditEvent, productionAt } from "./AuditEvent.js"
import {
  ArtifactStateError,
  type ArtifactTooLargeError,
  type IntegrityError,
  InvalidTransitionError,
  type ModelConflictError,
  ModelNotFoundError
} from "./Errors.js"
import { canTransition, type DemotionTarget } from "./Lifecycle.js"
import type { ListModelsQuery, Model, ModelPage, ModelStatus, RegisterModelInput, UpdateModelInput } from "./Model.js"
import { type ModelCommit, ModelStore } from "./ModelStore.js"
import * as ModelStoreMemory from "./ModelStore.js"

export interface RegistrySettings {
  /** Where the previous production version goes when a new one is promoted (default archived). */
  readonly demoteProductionTo: DemotionTarget
  /** Largest artifact accepted, in bytes. */
  readonly maxArtifactBytes: number
}

export const defaultRegistrySettings: RegistrySettings = {
  demoteProductionTo: "archived",
  maxArtifactBytes: 10 * 1024 ** 3
}

export interface PromoteOptions {
  readonly reason?: string | undefined
  readonly actor?: string | undefined
}

export interface UploadOptions {
  readonly expectedSha256?: string | undefined
  readonly actor?: string | undefined
}

export interface ModelRegistryShape {
  readonly registerModel: (
    input: RegisterModelInput,
    artifact?: ReadableStream<Uint8Array>,
    options?: UploadOptions
  ) => Effect.Effect<
    Model,
    ModelConflictError | ModelNotFoundError | ArtifactStateError | ArtifactTooLargeError | IntegrityError | StorageError
  >
  readonly uploadArtifact: (
    id: string,
    body: ReadableStream<Uint8Array>,
    options?: UploadOptions
  ) => Effect.Effect<
    Model,
    ModelNotFoundError | ArtifactStateError | ArtifactTooLargeError | IntegrityError | StorageError
  >
  readonly promoteModel: (
    id: string,
    status: ModelStatus,
    options?: PromoteOptions
  ) => Effect.Effect<Model, ModelNotFoundError | InvalidTransitionError | ArtifactStateError | StorageError>
  readonly updateModel: (id: string, patch: UpdateModelInput) => Effect.Effect<Model, ModelNotFoundError | StorageError>
  readonly getModel: (id: string) => Effect.Effect<Model, ModelNotFoundError | StorageError>
  readonly listModels: (query: ListModelsQuery) => Effect.Effect<ModelPage, StorageError>
  readonly getHistory: (id: string) => Effect.Effect<ReadonlyArray<AuditEvent>, ModelNotFoundError | StorageError>
  /** The version of `name` in production at `at` (default now), or undefined. */
  readonly getProduction: (name: string, at?: string) => Effect.Effect<Model | undefined, StorageError>
  readonly readArtifact: (id: string) => Effect.Effect<
    { readonly model: Model; readonly stream: ReadableStream<Uint8Array> },
    ModelNotFoundError | ArtifactStateError | IntegrityError | StorageError
  >
  /** Rebuilds the storage-derived gauges (models per status, artifact sizes) in the metrics sink. */
  readonly refreshGauges: () => Effect.Effect<void, StorageError>
  readonly ping: () => Effect.Effect<void, StorageError>
}

export class ModelRegistry extends Context.Service<ModelRegistry, ModelRegistryShape>()("@org/ml-core/ModelRegistry") {}

const systemActor = "system"
const maxCommitAttempts = 100

const nowIso = Clock.currentTimeMillis.pipe(Effect.map((ms) => new Date(ms).toISOString()))

/** Retries a read-decide-commit step while another writer wins the race, with a little jitter. */
const retryStale = <A, E, R>(
  attempt: Effect.Effect<A, E | StaleRevisionError, R>
): Effect.Effect<A, E | StorageError, R> => {
  const loop = (n: number): Effect.Effect<A, E | StorageError, R> =>
    attempt.pipe(
      Effect.catchIf((error): error is StaleRevisionError => error instanceof StaleRevisionError, (error) =>
        n >= maxCommitAttempts
          ? Effect.fail(new StorageError({ message: `Gave up after ${n} conflicting writes: ${error.message}` }))
          : Effect.sleep(Math.floor(Math.random() * Math.min(50, 2 ** n))).pipe(Effect.andThen(loop(n + 1))))
    ) as Effect.Effect<A, E | StorageError, R>
  return loop(1)
}

const eventFor = (
  model: Model,
  at: string,
  action: AuditEvent["action"],
  fields: {
    actor?: string | undefined
    from?: ModelStatus | null
    to?: ModelStatus | null
    reason?: string | undefined
    changes?: AuditEvent["changes"]
  }
): AuditEvent => ({
  at,
  modelId: model.id,
  name: model.name,
  version: model.version,
  action,
  actor: fields.actor ?? systemActor,
  from: fields.from ?? null,
  to: fields.to ?? null,
  reason: fields.reason ?? null,
  ...(fields.changes ? { changes: fields.changes } : {})
})

export const make = (settings: RegistrySettings = defaultRegistrySettings) =>
  Effect.gen(function*() {
    const store = yield* ModelStore
    const artifacts = yield* ArtifactStore
    const metrics = yield* MetricsSink

    const getModel = (id: string) =>
      store.get(id).pipe(
        Effect.flatMap((model) =>
          model === undefined
            ? Effect.fail(new ModelNotFoundError({ modelId: id, message: `Model ${id} does not exist` }))
            : Effect.succeed(model)
        )
      )

    const uploadArtifact = (id: string, body: ReadableStream<Uint8Array>, options: UploadOptions = {}) =>
      Effect.gen(function*() {
        const before = yield* getModel(id)
        const refusal = artifactRefusal(before)
        if (refusal) {
          yield* Effect.promise(() => body.cancel().catch(() => undefined))
          return yield* Effect.fail(refusal)
        }
        const stored = yield* artifacts.write(id, body, {
          maxBytes: settings.maxArtifactBytes,
          expectedSha256: options.expectedSha256
        })
        const saved = yield* retryStale(Effect.gen(function*() {
          const current = yield* getModel(id)
          const refusal = artifactRefusal(current)
          if (refusal) return yield* Effect.fail(refusal)
          const at = yield* nowIso
          const updated: Model = {
            ...current,
            artifact: { ...stored, uploadedAt: at },
            updatedAt: at,
            revision: current.revision + 1
          }
          yield* store.commit({
            expected: [{ id, revision: current.revision }],
            put: [updated],
            events: [eventFor(updated, at, "artifact_uploaded", {
              actor: options.actor,
              changes: { sha256: { from: null, to: stored.sha256 }, sizeBytes: { from: null, to: stored.sizeBytes } }
            })]
          })
          return updated
        })).pipe(
          // A racing upload won: drop our copy unless it is byte-identical to the winner's.
          Effect.tapError(() =>
            getModel(id).pipe(
              Effect.flatMap((
                m
              ) => (m.artifact?.sha256 === stored.sha256 ? Effect.void : artifacts.remove(id, stored.sha256))),
              Effect.ignore
            )
          )
        )
        yield* metrics.set(metricNames.modelFileSizeBytes, { model_id: id }, stored.sizeBytes)
        return saved
      })

    /** Artifacts are set once, on a draft: identity never changes after that. */
    const artifactRefusal = (model: Model): ArtifactStateError | undefined =>
      model.artifact !== null
        ? new ArtifactStateError({
          modelId: model.id,
          message: `Model ${model.id} already has an artifact; artifacts are immutable, register a new version instead`
        })
        : model.status !== "draft"
        ? new ArtifactStateError({
          modelId: model.id,
          message: `Model ${model.id} is ${model.status}; only draft models accept an artifact`
        })
        : undefined

    const registerModel: ModelRegistryShape["registerModel"] = (input, artifact, options) =>
      Effect.gen(function*() {
        if (input.parentModelId) yield* getModel(input.parentModelId)
        const at = yield* nowIso
        const millis = Date.parse(at)
        const training = { ...input.training }
        if (training.durationSeconds === undefined && training.startedAt && training.finishedAt) {
          training.durationSeconds = Math.max(
            0,
            (Date.parse(training.finishedAt) - Date.parse(training.startedAt)) / 1000
          )
        }
        const model: Model = {
          id: makeUlid(millis),
          name: input.name,
          version: input.version,
          algorithm: input.algorithm,
          framework: input.framework,
          description: input.description ?? "",
          status: "draft",
          metrics: input.metrics ?? {},
          parameters: input.parameters ?? {},
          training,
          tags: [...new Set(input.tags ?? [])],
          artifact: null,
          createdAt: at,
          updatedAt: at,
          createdBy: input.createdBy ?? options?.actor ?? "anonymous",
          parentModelId: input.parentModelId ?? null,
          revision: 1
        }
        yield* store.insert(model, eventFor(model, at, "registered", { actor: model.createdBy, to: "draft" }))
        return artifact === undefined
          ? model
          : yield* uploadArtifact(model.id, artifact, { ...options, actor: model.createdBy })
      })

    const promoteModel: ModelRegistryShape["promoteModel"] = (id, to, options = {}) =>
      retryStale(Effect.gen(function*() {
        const model = yield* getModel(id)
        const from = model.status
        if (!canTransition(from, to)) {
          return yield* Effect.fail(
            new InvalidTransitionError({
              modelId: id,
              from,
              to,
              message: from === to ? `Model ${id} is already ${to}` : `Model ${id} cannot move from ${from} to ${to}`
            })
          )
        }
        if (from === "draft" && to !== "archived" && model.artifact === null) {
          return yield* Effect.fail(
            new ArtifactStateError({
              modelId: id,
              message: `Model ${id} has no artifact; upload one before it leaves draft`
            })
          )
        }
        const at = yield* nowIso
        const actor = options.actor
        const reason = options.reason
        const promoted: Model = { ...model, status: to, updatedAt: at, revision: model.revision + 1 }
        const change: { -readonly [K in keyof ModelCommit]: ModelCommit[K] } = {
          expected: [{ id, revision: model.revision }],
          put: [promoted],
          events: [eventFor(promoted, at, to === "archived" ? "archived" : "promoted", { actor, from, to, reason })]
        }
        const transitions: Array<[ModelStatus, ModelStatus]> = [[from, to]]
        if (to === "production") {
          const previous = yield* store.productionOf(model.name)
          change.production = { name: model.name, expectedId: previous?.id ?? null }
          if (previous !== undefined && previous.id !== id) {
            const target = settings.demoteProductionTo
            const demoted: Model = { ...previous, status: target, updatedAt: at, revision: previous.revision + 1 }
            change.expected = [...change.expected, { id: previous.id, revision: previous.revision }]
            change.put = [...change.put, demoted]
            change.events = [
              ...change.events,
              eventFor(demoted, at, "demoted", {
                actor,
                from: "production",
                to: target,
                reason: `replaced in production by ${model.name}@${model.version} (${id})`
              })
            ]
            transitions.push(["production", target])
          }
        } else if (from === "production") {
          change.production = { name: model.name, expectedId: id }
        }
        yield* store.commit(change)
        for (const [f, t] of transitions) {
          yield* metrics.increment(metricNames.modelPromotionTotal, { from_status: f, to_status: t })
        }
        return promoted
      }))

    const updateModel: ModelRegistryShape["updateModel"] = (id, patch) =>
      retryStale(Effect.gen(function*() {
        const model = yield* getModel(id)
        const changes: Record<string, { from: unknown; to: unknown }> = {}
        const next: { -readonly [K in keyof Model]: Model[K] } = { ...model }
        if (patch.description !== undefined && patch.description !== model.description) {
          changes.description = { from: model.description, to: patch.description }
          next.description = patch.description
        }
        if (patch.tags !== undefined) {
          const tags = [...new Set(patch.tags)]
          if (tags.join("\u0000") !== model.tags.join("\u0000")) {
            changes.tags = { from: model.tags, to: tags }
            next.tags = tags
          }
        }
        if (patch.metrics !== undefined) {
          const metricsNext = { ...model.metrics, ...patch.metrics }
          if (JSON.stringify(metricsNext) !== JSON.stringify(model.metrics)) {
            changes.metrics = { from: model.metrics, to: metricsNext }
            next.metrics = metricsNext
          }
        }
        if (Object.keys(changes).length === 0) return model
        const at = yield* nowIso
        next.updatedAt = at
        next.revision = model.revision + 1
        yield* store.commit({
          expected: [{ id, revision: model.revision }],
          put: [next],
          events: [eventFor(next, at, "updated", { actor: patch.actor, changes })]
        })
        return next as Model
      }))

    const listModels: ModelRegistryShape["listModels"] = (query) =>
      Effect.gen(function*() {
        const limit = query.limit ?? 50
        const items = yield* store.list({ ...query, limit: limit + 1 })
        const page = items.slice(0, limit)
        return { items: page, nextCursor: items.length > limit ? page[page.length - 1]!.id : null }
      })

    const getProduction: ModelRegistryShape["getProduction"] = (name, at) =>
      Effect.gen(function*() {
        if (at === undefined) return yield* store.productionOf(name)
        const id = productionAt(yield* store.historyOfName(name), at)
        return id === null ? undefined : yield* store.get(id)
      })

    const readArtifact: ModelRegistryShape["readArtifact"] = (id) =>
      Effect.gen(function*() {
        const model = yield* getModel(id)
        if (model.artifact === null) {
          return yield* Effect.fail(new ArtifactStateError({ modelId: id, message: `Model ${id} has no artifact` }))
        }
        const stream = yield* openVerified(artifacts, model)
        return { model, stream }
      })

    const refreshGauges = () =>
      Effect.gen(function*() {
        const counts = yield* store.countByStatus()
        const sizes: Array<[string, number]> = []
        let cursor: string | undefined
        do {
          const page = yield* store.list({ limit: 500, ...(cursor ? { cursor } : {}) })
          for (const m of page) if (m.artifact !== null) sizes.push([m.id, m.artifact.sizeBytes])
          cursor = page.length === 500 ? page[page.length - 1]!.id : undefined
        } while (cursor)
        // Storage is read first; the gauges are then reset and refilled without I/O in between,
        // so a scrape rarely, if ever, sees a half-built gauge.
        for (const [status, count] of Object.entries(counts)) {
          yield* metrics.set(metricNames.modelsTotal, { status }, count)
        }
        yield* metrics.reset(metricNames.modelFileSizeBytes)
        for (const [modelId, size] of sizes) {
          yield* metrics.set(metricNames.modelFileSizeBytes, { model_id: modelId }, size)
        }
      })

    return ModelRegistry.of({
      registerModel,
      uploadArtifact,
      promoteModel,
      updateModel,
      getModel,
      listModels,
      getHistory: (id) => getModel(id).pipe(Effect.andThen(store.historyOf(id))),
      getProduction,
      readArtifact,
      refreshGauges,
      ping: () => Effect.all([store.ping(), artifacts.ping()], { discard: true })
    })
  })

const openVerified = (artifacts: ArtifactStoreShape, model: Model) =>
  artifacts.open(model.id, model.artifact!).pipe(
    Effect.tapError((error) =>
      error._tag === "IntegrityError"
        ? Effect.logError(
          `Integrity failure serving artifact of model ${model.id} (${model.name}@${model.version}): ${error.message}`
        )
        : Effect.void
    )
  )

export const layer = (
  settings: RegistrySettings = defaultRegistrySettings
): Layer.Layer<ModelRegistry, never, ModelStore | ArtifactStore | MetricsSink> =>
  Layer.effect(ModelRegistry, make(settings))

/** The whole registry in memory: tests, examples and edge runtimes. */
export const layerMemory = (settings: RegistrySettings = defaultRegistrySettings) =>
  layer(settings).pipe(
    Layer.provideMerge(
      Layer.mergeAll(ModelStoreMemory.layerMemory, ArtifactStoreMemory.layerMemory, MetricsSinkMemory.layerMemory)
    )
  )
