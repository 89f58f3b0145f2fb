/**
 * Use case: the model registry. Every business rule of registration, upload, lifecycle,
 * metadata changes and audit lives here, once, written against the ports; swapping storage
 * adapters never changes behaviour. The decisions are pure (Lifecycle, ModelChanges); this module
 * reads state, applies them and commits. Writes that race are compare-and-set commits retried on
 * fresh state (retryOnStaleRevision), which is how "exactly one production version per name"
 * holds across instances.
 */
import { Clock, Context, Effect, Layer } from "effect"
import { type StorageError, ValidationError } from "../shared/Errors.js"
import { metricNames, MetricsSink, type MetricsSinkShape } from "../shared/MetricsSink.js"
import * as MetricsSinkMemory from "../shared/MetricsSink.js"
import { retryOnStaleRevision } from "../shared/Retry.js"
import { makeStorageGauges } from "../shared/StorageGauges.js"
import { makeUlidGenerator } from "../shared/Ulid.js"
import { ArtifactStore, type ArtifactStoreShape, type StoredArtifact } from "./ArtifactStore.js"
import * as ArtifactStoreMemory from "./ArtifactStore.js"
import { type Attribution, attribution, type AuditEvent, auditEvent, productionAt } from "./AuditEvent.js"
import {
  ArtifactStateError,
  type ArtifactTooLargeError,
  type IntegrityError,
  type InvalidTransitionError,
  type ModelConflictError,
  ModelNotFoundError
} from "./Errors.js"
import { artifactRefusal, type DemotionTarget, transitionRefusal } from "./Lifecycle.js"
import type { ListModelsQuery, Model, ModelPage, ModelStatus, RegisterModelInput, UpdateModelInput } from "./Model.js"
import { artifactCommit, metadataChanges, newModel, promotion, updateCommit } from "./ModelChanges.js"
import { ModelStore, type ModelStoreShape } from "./ModelStore.js"
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

export interface PromoteOptions extends Attribution {
  readonly reason?: string | undefined
}

export interface UploadOptions extends Attribution {
  readonly expectedSha256?: string | undefined
  /** Accept an empty (0-byte) artifact; without it an empty upload is a ValidationError. */
  readonly allowEmpty?: boolean | undefined
}

/** The 400 of an empty upload without allowEmpty: names the body, the rule and the way out. */
const emptyArtifactRefusal = () =>
  new ValidationError({
    message: "The artifact is empty (0 bytes); upload its bytes, or pass allowEmpty=true to store an empty artifact",
    issues: [{ path: ["body"], message: "must not be empty (0 bytes) unless allowEmpty=true" }]
  })

export interface ModelRegistryShape {
  readonly registerModel: (
    input: RegisterModelInput,
    artifact?: ReadableStream<Uint8Array>,
    options?: UploadOptions
  ) => Effect.Effect<
    Model,
    | ModelConflictError
    | ModelNotFoundError
    | ArtifactStateError
    | ArtifactTooLargeError
    | IntegrityError
    | ValidationError
    | StorageError
  >
  readonly uploadArtifact: (
    id: string,
    body: ReadableStream<Uint8Array>,
    options?: UploadOptions
  ) => Effect.Effect<
    Model,
    ModelNotFoundError | ArtifactStateError | ArtifactTooLargeError | IntegrityError | ValidationError | StorageError
  >
  readonly promoteModel: (
    id: string,
    status: ModelStatus,
    options?: PromoteOptions
  ) => Effect.Effect<Model, ModelNotFoundError | InvalidTransitionError | ArtifactStateError | StorageError>
  /** `by` is who changes it; without one, the patch's own actor and onBehalfOf (callers in the process). */
  readonly updateModel: (
    id: string,
    patch: UpdateModelInput,
    by?: Attribution
  ) => Effect.Effect<Model, ModelNotFoundError | ValidationError | StorageError>
  readonly getModel: (id: string) => Effect.Effect<Model, ModelNotFoundError | StorageError>
  readonly listModels: (query: ListModelsQuery) => Effect.Effect<ModelPage, StorageError>
  readonly getHistory: (id: string) => Effect.Effect<ReadonlyArray<AuditEvent>, ModelNotFoundError | StorageError>
  /** The version of `name` in production at `at` (default now), or undefined. */
  readonly getProduction: (name: string, at?: string) => Effect.Effect<Model | undefined, StorageError>
  readonly readArtifact: (id: string) => Effect.Effect<
    { readonly model: Model; readonly stream: ReadableStream<Uint8Array> },
    ModelNotFoundError | ArtifactStateError | IntegrityError | StorageError
  >
  /**
   * Sets the storage-derived gauges in the metrics sink: models per status from storage, artifact
   * sizes from a scan reused for `GaugeMaxAge` (StorageGauges.ts).
   */
  readonly refreshGauges: () => Effect.Effect<void, StorageError>
  readonly ping: () => Effect.Effect<void, StorageError>
}

export class ModelRegistry extends Context.Service<ModelRegistry, ModelRegistryShape>()("@org/ml-core/ModelRegistry") {}

const isoAt = (millis: number) => new Date(millis).toISOString()
const nowIso = Effect.map(Clock.currentTimeMillis, isoAt)

/** Page size of the full scan that rebuilds the artifact-size gauge. */
const gaugeScanPage = 500

/** What the registry's methods work with; each group of methods below is built from it. */
interface Ports {
  readonly store: ModelStoreShape
  readonly artifacts: ArtifactStoreShape
  readonly metrics: MetricsSinkShape
  readonly settings: RegistrySettings
  /**
   * The stored model, or ModelNotFoundError. Untraced: the methods using it have their own span,
   * and a span per call costs more than the in-memory read it would wrap.
   */
  readonly findModel: (id: string) => Effect.Effect<Model, ModelNotFoundError | StorageError>
}

const modelFinder = (store: ModelStoreShape) => (id: string) =>
  Effect.flatMap(
    store.get(id),
    (model) =>
      model === undefined
        ? Effect.fail(new ModelNotFoundError({ modelId: id, message: `Model ${id} does not exist` }))
        : Effect.succeed(model)
  )

/** Reads: a model (or ModelNotFoundError), pages, audit history, production now or at a time. */
const makeReads = ({ findModel, store }: Ports) => {
  const getModel = Effect.fn("ModelRegistry.getModel")(function*(id: string) {
    return yield* findModel(id)
  })

  const listModels = Effect.fn("ModelRegistry.listModels")(function*(query: ListModelsQuery) {
    const limit = query.limit ?? 50
    const items = yield* store.list({ ...query, limit: limit + 1 })
    const page = items.slice(0, limit)
    return { items: page, nextCursor: items.length > limit ? page[page.length - 1]!.id : null }
  })

  const getHistory = Effect.fn("ModelRegistry.getHistory")(function*(id: string) {
    yield* findModel(id)
    return yield* store.historyOf(id)
  })

  const getProduction = Effect.fn("ModelRegistry.getProduction")(function*(name: string, at?: string) {
    if (at === undefined) return yield* store.productionOf(name)
    const id = productionAt(yield* store.historyOfName(name), at)
    return id === null ? undefined : yield* store.get(id)
  })

  return { getModel, listModels, getHistory, getProduction }
}

/**
 * Artifacts: set once on a draft (racing uploads: one wins, the loser's copy is dropped), served
 * verified. A failed upload attaches nothing, and an empty one without allowEmpty never counts
 * (Lifecycle.usableArtifact), so the draft can always be retried.
 */
const makeArtifacts = ({ artifacts, findModel, metrics, settings, store }: Ports) => {
  const attachArtifact = Effect.fnUntraced(
    function*(id: string, stored: StoredArtifact, options: UploadOptions) {
      const current = yield* findModel(id)
      const refusal = artifactRefusal(current)
      if (refusal) return yield* Effect.fail(refusal)
      const commit = artifactCommit(current, stored, yield* nowIso, attribution(options), options.allowEmpty)
      yield* store.commit(commit)
      return { saved: commit.put[0], replaced: current.artifact }
    },
    (step) => retryOnStaleRevision(step)
  )

  /** Our copy is removed unless the winner of a race stored the very same bytes. */
  const dropUnlessWinner = (id: string, stored: StoredArtifact) =>
    findModel(id).pipe(
      Effect.flatMap((m) => m.artifact?.sha256 === stored.sha256 ? Effect.void : artifacts.remove(id, stored.sha256)),
      Effect.ignore
    )

  const uploadArtifact = Effect.fn("ModelRegistry.uploadArtifact")(
    function*(id: string, body: ReadableStream<Uint8Array>, options: UploadOptions = {}) {
      const refusal = artifactRefusal(yield* findModel(id))
      if (refusal) {
        yield* Effect.promise(() => body.cancel().catch(() => undefined))
        return yield* Effect.fail(refusal)
      }
      const stored = yield* artifacts.write(id, body, {
        maxBytes: settings.maxArtifactBytes,
        expectedSha256: options.expectedSha256
      })
      if (stored.sizeBytes === 0 && options.allowEmpty !== true) {
        yield* dropUnlessWinner(id, stored)
        return yield* Effect.fail(emptyArtifactRefusal())
      }
      const { replaced, saved } = yield* attachArtifact(id, stored, options).pipe(
        Effect.tapError(() => dropUnlessWinner(id, stored))
      )
      // An empty artifact that did not count was replaced: its file is no longer referenced.
      if (replaced !== null && replaced.sha256 !== stored.sha256) {
        yield* artifacts.remove(id, replaced.sha256).pipe(Effect.ignore)
      }
      yield* metrics.set(metricNames.modelFileSizeBytes, { model_id: id }, stored.sizeBytes)
      return saved
    }
  )

  const readArtifact = Effect.fn("ModelRegistry.readArtifact")(function*(id: string) {
    const model = yield* findModel(id)
    if (model.artifact === null) {
      return yield* Effect.fail(new ArtifactStateError({ modelId: id, message: `Model ${id} has no artifact` }))
    }
    const stream = yield* openVerified(artifacts, model, model.artifact)
    return { model, stream }
  })

  return { uploadArtifact, readArtifact }
}

/** Changes of record: registration, promotion (and the demotion it causes), metadata updates. */
const makeChanges = (
  { findModel, metrics, settings, store }: Ports,
  uploadArtifact: ModelRegistryShape["uploadArtifact"],
  nextId: (timeMillis: number) => Effect.Effect<string>
) => {
  const registerModel = Effect.fn("ModelRegistry.registerModel")(
    function*(input: RegisterModelInput, artifact?: ReadableStream<Uint8Array>, options?: UploadOptions) {
      if (input.parentModelId) yield* findModel(input.parentModelId)
      // One reading of the clock: the id's time part and createdAt agree.
      const millis = yield* Clock.currentTimeMillis
      const at = isoAt(millis)
      const model = newModel(input, yield* nextId(millis), at, attribution(options ?? {}))
      const by = { actor: model.createdBy, onBehalfOf: model.onBehalfOf }
      yield* store.insert(model, auditEvent(model, at, "registered", { ...by, to: "draft" }))
      return artifact === undefined ? model : yield* uploadArtifact(model.id, artifact, { ...options, ...by })
    }
  )

  const promoteModel = Effect.fn("ModelRegistry.promoteModel")(
    function*(id: string, to: ModelStatus, options: PromoteOptions = {}) {
      const model = yield* findModel(id)
      const refusal = transitionRefusal(model, to)
      if (refusal) return yield* Effect.fail(refusal)
      const current = to === "production" ? yield* store.productionOf(model.name) : undefined
      const { commit, moves, promoted } = promotion(model, to, current, {
        at: yield* nowIso,
        ...attribution(options),
        reason: options.reason,
        demoteTo: settings.demoteProductionTo
      })
      yield* store.commit(commit)
      for (const [from, to] of moves) {
        yield* metrics.increment(metricNames.modelPromotionTotal, { from_status: from, to_status: to })
      }
      return promoted
    },
    (step) => retryOnStaleRevision(step)
  )

  const updateModel = Effect.fn("ModelRegistry.updateModel")(
    function*(id: string, patch: UpdateModelInput, by: Attribution = patch) {
      const model = yield* findModel(id)
      if (patch.signature !== undefined && model.status !== "draft") {
        // Monitors and pipelines copied the signature when they were created from this version.
        return yield* Effect.fail(
          new ValidationError({
            message: "Invalid model update",
            issues: [{
              path: ["signature"],
              message: `can change only while the version is a draft (it is ${model.status})`
            }]
          })
        )
      }
      const update = metadataChanges(model, patch)
      if (update === undefined) return model
      const commit = updateCommit(model, update, yield* nowIso, attribution(by))
      yield* store.commit(commit)
      return commit.put[0]
    },
    (step) => retryOnStaleRevision(step)
  )

  return { registerModel, promoteModel, updateModel }
}

/**
 * The storage-derived gauges. Models per status come from the store's counters on every scrape
 * (one cheap read, exact on every instance). Artifact sizes need a scan of every model, so that
 * scan is reused for `GaugeMaxAge`; this instance's own uploads set their size at once.
 */
const makeRefreshGauges = ({ metrics, store }: Ports) =>
  Effect.gen(function*() {
    const sizes = yield* makeStorageGauges(Effect.gen(function*() {
      const found: Array<readonly [{ readonly model_id: string }, number]> = []
      let cursor: string | undefined
      do {
        const page = yield* store.list({ limit: gaugeScanPage, ...(cursor ? { cursor } : {}) })
        for (const m of page) if (m.artifact !== null) found.push([{ model_id: m.id }, m.artifact.sizeBytes])
        cursor = page.length === gaugeScanPage ? page[page.length - 1]!.id : undefined
      } while (cursor)
      // Storage is read first, then the gauge replaced in one step: a scrape never sees it half-built.
      yield* metrics.replace(metricNames.modelFileSizeBytes, found)
    }))
    return Effect.fn("ModelRegistry.refreshGauges")(function*() {
      const counts = yield* store.countByStatus()
      for (const [status, count] of Object.entries(counts)) {
        yield* metrics.set(metricNames.modelsTotal, { status }, count)
      }
      yield* sizes.refresh
    })
  })

export const make = (settings: RegistrySettings = defaultRegistrySettings) =>
  Effect.gen(function*() {
    const store = yield* ModelStore
    const ports: Ports = {
      store,
      artifacts: yield* ArtifactStore,
      metrics: yield* MetricsSink,
      settings,
      findModel: modelFinder(store)
    }
    const reads = makeReads(ports)
    const { readArtifact, uploadArtifact } = makeArtifacts(ports)
    const changes = makeChanges(ports, uploadArtifact, yield* makeUlidGenerator)
    return ModelRegistry.of({
      ...reads,
      ...changes,
      uploadArtifact,
      readArtifact,
      refreshGauges: yield* makeRefreshGauges(ports),
      ping: Effect.fn("ModelRegistry.ping")(function*() {
        yield* Effect.all([ports.store.ping(), ports.artifacts.ping()], { discard: true })
      })
    })
  })

const openVerified = (artifacts: ArtifactStoreShape, model: Model, artifact: StoredArtifact) =>
  artifacts.open(model.id, artifact).pipe(
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
