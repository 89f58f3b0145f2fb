/**
 * Use case: online-learning pipelines, orchestrating the ports (PipelineStore, ModelRegistry,
 * Leases, MetricsSink) around the pure rules. Samples are checked (Samples.ts), scored by the
 * live model as they arrive (progressive validation), deduplicated and buffered; the pipeline's
 * strategy (Strategy.ts) decides when to update. An update runs under a lease, so one instance at
 * a time updates a pipeline: it trains a candidate from the live state on the buffered samples
 * minus a deterministic holdout share, which joins a rolling validation set of the last 2000
 * held-out samples, and judges candidate against live model on that set (Evaluation.ts); an
 * accepted candidate is published as a new registry version (Publication.ts) and becomes live.
 * Everything is recorded. A failed update consumes nothing and is retried by the scheduler.
 */
import { Clock, Context, Effect, Layer, Random, Result } from "effect"
import { estimateWindow, type MetricEstimate } from "../drift/performance/Cbpe.js"
import type { ArtifactStateError, IntegrityError, ModelNotFoundError } from "../registry/Errors.js"
import type { Model } from "../registry/Model.js"
import { ModelRegistry } from "../registry/ModelRegistry.js"
import { type FieldIssue, StorageError, ValidationError } from "../shared/Errors.js"
import { Leases } from "../shared/Leases.js"
import { MetricsSink } from "../shared/MetricsSink.js"
import { retryOnStaleRevision } from "../shared/Retry.js"
import { makeStorageGauges } from "../shared/StorageGauges.js"
import { StatsInputError } from "../stats/StatsError.js"
import { type PipelineConflictError, PipelineNotFoundError } from "./Errors.js"
import { evaluateCandidate, outcomeReason, progressiveMetrics, score, splitHoldout } from "./Evaluation.js"
import { type Learner, loadLearner } from "./learners/Learner.js"
import type { LearnerState } from "./learners/LearnerState.js"
import { encodeLearnerState } from "./learners/LearnerStateBinary.js"
import {
  type AddSamplesResult,
  type CreatePipelineInput,
  newPipeline,
  type Pipeline,
  type PipelineDefaults,
  type PipelineStatus,
  type UpdateRecord,
  type UpdateTrigger
} from "./Pipeline.js"
import { PipelineStore } from "./PipelineStore.js"
import { publicationReason, publishedModel, publisherOf, publishPrecision } from "./Publication.js"
import {
  predictionIssues,
  type ProgressiveEntry,
  type SampleInput,
  sampleIssues,
  signatureLearnerIssues,
  signatureSampleIssues,
  type StoredSample
} from "./Samples.js"
import { ADAPTIVE_METRIC_WINDOW, afterFailedUpdate, afterUpdate, isDegraded, isUpdateDue } from "./Strategy.js"

/**
 * A classifier's CBPE estimates over its progressive window (its predictions read as calibrated
 * probabilities) beside the realized values from the labels; undefined for a regressor or an
 * empty window. The status and the pipeline gauges show the same numbers.
 */
const performanceEstimateOf = (
  pipeline: Pipeline,
  entries: ReadonlyArray<ProgressiveEntry>
): ReadonlyArray<MetricEstimate> | undefined =>
  pipeline.kind === "logistic" && entries.length > 0
    ? estimateWindow(entries.map((e) => e.prediction), { labels: entries.map((e) => e.label) })
    : undefined

// Where clients have always found these types.
export type { PipelineStatus } from "./Pipeline.js"
export type { SampleInput } from "./Samples.js"
export type OnlineLearnerDefaults = PipelineDefaults

type Err =
  | PipelineNotFoundError
  | ValidationError
  | StorageError
  | ModelNotFoundError
  | ArtifactStateError
  | IntegrityError

export interface OnlineLearnerShape {
  readonly createPipeline: (input: CreatePipelineInput) => Effect.Effect<Pipeline, Err | PipelineConflictError>
  readonly getPipeline: (id: string) => Effect.Effect<Pipeline, PipelineNotFoundError | StorageError>
  readonly listPipelines: () => Effect.Effect<ReadonlyArray<Pipeline>, StorageError>
  readonly addSamples: (id: string, samples: ReadonlyArray<SampleInput>) => Effect.Effect<AddSamplesResult, Err>
  readonly triggerUpdate: (id: string) => Effect.Effect<UpdateRecord | null, Err>
  readonly rollback: (id: string, toModelId?: string) => Effect.Effect<UpdateRecord, Err>
  readonly getPipelineStatus: (id: string) => Effect.Effect<PipelineStatus, Err>
  /** Update and rollback records, oldest first. */
  readonly listUpdates: (id: string) => Effect.Effect<ReadonlyArray<UpdateRecord>, PipelineNotFoundError | StorageError>
  /** `shape` names the request's field in problems: `features` (one row) or `rows` (the default). */
  readonly predict: (
    id: string,
    features: ReadonlyArray<Readonly<Record<string, number>>>,
    shape?: "features" | "rows"
  ) => Effect.Effect<ReadonlyArray<number>, Err>
  /** A drift alert for the pipeline's monitor: the adaptive strategy updates at its next chance. */
  readonly notifyDrift: (monitorId: string) => Effect.Effect<void, StorageError>
  /**
   * Time-based strategies and retries: runs forever; interrupt to stop. `owner` names the
   * instance in its update leases.
   */
  readonly runScheduler: (owner: string, tickMillis?: number) => Effect.Effect<never>
  /** Sets ml_pipeline_samples_processed and ml_pipeline_accuracy of every pipeline from storage (StorageGauges). */
  readonly refreshGauges: () => Effect.Effect<void, StorageError>
}

export class OnlineLearner extends Context.Service<OnlineLearner, OnlineLearnerShape>()("@org/ml-core/OnlineLearner") {}

const PROGRESSIVE_WINDOW = 1000
const VALIDATION_WINDOW = 2000
const UPDATE_LEASE_MILLIS = 60_000
type RegisterError = Effect.Error<ReturnType<ModelRegistry["Service"]["registerModel"]>>

/** Version numbers tried when publishing, past those taken by updates that died after registering. */
const PUBLISH_ATTEMPTS = 20
/** Compare-and-set attempts on a pipeline record before giving up (a live-lock, not a user error). */
const CHANGE_ATTEMPTS = 50
/** sampleIds remembered for deduplication: those of the last 2 x maxBufferSize samples, at least 100,000. */
export const dedupWindowOf = (p: Pick<Pipeline, "maxBufferSize">) => Math.max(100_000, 2 * p.maxBufferSize)

const nowIso = Clock.currentTimeMillis.pipe(Effect.map((ms) => new Date(ms).toISOString()))
/** `length` random base-36 digits (at most), for ids and lease owners. */
const randomSuffix = (length: number) =>
  Random.nextIntBetween(0, 36 ** length, { halfOpen: true }).pipe(Effect.map((n) => n.toString(36)))

const invalid = (what: string, issues: ReadonlyArray<FieldIssue>) =>
  new ValidationError({
    message: `Invalid ${what}: ${issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    issues
  })

const pipelineNotFound = (id: string) =>
  new PipelineNotFoundError({ pipelineId: id, message: `Pipeline ${id} does not exist` })

const readBytes = async (stream: ReadableStream<Uint8Array>): Promise<Uint8Array> =>
  new Uint8Array(await new Response(stream).arrayBuffer())

interface Ports {
  readonly store: PipelineStore["Service"]
  readonly registry: ModelRegistry["Service"]
  readonly metrics: MetricsSink["Service"]
  readonly leases: Leases["Service"]
}

/** Reading and changing pipeline records, and reading learner states from registry artifacts. */
const makeRecords = ({ registry, store }: Ports) => {
  const getPipeline = Effect.fn("OnlineLearner.getPipeline")(function*(id: string) {
    const pipeline = yield* store.get(id)
    if (pipeline) return pipeline
    return yield* Effect.fail(pipelineNotFound(id))
  })

  /** Reads, changes and commits a pipeline; again on fresh state while another writer wins the race. */
  const change = (id: string, f: (p: Pipeline, at: string) => Pipeline) =>
    retryOnStaleRevision(
      Effect.gen(function*() {
        const current = yield* getPipeline(id)
        const at = yield* nowIso
        const next = { ...f(current, at), updatedAt: at, revision: current.revision + 1 }
        yield* store.commit(next, current.revision)
        return next
      }),
      CHANGE_ATTEMPTS
    )

  /** The learner state stored as a model's artifact, in either format (loadLearner tells them apart). */
  const stateOfModel = (modelId: string): Effect.Effect<LearnerState, ValidationError | StorageError> =>
    registry.readArtifact(modelId).pipe(
      Effect.flatMap(({ stream }) =>
        Effect.tryPromise({
          try: () => readBytes(stream),
          catch: (e) => new StorageError({ message: `Reading the artifact of ${modelId} failed: ${String(e)}` })
        })
      ),
      Effect.flatMap((bytes) =>
        Effect.try({
          try: () => loadLearner(bytes).state(),
          // A stack overflow on a hostile artifact is described, not echoed.
          catch: (e) =>
            invalid("model", [{
              path: ["modelId"],
              message: e instanceof RangeError ? "artifact is not a learner state" : (e as Error).message
            }])
        })
      ),
      Effect.mapError((e) => (e._tag === "ValidationError" || e._tag === "StorageError"
        ? e
        : invalid("model", [{ path: ["modelId"], message: e.message }]))
      )
    )

  return { getPipeline, change, stateOfModel }
}
type Records = ReturnType<typeof makeRecords>

/** A candidate from the buffered samples: trained, judged, and published when accepted. */
const makeCandidates = ({ registry, store }: Ports) => {
  /**
   * Registers the candidate as a registry version (status testing); `run` makes it live. An update
   * that died after registering (a crash) left its version number taken: the next number is used.
   */
  const publish = (p: Pipeline, train: ReadonlyArray<StoredSample>, published: LearnerState, after: number | null) =>
    Effect.gen(function*() {
      const parent = yield* registry.getModel(p.liveModelId)
      const register = (number: number): Effect.Effect<Model, RegisterError> =>
        registry.registerModel(
          publishedModel(p, parent, train, after, number),
          // Format 2 (touched slots only, binary) at the pipeline's precision; the live state the next
          // update trains from is stored exact (float64) by `run`.
          new Blob([encodeLearnerState(published, { precision: publishPrecision(p) })]).stream()
        ).pipe(
          Effect.catchTag(
            "ModelConflictError",
            (e) => number < p.acceptedUpdates + PUBLISH_ATTEMPTS ? register(number + 1) : Effect.fail(e)
          )
        )
      const model = yield* register(p.acceptedUpdates + 1)
      yield* registry.promoteModel(model.id, "testing", { reason: publicationReason(p), actor: publisherOf(p) })
      return model.id
    })

  /** Trains and judges a candidate on the buffer, publishing it if accepted; consumes no sample. */
  const attempt = (p: Pipeline, buffer: ReadonlyArray<StoredSample>) =>
    Effect.gen(function*() {
      const liveState = yield* store.liveState(p.id)
      if (!liveState) return yield* Effect.fail(new StorageError({ message: `Pipeline ${p.id} has no live state` }))
      // Held-out samples join a rolling validation set (the last VALIDATION_WINDOW), so a
      // poisoned batch is judged mostly against earlier, clean feedback.
      const { holdout, train } = splitHoldout(p.holdoutShare, buffer)
      yield* store.addValidation(p.id, holdout, VALIDATION_WINDOW)
      const outcome = evaluateCandidate(p, liveState, train, yield* store.validation(p.id))
      const publishedState = outcome.accepted ? outcome.publishedState() : null
      const modelId = publishedState ? yield* publish(p, train, publishedState, outcome.after) : null
      return { ...outcome, modelId, publishedState, samples: train.length }
    })

  return { attempt }
}

/**
 * One update of a pipeline: decided by its strategy, run under a lease, recorded. A failure
 * before anything is consumed leaves the samples buffered and schedules a retry.
 */
const makeUpdates = (ports: Ports, { change, getPipeline }: Records) => {
  const { leases, metrics, store } = ports
  const { attempt } = makeCandidates(ports)

  /** The pipeline as stored now, whether its strategy wants an update, and the metric it judged by. */
  const checkDue = (id: string, trigger: UpdateTrigger) =>
    Effect.gen(function*() {
      const p = yield* getPipeline(id)
      const nowMs = yield* Clock.currentTimeMillis
      const buffered = yield* store.bufferSize(id)
      // Only the adaptive rule looks at the progressive stream; the others need just the count.
      const entries = p.strategy === "adaptive" ? yield* store.progressive(id) : []
      const progressiveMetric = p.strategy === "adaptive"
        ? score(p.validationMetric, entries.slice(-ADAPTIVE_METRIC_WINDOW))
        : null
      // The buffered samples are those scored since the last update (the buffer is consumed by it).
      const degraded = p.strategy === "adaptive" && isDegraded(p.validationMetric, entries, buffered)
      const situation = { trigger, buffered, nowMs, progressiveMetric, degraded }
      return { p, nowMs, progressiveMetric, degraded, isDue: isUpdateDue(p, situation) }
    })

  const run = (id: string, trigger: UpdateTrigger): Effect.Effect<UpdateRecord | null, Err> =>
    Effect.gen(function*() {
      const { degraded, isDue, nowMs, p, progressiveMetric } = yield* checkDue(id, trigger)
      if (!isDue) return null
      const buffer = yield* store.buffer(id)
      const at = new Date(nowMs).toISOString()
      const result = yield* Effect.result(attempt(p, buffer))
      if (Result.isFailure(result)) {
        // Nothing consumed: the samples stay buffered, and the scheduler retries at nextRetryAt.
        const message = result.failure.message
        yield* change(id, (q, now) => afterFailedUpdate(q, message, now))
        return null
      }
      const r = result.success
      // The samples are consumed before the live state that learned them is stored: a crash in
      // between leaves them untrained rather than trained twice (they never come back).
      yield* store.removeSamples(id, buffer.map((s) => s.sampleId))
      yield* store.addProcessed(id, buffer.length)
      if (r.publishedState) yield* store.setLiveState(id, r.publishedState)
      const record: UpdateRecord = {
        id: `update-${nowMs.toString(36)}-${yield* randomSuffix(6)}`,
        pipelineId: id,
        at,
        kind: "update",
        accepted: r.accepted,
        trigger,
        reason: outcomeReason(p, r),
        samples: r.samples,
        metricBefore: r.before,
        metricAfter: r.after,
        modelId: r.modelId,
        previousModelId: p.liveModelId,
        progressive: progressiveMetrics(p.kind, yield* store.progressive(id))
      }
      yield* store.appendUpdate(record)
      const decidedOn = { degradedOrDrift: p.driftSignal || degraded, progressiveMetric }
      yield* change(id, (q) => afterUpdate(q, { ...r, metricAfter: r.after }, at, decidedOn))
      if (r.accepted) yield* metrics.increment("ml_pipeline_updates_total", { pipeline_id: id })
      return record
    })

  /**
   * One update if the strategy wants one. The lease is taken only then (most calls are not due),
   * and the rule is checked again under it.
   */
  const update = (id: string, trigger: UpdateTrigger, holder = "request"): Effect.Effect<UpdateRecord | null, Err> =>
    Effect.gen(function*() {
      if (!(yield* checkDue(id, trigger)).isDue) return null
      const owner = `${holder}-${yield* randomSuffix(8)}`
      const lease = `pipeline-update:${id}`
      if (!(yield* leases.acquire(lease, owner, UPDATE_LEASE_MILLIS))) return null
      return yield* Effect.ensuring(run(id, trigger), Effect.ignore(leases.release(lease, owner)))
    })

  return { update }
}
type Updates = ReturnType<typeof makeUpdates>

/**
 * Samples in, predictions out, with the live learner of each pipeline cached while the
 * pipeline's revision stands.
 */
const makeServing = ({ store }: Ports, { getPipeline }: Records, { update }: Updates) => {
  // A new live state is always stored before the revision that announces it, so a cached learner
  // is never newer than its revision says and a stale one is replaced at the next revision.
  const liveLearners = new Map<string, { readonly revision: number; readonly learner: Learner }>()
  const liveLearner = (p: Pipeline) => {
    const cached = liveLearners.get(p.id)
    if (cached && cached.revision === p.revision) return Effect.succeed(cached.learner)
    return store.liveState(p.id).pipe(Effect.flatMap((s) => {
      if (!s) return Effect.fail(new StorageError({ message: `Pipeline ${p.id} has no live state` }))
      const learner = loadLearner(s)
      liveLearners.set(p.id, { revision: p.revision, learner })
      return Effect.succeed(learner)
    }))
  }

  /**
   * Pipelines as last read by this instance. Ingestion uses them without reading: the store takes
   * a batch only while the stored revision is the cached one, and a refusal drops the entry, so
   * a batch is never scored against a superseded learner or judged by a superseded strategy.
   */
  const pipelines = new Map<string, Pipeline>()
  const freshPipeline = (id: string) => getPipeline(id).pipe(Effect.tap((p) => Effect.sync(() => pipelines.set(id, p))))
  const cachedPipeline = (id: string) => {
    const cached = pipelines.get(id)
    return cached === undefined ? freshPipeline(id) : Effect.succeed(cached)
  }
  /**
   * The pipeline as stored now, for predictions (which store nothing that could check it): the
   * cached one while the store confirms its revision without sending the record (Redis: one
   * small script), else read and cached. A rollback or update by another instance is seen at
   * the next prediction.
   */
  const currentPipeline = (id: string): Effect.Effect<Pipeline, PipelineNotFoundError | StorageError> => {
    const cached = pipelines.get(id)
    if (cached === undefined || store.getIfChanged === undefined) return freshPipeline(id)
    return Effect.flatMap(store.getIfChanged(id, cached.revision), (stored) => {
      if (stored === "unchanged") return Effect.succeed(cached)
      if (stored === undefined) {
        pipelines.delete(id)
        return Effect.fail(pipelineNotFound(id))
      }
      pipelines.set(id, stored)
      return Effect.succeed(stored)
    })
  }

  /** Scores the checked batch with `p`'s live model and stores it, if `p` is still the stored revision. */
  const ingest = Effect.fnUntraced(function*(p: Pipeline, samples: ReadonlyArray<SampleInput>, at: string) {
    // Progressive validation: the live model predicts each label before any update sees it.
    const live = yield* liveLearner(p)
    const predictions = samples.map((s) => live.predict(s.features))
    // A non-finite prediction would be stored in the progressive window and break every later read.
    const overflow = predictions.findIndex((prediction) => !Number.isFinite(prediction))
    if (overflow !== -1) {
      return yield* Effect.fail(invalid("samples", [{
        path: [overflow, "features"],
        message: "give a prediction that is not a finite number (the values are too large for this model)"
      }]))
    }
    const stored = samples.map((s): StoredSample => ({
      sampleId: s.sampleId,
      features: s.features,
      label: s.label,
      weight: s.weight ?? 1,
      receivedAt: at
    }))
    const limits = {
      maxBufferSize: p.maxBufferSize,
      dedupWindow: dedupWindowOf(p),
      progressiveWindow: PROGRESSIVE_WINDOW
    }
    const added = yield* store.addSamples(p.id, stored, limits, predictions, p.revision).pipe(
      Effect.tapError((e) => Effect.sync(() => e._tag === "StaleRevisionError" && pipelines.delete(p.id)))
    )
    return { p, added }
  })

  // Untraced, as it runs per request: a span and the call-site stack of Effect.fn cost about 5 µs per call.
  const addSamples = Effect.fnUntraced(function*(id: string, samples: ReadonlyArray<SampleInput>) {
    const cached = yield* cachedPipeline(id)
    // The learner kind never changes, so the check holds for every revision.
    const issues = sampleIssues(cached.kind, samples)
    // The signature never changes either (it is copied from the base model at creation).
    if (issues.length === 0 && cached.signature !== undefined) {
      issues.push(...signatureSampleIssues(cached.signature, samples))
    }
    if (issues.length > 0) return yield* Effect.fail(invalid("samples", issues))
    const at = yield* nowIso
    // A stale cache costs one read; after that, conflicts are real races and back off.
    const { added, p } = yield* ingest(cached, samples, at).pipe(
      Effect.catchTag(
        "StaleRevisionError",
        () =>
          retryOnStaleRevision(
            Effect.flatMap(freshPipeline(id), (fresh) => ingest(fresh, samples, at)),
            CHANGE_ATTEMPTS
          )
      )
    )
    // The rule is judged on the pipeline the batch was stored under and the buffer it left; only
    // the adaptive rule needs more (the progressive metric), so it reads it in `update`.
    const mayBeDue = p.strategy === "adaptive" ||
      isUpdateDue(p, {
        trigger: "samples",
        buffered: added.buffered,
        nowMs: Date.parse(at),
        progressiveMetric: null,
        degraded: false
      })
    // A failing update never fails ingestion: it is recorded on the pipeline and retried.
    const record = mayBeDue ? yield* update(id, "samples").pipe(Effect.orElseSucceed(() => null)) : null
    return { added: added.added, duplicates: added.duplicates, dropped: added.dropped, update: record }
  })

  // Untraced too: predictions are per request.
  const predict = Effect.fnUntraced(
    function*(
      id: string,
      features: ReadonlyArray<Readonly<Record<string, number>>>,
      shape: "features" | "rows" = "rows"
    ) {
      const issues = predictionIssues(features, shape === "features")
      if (issues.length > 0) return yield* Effect.fail(invalid(shape, issues))
      const learner = yield* liveLearner(yield* currentPipeline(id))
      const predictions = yield* Effect.try({
        try: () => features.map((f) => learner.predict(f)),
        // Only the learner's own input errors are described; anything else is a defect, not echoed.
        catch: (e) =>
          e instanceof StatsInputError
            ? invalid(shape, [{ path: [e.field], message: e.message }])
            : invalid(shape, [{ path: [shape], message: "could not be evaluated" }])
      })
      // Values within the bound can still overflow against large weights: a 400, never a non-finite answer.
      const overflow = predictions.findIndex((p) => !Number.isFinite(p))
      if (overflow === -1) return predictions
      return yield* Effect.fail(invalid(shape, [{
        path: shape === "features" ? ["features"] : ["rows", overflow],
        message: "gives a prediction that is not a finite number (the values are too large for this model)"
      }]))
    }
  )

  return { addSamples, predict }
}

/** Creating pipelines, rolling back, reading their status and records, and drift signals. */
const makePipelines = (
  { registry, store }: Ports,
  { change, getPipeline, stateOfModel }: Records,
  defaults: PipelineDefaults
) => {
  const createPipeline = Effect.fn("OnlineLearner.createPipeline")(function*(input: CreatePipelineInput) {
    const state = yield* stateOfModel(input.modelId)
    const at = yield* nowIso
    const generatedId = `pipe-${Date.parse(at).toString(36)}-${yield* randomSuffix(6)}`
    const made = newPipeline(input, defaults, state.config.kind, at, generatedId)
    if (Result.isFailure(made)) return yield* Effect.fail(invalid("pipeline", made.failure))
    // The base model's signature, when it declares one, is the pipeline's feature list from now on.
    const { signature } = yield* registry.getModel(input.modelId).pipe(
      Effect.catchTag(
        "ModelNotFoundError",
        (e) => Effect.fail(invalid("model", [{ path: ["modelId"], message: e.message }]))
      )
    )
    const unlearnable = signature === undefined ? [] : signatureLearnerIssues(signature, state.config.features)
    if (unlearnable.length > 0) return yield* Effect.fail(invalid("pipeline", unlearnable))
    const pipeline: Pipeline = signature === undefined ? made.success : { ...made.success, signature }
    yield* store.insert(pipeline)
    yield* store.setLiveState(pipeline.id, state)
    return pipeline
  })

  const rollback = Effect.fn("OnlineLearner.rollback")(function*(id: string, toModelId?: string) {
    const p = yield* getPipeline(id)
    const target = toModelId ?? (yield* registry.getModel(p.liveModelId)).parentModelId
    if (!target) {
      return yield* Effect.fail(
        invalid("rollback", [{ path: ["toModelId"], message: "the live version has no parent to roll back to" }])
      )
    }
    yield* store.setLiveState(id, yield* stateOfModel(target))
    const at = yield* nowIso
    const record: UpdateRecord = {
      id: `rollback-${Date.parse(at).toString(36)}-${yield* randomSuffix(6)}`,
      pipelineId: id,
      at,
      kind: "rollback",
      accepted: true,
      trigger: "manual",
      reason: `rolled back from ${p.liveModelId} to ${target}`,
      samples: 0,
      metricBefore: null,
      metricAfter: null,
      modelId: target,
      previousModelId: p.liveModelId,
      progressive: progressiveMetrics(p.kind, yield* store.progressive(id))
    }
    yield* store.appendUpdate(record)
    yield* change(id, (q) => ({ ...q, liveModelId: target }))
    return record
  })

  const getPipelineStatus = Effect.fn("OnlineLearner.getPipelineStatus")(function*(id: string) {
    const pipeline = yield* getPipeline(id)
    const counters = yield* store.counters(id)
    const buffered = yield* store.bufferSize(id)
    const entries = yield* store.progressive(id)
    const performanceEstimate = performanceEstimateOf(pipeline, entries)
    return {
      pipeline,
      counters: { ...counters, buffered },
      progressive: progressiveMetrics(pipeline.kind, entries),
      ...(performanceEstimate ? { performanceEstimate } : {}),
      updates: yield* store.updates(id)
    }
  })

  const listPipelines = Effect.fn("OnlineLearner.listPipelines")(function*() {
    return yield* store.list()
  })

  const listUpdates = Effect.fn("OnlineLearner.listUpdates")(function*(id: string) {
    yield* getPipeline(id)
    return yield* store.updates(id)
  })

  const notifyDrift = Effect.fn("OnlineLearner.notifyDrift")(function*(monitorId: string) {
    for (const p of yield* store.list()) {
      if (p.monitorId === monitorId) yield* change(p.id, (q) => ({ ...q, driftSignal: true })).pipe(Effect.ignore)
    }
  })

  return { createPipeline, rollback, getPipelineStatus, listPipelines, listUpdates, notifyDrift }
}

/**
 * Gauges set from storage at scrape time, so every instance reports the shared state; the rebuild
 * reads every pipeline, so it is reused for `GaugeMaxAge` (samples arrive on the hot path, which
 * must not pay for it).
 */
const makeGauges = ({ metrics, store }: Ports) =>
  Effect.gen(function*() {
    const gauges = yield* makeStorageGauges(Effect.gen(function*() {
      for (const p of yield* store.list()) {
        const c = yield* store.counters(p.id)
        yield* metrics.set("ml_pipeline_samples_processed", { pipeline_id: p.id }, c.processed)
        if (p.kind === "logistic") {
          const entries = yield* store.progressive(p.id)
          const acc = score("accuracy", entries)
          if (acc !== null) yield* metrics.set("ml_pipeline_accuracy", { pipeline_id: p.id }, acc)
          for (const m of performanceEstimateOf(p, entries) ?? []) {
            if (m.estimate !== null) {
              yield* metrics.set(
                "ml_pipeline_performance_estimate",
                { pipeline_id: p.id, metric: m.metric },
                m.estimate
              )
            }
          }
        }
      }
    }))
    return Effect.fn("OnlineLearner.refreshGauges")(function*() {
      yield* gauges.refresh
    })
  })

export const make = (
  defaults: PipelineDefaults = { strategy: "mini-batch", batchSize: 100, maxBufferSize: 100_000 }
) =>
  Effect.gen(function*() {
    const ports: Ports = {
      store: yield* PipelineStore,
      registry: yield* ModelRegistry,
      metrics: yield* MetricsSink,
      leases: yield* Leases
    }
    const records = makeRecords(ports)
    const { update } = makeUpdates(ports, records)
    const { addSamples, predict } = makeServing(ports, records, { update })
    // One span per tick: a span around the scheduler itself would never end.
    const schedulerTick = Effect.fn("OnlineLearner.schedulerTick")(function*(owner: string) {
      for (const p of yield* ports.store.list().pipe(Effect.orElseSucceed(() => [] as ReadonlyArray<Pipeline>))) {
        yield* update(p.id, p.nextRetryAt !== null ? "retry" : "schedule", owner).pipe(Effect.ignore)
      }
    })
    return OnlineLearner.of({
      ...makePipelines(ports, records, defaults),
      getPipeline: records.getPipeline,
      addSamples,
      predict,
      triggerUpdate: Effect.fn("OnlineLearner.triggerUpdate")(function*(id: string) {
        yield* records.getPipeline(id)
        return yield* update(id, "manual")
      }),
      runScheduler: (owner, tickMillis = 1000) =>
        Effect.forever(schedulerTick(owner).pipe(Effect.andThen(Effect.sleep(tickMillis)))),
      refreshGauges: yield* makeGauges(ports)
    })
  })

export const layer = (
  defaults?: PipelineDefaults
): Layer.Layer<OnlineLearner, never, PipelineStore | ModelRegistry | MetricsSink | Leases> =>
  Layer.effect(OnlineLearner, make(defaults))
