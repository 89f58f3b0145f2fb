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
import { aliasAt, type Attribution, attribution, type AuditEvent, auditEvent, productionAt } from "./AuditEvent.js"
import {
  AliasNotFoundError,
  ArtifactStateError,
  type ArtifactTooLargeError,
  type IntegrityError,
  type InvalidTransitionError,
  type ModelConflictError,
  ModelNotFoundError,
  ProtectedAliasError,
  RegisteredModelConflictError,
  RegisteredModelNotFoundError,
  ReservedAliasError
} from "./Errors.js"
import { artifactRefusal, type DemotionTarget, transitionRefusal } from "./Lifecycle.js"
import type {
  ListModelsQuery,
  Model,
  ModelPage,
  ModelStatus,
  RegisterModelInput,
  SearchModelsQuery,
  SearchPage,
  UpdateModelInput
} from "./Model.js"
import {
  artifactCommit,
  keyValueTagsRefusal,
  metadataChanges,
  newModel,
  promotion,
  tagCommit,
  updateCommit
} from "./ModelChanges.js"
import { parseFilter, parseOrderBy, SearchSyntaxError } from "./ModelSearch.js"
import { decodeSearchCursor, encodeSearchCursor, type ModelSearchQuery } from "./ModelSearchEvaluation.js"
import { ModelStore, type ModelStoreShape } from "./ModelStore.js"
import * as ModelStoreMemory from "./ModelStore.js"
import {
  type CreateRegisteredModelInput,
  type ListRegisteredModelsQuery,
  MAX_ALIASES,
  productionAlias,
  type RegisteredModel,
  type RegisteredModelDetail,
  type RegisteredModelPage,
  type SetAliasInput,
  type UpdateRegisteredModelInput
} from "./RegisteredModel.js"
import {
  aliasDeleteCommit,
  aliasSetCommit,
  archiveAllCommit,
  type CurrentRegistered,
  implicitRegisteredModel,
  latestPerStatus,
  newRegisteredModel,
  registeredPatch,
  registeredWrite,
  resolvedAliases
} from "./RegisteredModelChanges.js"

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

export interface AliasOptions extends Attribution {
  /** Whether the caller may move the registered model's protected aliases (the server: admins only). */
  readonly mayMoveProtected: boolean
}

type RegisteredModelReadError = RegisteredModelNotFoundError | StorageError

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
  /** Sets one key-value tag (audited as tag_set); setting the value it has changes nothing. */
  readonly setTag: (
    id: string,
    key: string,
    value: string,
    by?: Attribution
  ) => Effect.Effect<Model, ModelNotFoundError | ValidationError | StorageError>
  /** Removes one key-value tag (audited as tag_deleted); removing an absent key changes nothing. */
  readonly deleteTag: (
    id: string,
    key: string,
    by?: Attribution
  ) => Effect.Effect<Model, ModelNotFoundError | StorageError>
  /** Models matching a filter in the search language, in an order, paged by an opaque cursor. */
  readonly searchModels: (query: SearchModelsQuery) => Effect.Effect<SearchPage, ValidationError | StorageError>
  readonly getModel: (id: string) => Effect.Effect<Model, ModelNotFoundError | StorageError>
  readonly listModels: (query: ListModelsQuery) => Effect.Effect<ModelPage, StorageError>
  readonly getHistory: (id: string) => Effect.Effect<ReadonlyArray<AuditEvent>, ModelNotFoundError | StorageError>
  /** The version of `name` in production at `at` (default now), or undefined. */
  readonly getProduction: (name: string, at?: string) => Effect.Effect<Model | undefined, StorageError>
  /** Audit events of every version of one name, in append order (what aliases at a past time are read from). */
  readonly getNameHistory: (name: string) => Effect.Effect<ReadonlyArray<AuditEvent>, StorageError>
  readonly readArtifact: (id: string) => Effect.Effect<
    { readonly model: Model; readonly stream: ReadableStream<Uint8Array> },
    ModelNotFoundError | ArtifactStateError | IntegrityError | StorageError
  >
  /** Creates a registered model explicitly (registering a version of a new name creates one implicitly). */
  readonly createRegisteredModel: (
    input: CreateRegisteredModelInput,
    by?: Attribution
  ) => Effect.Effect<RegisteredModel, RegisteredModelConflictError | StorageError>
  readonly updateRegisteredModel: (
    name: string,
    patch: UpdateRegisteredModelInput
  ) => Effect.Effect<RegisteredModel, RegisteredModelReadError>
  /** The registered model with the newest version per status and its aliases resolved. */
  readonly getRegisteredModel: (name: string) => Effect.Effect<RegisteredModelDetail, RegisteredModelReadError>
  readonly listRegisteredModels: (query: ListRegisteredModelsQuery) => Effect.Effect<RegisteredModelPage, StorageError>
  /** The audit trail of every version of `name` (alias moves included), in append order. */
  readonly getRegisteredModelHistory: (
    name: string
  ) => Effect.Effect<ReadonlyArray<AuditEvent>, RegisteredModelReadError>
  /** Archives every live version of `name` in one audited commit. */
  readonly archiveRegisteredModel: (
    name: string,
    options?: PromoteOptions
  ) => Effect.Effect<RegisteredModelDetail, RegisteredModelReadError>
  /** Points `alias` at a version of `name` (audited alias_set); answers that version. */
  readonly setAlias: (
    name: string,
    alias: string,
    target: SetAliasInput,
    options: AliasOptions
  ) => Effect.Effect<
    Model,
    RegisteredModelReadError | ModelNotFoundError | ReservedAliasError | ProtectedAliasError | ValidationError
  >
  /** Removes `alias` (audited alias_deleted). */
  readonly deleteAlias: (
    name: string,
    alias: string,
    options: AliasOptions
  ) => Effect.Effect<void, RegisteredModelReadError | AliasNotFoundError | ReservedAliasError | ProtectedAliasError>
  /** The version `alias` points at now, or pointed at at `at`; `production` is the production version. */
  readonly resolveAlias: (
    name: string,
    alias: string,
    at?: string
  ) => Effect.Effect<Model, RegisteredModelReadError | AliasNotFoundError>
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

  const searchModels = Effect.fn("ModelRegistry.searchModels")(function*(query: SearchModelsQuery) {
    const search = yield* parseSearch(query)
    const limit = query.limit ?? 50
    const items = yield* store.search({ ...search, limit: limit + 1 })
    const page = items.slice(0, limit)
    return {
      items: page,
      nextCursor: items.length > limit ? encodeSearchCursor(page[page.length - 1]!, search.order) : null
    }
  })

  const getNameHistory = Effect.fn("ModelRegistry.getNameHistory")(function*(name: string) {
    return yield* store.historyOfName(name)
  })

  return { getModel, listModels, getHistory, getProduction, getNameHistory, searchModels }
}

/**
 * The parse of one query field, a syntax error answering 400 with an issue naming the token and its
 * position under `field`. The parser throws nothing else: anything else stays a defect.
 */
const parsing = <A>(field: string, parse: () => A): Effect.Effect<A, ValidationError> =>
  Effect.suspend(() => {
    try {
      return Effect.succeed(parse())
    } catch (error) {
      if (!(error instanceof SearchSyntaxError)) throw error
      return Effect.fail(
        new ValidationError({
          message: `Invalid ${field}: ${error.message}`,
          issues: [{ path: [field], message: error.issue }]
        })
      )
    }
  })

const parseSearch = (query: SearchModelsQuery): Effect.Effect<Omit<ModelSearchQuery, "limit">, ValidationError> =>
  Effect.gen(function*() {
    const filter = yield* parsing("filter", () => parseFilter(query.filter ?? ""))
    const order = yield* parsing("orderBy", () => parseOrderBy(query.orderBy ?? ""))
    if (query.cursor === undefined) return { filter, order }
    const after = decodeSearchCursor(query.cursor, order)
    if (typeof after === "string") {
      return yield* Effect.fail(
        new ValidationError({ message: `Invalid cursor: it ${after}`, issues: [{ path: ["cursor"], message: after }] })
      )
    }
    return { filter, order, after }
  })

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
  /** A version of a new name creates its registered model (as in MLflow); a racing registration's wins. */
  const ensureRegistered = (model: Model) =>
    Effect.gen(function*() {
      if ((yield* store.getRegistered(model.name)) !== undefined) return
      const [oldest] = yield* store.list({ name: model.name, limit: 1 })
      const record = oldest
        ? implicitRegisteredModel(oldest)
        : newRegisteredModel({ name: model.name }, model.createdAt, model.createdBy)
      yield* store.commit({ expected: [], put: [], events: [], registered: { expectedRevision: null, put: record } })
        .pipe(Effect.catchTag("StaleRevisionError", () => Effect.void))
    })

  const registerModel = Effect.fn("ModelRegistry.registerModel")(
    function*(input: RegisterModelInput, artifact?: ReadableStream<Uint8Array>, options?: UploadOptions) {
      if (input.parentModelId) yield* findModel(input.parentModelId)
      // One reading of the clock: the id's time part and createdAt agree.
      const millis = yield* Clock.currentTimeMillis
      const at = isoAt(millis)
      const model = newModel(input, yield* nextId(millis), at, attribution(options ?? {}))
      const by = { actor: model.createdBy, onBehalfOf: model.onBehalfOf }
      yield* ensureRegistered(model)
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
      const refusal = keyValueTagsRefusal(update.next, "keyValueTags")
      if (refusal) return yield* Effect.fail(refusal)
      const commit = updateCommit(model, update, yield* nowIso, attribution(by))
      yield* store.commit(commit)
      return commit.put[0]
    },
    (step) => retryOnStaleRevision(step)
  )

  const setTag = Effect.fn("ModelRegistry.setTag")(
    function*(id: string, key: string, value: string, by: Attribution = {}) {
      const model = yield* findModel(id)
      const commit = tagCommit(model, key, value, yield* nowIso, attribution(by))
      if (commit === undefined) return model
      const refusal = keyValueTagsRefusal(commit.put[0], "key")
      if (refusal) return yield* Effect.fail(refusal)
      yield* store.commit(commit)
      return commit.put[0]
    },
    (step) => retryOnStaleRevision(step)
  )

  const deleteTag = Effect.fn("ModelRegistry.deleteTag")(
    function*(id: string, key: string, by: Attribution = {}) {
      const model = yield* findModel(id)
      const commit = tagCommit(model, key, undefined, yield* nowIso, attribution(by))
      if (commit === undefined) return model
      yield* store.commit(commit)
      return commit.put[0]
    },
    (step) => retryOnStaleRevision(step)
  )

  return { registerModel, promoteModel, updateModel, setTag, deleteTag }
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

/** Every version of `name`, ascending by id. */
const allVersions = (store: ModelStoreShape, name: string) =>
  Effect.gen(function*() {
    const versions: Array<Model> = []
    for (;;) {
      const cursor = versions.at(-1)?.id
      const page = yield* store.list({ name, limit: 500, ...(cursor ? { cursor } : {}) })
      versions.push(...page)
      if (page.length < 500) return versions
    }
  })

/**
 * Registered models and their aliases. An alias move is a compare-and-set of the registered
 * model's record committed with its audit event, retried on fresh state when another move (on any
 * instance) raced it, so the pointer and the audit trail never disagree.
 */
const makeRegisteredModels = (
  { findModel, metrics, store }: Ports,
  getProduction: ModelRegistryShape["getProduction"]
) => {
  const notFound = (name: string) =>
    new RegisteredModelNotFoundError({ name, message: `Registered model ${name} does not exist` })

  /** The stored record, or the implicit one of a name with versions from before registered models. */
  const findRegistered = (name: string): Effect.Effect<CurrentRegistered, RegisteredModelReadError> =>
    Effect.gen(function*() {
      const record = yield* store.getRegistered(name)
      if (record !== undefined) return { record, stored: true }
      const [oldest] = yield* store.list({ name, limit: 1 })
      if (oldest === undefined) return yield* Effect.fail(notFound(name))
      return { record: implicitRegisteredModel(oldest), stored: false }
    })

  const detail = (record: RegisteredModel) =>
    Effect.gen(function*() {
      const versions = yield* allVersions(store, record.name)
      const production = yield* store.productionOf(record.name)
      return {
        ...record,
        latestVersions: latestPerStatus(versions),
        resolvedAliases: resolvedAliases(record, versions, production)
      }
    })

  const createRegisteredModel = Effect.fn("ModelRegistry.createRegisteredModel")(
    function*(input: CreateRegisteredModelInput, by: Attribution = {}) {
      const conflict = new RegisteredModelConflictError({
        name: input.name,
        message: `Registered model ${input.name} already exists`
      })
      const existing = yield* findRegistered(input.name).pipe(
        Effect.catchTag("RegisteredModelNotFoundError", () => Effect.succeed(undefined))
      )
      if (existing !== undefined) return yield* Effect.fail(conflict)
      const record = newRegisteredModel(input, yield* nowIso, by.actor ?? "anonymous")
      yield* store.commit({ expected: [], put: [], events: [], registered: { expectedRevision: null, put: record } })
        .pipe(Effect.catchTag("StaleRevisionError", () => Effect.fail(conflict)))
      return record
    }
  )

  const updateRegisteredModel = Effect.fn("ModelRegistry.updateRegisteredModel")(
    function*(name: string, patch: UpdateRegisteredModelInput) {
      const current = yield* findRegistered(name)
      const update = registeredPatch(current.record, patch, yield* nowIso)
      if (update === undefined) return current.record
      const registered = registeredWrite(current, update.next)
      yield* store.commit({ expected: [], put: [], events: [], registered })
      return registered.put
    },
    (step) => retryOnStaleRevision(step)
  )

  const getRegisteredModel = Effect.fn("ModelRegistry.getRegisteredModel")(function*(name: string) {
    return yield* detail((yield* findRegistered(name)).record)
  })

  const getRegisteredModelHistory = Effect.fn("ModelRegistry.getRegisteredModelHistory")(function*(name: string) {
    yield* findRegistered(name)
    return yield* store.historyOfName(name)
  })

  const listRegisteredModels = Effect.fn("ModelRegistry.listRegisteredModels")(
    function*(query: ListRegisteredModelsQuery) {
      const limit = query.limit ?? 50
      const items = yield* store.listRegistered({
        cursor: query.cursor,
        namePrefix: query.namePrefix,
        limit: limit + 1
      })
      const page = items.slice(0, limit)
      return { items: page, nextCursor: items.length > limit ? page[page.length - 1]!.name : null }
    }
  )

  const archiveRegisteredModel = Effect.fn("ModelRegistry.archiveRegisteredModel")(
    function*(name: string, options: PromoteOptions = {}) {
      const { record } = yield* findRegistered(name)
      const { commit, moves } = archiveAllCommit(yield* allVersions(store, name), yield* nowIso, {
        ...attribution(options),
        reason: options.reason
      })
      if (commit.put.length > 0) yield* store.commit(commit)
      for (const [from, to] of moves) {
        yield* metrics.increment(metricNames.modelPromotionTotal, { from_status: from, to_status: to })
      }
      return yield* detail(record)
    },
    (step) => retryOnStaleRevision(step)
  )

  const refuseReservedOrProtected = (current: CurrentRegistered, alias: string, options: AliasOptions) => {
    const name = current.record.name
    if (alias === productionAlias) {
      return new ReservedAliasError({
        name,
        alias,
        message: `Alias ${productionAlias} of ${name} is built in: it moves with promotions ` +
          "(POST /v1/models/{id}/promote), never directly"
      })
    }
    if (current.record.protectedAliases.includes(alias) && !options.mayMoveProtected) {
      return new ProtectedAliasError({
        name,
        alias,
        message: `Alias ${alias} of ${name} is protected: only admins may set or delete it`
      })
    }
    return undefined
  }

  /** The version an alias is set to: exactly one of version and modelId, naming a version of `name`. */
  const aliasTarget = (name: string, target: SetAliasInput) =>
    Effect.gen(function*() {
      if ((target.version === undefined) === (target.modelId === undefined)) {
        return yield* Effect.fail(
          new ValidationError({
            message: "Give exactly one of version and modelId: the version the alias points at",
            issues: [{ path: ["version"], message: "exactly one of version and modelId is required" }, {
              path: ["modelId"],
              message: "exactly one of version and modelId is required"
            }]
          })
        )
      }
      if (target.modelId !== undefined) {
        const model = yield* findModel(target.modelId)
        if (model.name !== name) {
          return yield* Effect.fail(
            new ValidationError({
              message: `Model ${model.id} is a version of ${model.name}, not of ${name}`,
              issues: [{ path: ["modelId"], message: `must be a version of ${name}` }]
            })
          )
        }
        return model
      }
      const model = yield* store.findByNameVersion(name, target.version!)
      return model ?? (yield* Effect.fail(
        new ModelNotFoundError({
          modelId: `${name}@${target.version}`,
          message: `Registered model ${name} has no version ${target.version}`
        })
      ))
    })

  const setAlias = Effect.fn("ModelRegistry.setAlias")(
    function*(name: string, alias: string, target: SetAliasInput, options: AliasOptions) {
      const current = yield* findRegistered(name)
      const refusal = refuseReservedOrProtected(current, alias, options)
      if (refusal) return yield* Effect.fail(refusal)
      const model = yield* aliasTarget(name, target)
      const previousId = current.record.aliases[alias]
      if (previousId === model.id) return model
      if (previousId === undefined && Object.keys(current.record.aliases).length >= MAX_ALIASES) {
        return yield* Effect.fail(
          new ValidationError({
            message: `Registered model ${name} has ${MAX_ALIASES} aliases, the most it may have; delete one first`,
            issues: [{ path: ["alias"], message: `at most ${MAX_ALIASES} aliases per registered model` }]
          })
        )
      }
      const previous = previousId === undefined ? undefined : yield* store.get(previousId)
      yield* store.commit(
        aliasSetCommit(current, alias, model, previous, yield* nowIso, attribution(options))
      )
      return model
    },
    (step) => retryOnStaleRevision(step)
  )

  const aliasNotFound = (name: string, alias: string, at?: string) =>
    new AliasNotFoundError({
      name,
      alias,
      message: `Registered model ${name} has no alias ${alias}${at ? ` at ${at}` : ""}`
    })

  const deleteAlias = Effect.fn("ModelRegistry.deleteAlias")(
    function*(name: string, alias: string, options: AliasOptions) {
      const current = yield* findRegistered(name)
      const refusal = refuseReservedOrProtected(current, alias, options)
      if (refusal) return yield* Effect.fail(refusal)
      const previousId = current.record.aliases[alias]
      const previous = previousId === undefined ? undefined : yield* store.get(previousId)
      if (previous === undefined) return yield* Effect.fail(aliasNotFound(name, alias))
      yield* store.commit(aliasDeleteCommit(current, alias, previous, yield* nowIso, attribution(options)))
    },
    (step) => retryOnStaleRevision(step)
  )

  const resolveAlias = Effect.fn("ModelRegistry.resolveAlias")(function*(name: string, alias: string, at?: string) {
    const current = yield* findRegistered(name)
    const id = alias === productionAlias
      ? (yield* getProduction(name, at))?.id
      : at === undefined
      ? current.record.aliases[alias]
      : aliasAt(yield* store.historyOfName(name), alias, at) ?? undefined
    const model = id === undefined ? undefined : yield* store.get(id)
    return model ?? (yield* Effect.fail(aliasNotFound(name, alias, at)))
  })

  return {
    createRegisteredModel,
    updateRegisteredModel,
    getRegisteredModel,
    getRegisteredModelHistory,
    listRegisteredModels,
    archiveRegisteredModel,
    setAlias,
    deleteAlias,
    resolveAlias
  }
}

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
      ...makeRegisteredModels(ports, reads.getProduction),
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
