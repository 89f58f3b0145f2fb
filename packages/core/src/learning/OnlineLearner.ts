/**
 * Use case: online-learning pipelines. Samples are validated, deduplicated and buffered; the
 * pipeline's strategy decides when to update; an update trains a candidate from the live state
 * on the buffered samples (minus a deterministic holdout share, which joins a rolling validation
 * set of the last 2000 held-out samples), scores candidate and live model on that set, and publishes the candidate as a new registry version (status testing, parent = the
 * previous version) only if it is not worse beyond the tolerance. Everything is recorded.
 *
 * Strategies: incremental updates on every recorded batch; mini-batch when batchSize samples are
 * buffered; periodic every updateFrequencySeconds once minSamples are buffered; adaptive updates
 * when a drift alert arrives for its monitor, when the progressive metric is worse than at the
 * last update by more than the tolerance, when its current batch size is reached, or on a slow
 * cadence (3 x updateFrequencySeconds); after a degradation or drift it halves its batch size
 * (not below minSamples) and raises its learning-rate scale x1.5 (at most 4), and while stable it
 * grows the batch x1.5 (at most maxBufferSize / 2) and relaxes the scale back toward 1.
 */
import { Clock, Context, Effect, Layer } from "effect"
import { fnv1a32 } from "../experiments/Assignment.js"
import { type ArtifactStateError, type IntegrityError, type ModelNotFoundError } from "../registry/Errors.js"
import { ModelRegistry } from "../registry/ModelRegistry.js"
import { StorageError, ValidationError } from "../shared/Errors.js"
import { Leases } from "../shared/Leases.js"
import { MetricsSink } from "../shared/MetricsSink.js"
import { type PipelineConflictError, PipelineNotFoundError } from "./Errors.js"
import { type Learner, type LearnerState, loadLearner } from "./learners/Learner.js"
import type { CreatePipelineInput, Pipeline, ValidationMetric } from "./Pipeline.js"
import {
  type PipelineCounters,
  PipelineStore,
  type ProgressiveEntry,
  type StoredSample,
  type UpdateRecord
} from "./PipelineStore.js"

export interface SampleInput {
  readonly sampleId: string
  readonly features: Readonly<Record<string, number>>
  readonly label: number
  readonly weight?: number
}

export interface PipelineStatus {
  readonly pipeline: Pipeline
  readonly counters: PipelineCounters & { readonly buffered: number }
  readonly progressive: {
    readonly window: number
    readonly accuracy: number | null
    readonly logLoss: number | null
    readonly rmse: number | null
  }
  readonly updates: ReadonlyArray<UpdateRecord>
}

export interface OnlineLearnerDefaults {
  readonly strategy: Pipeline["strategy"]
  readonly batchSize: number
  readonly maxBufferSize: number
}

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
  readonly addSamples: (
    id: string,
    samples: ReadonlyArray<SampleInput>
  ) => Effect.Effect<
    {
      readonly added: number
      readonly duplicates: number
      readonly dropped: number
      readonly update: UpdateRecord | null
    },
    Err
  >
  readonly triggerUpdate: (id: string) => Effect.Effect<UpdateRecord | null, Err>
  readonly rollback: (id: string, toModelId?: string) => Effect.Effect<UpdateRecord, Err>
  readonly getPipelineStatus: (id: string) => Effect.Effect<PipelineStatus, Err>
  /** Update and rollback records, oldest first. */
  readonly listUpdates: (id: string) => Effect.Effect<ReadonlyArray<UpdateRecord>, PipelineNotFoundError | StorageError>
  readonly predict: (
    id: string,
    features: ReadonlyArray<Readonly<Record<string, number>>>
  ) => Effect.Effect<ReadonlyArray<number>, Err>
  /** A drift alert for the pipeline's monitor: the adaptive strategy updates at its next chance. */
  readonly notifyDrift: (monitorId: string) => Effect.Effect<void, StorageError>
  /** Time-based strategies and retries: runs forever; interrupt to stop. `owner` names the instance in its update leases. */
  readonly runScheduler: (owner: string, tickMillis?: number) => Effect.Effect<never>
  /** Sets ml_pipeline_samples_processed and ml_pipeline_accuracy of every pipeline from storage (at scrape time). */
  readonly refreshGauges: () => Effect.Effect<void, StorageError>
}

export class OnlineLearner extends Context.Service<OnlineLearner, OnlineLearnerShape>()("@org/ml-core/OnlineLearner") {}

const nowIso = Clock.currentTimeMillis.pipe(Effect.map((ms) => new Date(ms).toISOString()))
const PROGRESSIVE_WINDOW = 1000
const MAX_FEATURES = 1000
const VALIDATION_WINDOW = 2000
/** sampleIds remembered for deduplication: those of the last 2 x maxBufferSize samples, at least 100,000. */
export const dedupWindowOf = (p: Pick<Pipeline, "maxBufferSize">) => Math.max(100_000, 2 * p.maxBufferSize)

/** Lower is better for log loss and RMSE; accuracy is flipped so "lower is better" holds for all. */
const score = (metric: ValidationMetric, entries: ReadonlyArray<ProgressiveEntry>): number | null => {
  if (entries.length === 0) return null
  let sum = 0
  for (const { prediction: p, label: y } of entries) {
    if (metric === "accuracy") sum += (p >= 0.5) === (y === 1) ? 1 : 0
    else if (metric === "log_loss") {
      const q = Math.min(1 - 1e-15, Math.max(1e-15, p))
      sum -= y * Math.log(q) + (1 - y) * Math.log(1 - q)
    } else sum += (p - y) ** 2
  }
  const mean = sum / entries.length
  return metric === "rmse" ? Math.sqrt(mean) : mean
}
const worseBy = (
  metric: ValidationMetric,
  candidate: number,
  reference: number
) => (metric === "accuracy" ? reference - candidate : candidate - reference)

/** Scales the optimizer's step size (learning rate, FTRL alpha, PA C). */
const withStepScale = (state: LearnerState, base: number | null, scale: number): LearnerState => {
  const o = state.config.optimizer
  const optimizer = o.type === "sgd" || o.type === "adagrad"
    ? { ...o, learningRate: (base ?? o.learningRate) * scale }
    : o.type === "ftrl"
    ? { ...o, alpha: (base ?? o.alpha) * scale }
    : { ...o, C: (base ?? o.C) * scale }
  return { ...state, config: { ...state.config, optimizer } }
}

const readJsonStream = async (stream: ReadableStream<Uint8Array>): Promise<unknown> =>
  JSON.parse(await new Response(stream).text())

export const make = (
  defaults: OnlineLearnerDefaults = { strategy: "mini-batch", batchSize: 100, maxBufferSize: 100_000 }
) =>
  Effect.gen(function*() {
    const store = yield* PipelineStore
    const registry = yield* ModelRegistry
    const metrics = yield* MetricsSink
    const leases = yield* Leases

    const getPipeline = (id: string) =>
      store.get(id).pipe(Effect.flatMap((p) => (p
        ? Effect.succeed(p)
        : Effect.fail(new PipelineNotFoundError({ pipelineId: id, message: `Pipeline ${id} does not exist` })))
      ))

    const invalid = (what: string, issues: Array<{ path: Array<string | number>; message: string }>) =>
      new ValidationError({
        message: `Invalid ${what}: ${issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
        issues
      })

    /** The learner state stored as a model's artifact (JSON of LearnerState). */
    const stateOfModel = (modelId: string) =>
      registry.readArtifact(modelId).pipe(
        Effect.flatMap(({ stream }) =>
          Effect.tryPromise({
            try: () => readJsonStream(stream),
            catch: () => invalid("model", [{ path: ["modelId"], message: "artifact is not a learner state (JSON)" }])
          })
        ),
        Effect.flatMap((json) =>
          Effect.try({
            try: () => loadLearner(json).state(),
            catch: (e) => invalid("model", [{ path: ["modelId"], message: (e as Error).message }])
          })
        ),
        Effect.mapError((e) => (e._tag === "ValidationError" || e._tag === "StorageError"
          ? e
          : invalid("model", [{ path: ["modelId"], message: e.message }]))
        )
      )

    const change = (id: string, f: (p: Pipeline, at: string) => Pipeline): Effect.Effect<Pipeline, Err> =>
      Effect.gen(function*() {
        for (let attempt = 0; attempt < 50; attempt++) {
          const current = yield* getPipeline(id)
          const at = yield* nowIso
          const next = { ...f(current, at), updatedAt: at, revision: current.revision + 1 }
          const committed = yield* Effect.result(store.commit(next, current.revision))
          if (committed._tag === "Success") {
            return next
          }
          if (committed.failure._tag !== "StaleRevisionError") return yield* Effect.fail(committed.failure)
        }
        return yield* Effect.fail(new StorageError({ message: `Pipeline ${id}: too many concurrent changes` }))
      })

    const validateSamples = (pipeline: Pipeline, samples: ReadonlyArray<SampleInput>) => {
      const issues: Array<{ path: Array<string | number>; message: string }> = []
      samples.forEach((s, i) => {
        if (typeof s.sampleId !== "string" || s.sampleId.length === 0 || s.sampleId.length > 256) {
          issues.push({ path: [i, "sampleId"], message: "must be a string of 1-256 characters" })
        }
        if (typeof s.label !== "number" || !Number.isFinite(s.label)) {
          issues.push({ path: [i, "label"], message: `must be a finite number, got ${JSON.stringify(s.label)}` })
        } else if (pipeline.kind === "logistic" && s.label !== 0 && s.label !== 1) {
          issues.push({ path: [i, "label"], message: `must be 0 or 1 for a classifier, got ${s.label}` })
        }
        if (
          s.weight !== undefined && !(typeof s.weight === "number" && Number.isFinite(s.weight) && s.weight > 0)
        ) {
          issues.push({ path: [i, "weight"], message: "must be a finite number > 0" })
        }
        if (typeof s.features !== "object" || s.features === null) {
          issues.push({ path: [i, "features"], message: "must be an object of numbers" })
        } else {
          const entries = Object.entries(s.features)
          if (entries.length > MAX_FEATURES) {
            issues.push({ path: [i, "features"], message: `has ${entries.length} features; at most ${MAX_FEATURES}` })
          }
          for (const [name, v] of entries) {
            if (typeof v !== "number" || !Number.isFinite(v)) {
              issues.push({ path: [i, "features", name], message: `must be a finite number, got ${JSON.stringify(v)}` })
            }
          }
        }
      })
      return issues
    }

    // The live learner of each pipeline, kept while the pipeline's revision stands: a new live
    // state is always stored before the revision that announces it, so a cached learner is never
    // newer than its revision says and a stale one is replaced at the next revision.
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

    const isHoldout = (p: Pipeline, sampleId: string) => (fnv1a32(sampleId) % 1000) < Math.round(p.holdoutShare * 1000)

    /** Decides from the strategy whether an update is due now. */
    const due = (
      p: Pipeline,
      buffered: number,
      nowMs: number,
      progressiveMetric: number | null,
      trigger: string
    ): boolean => {
      if (trigger === "manual") return buffered > 0
      if (trigger === "retry") return buffered > 0 && p.nextRetryAt !== null && Date.parse(p.nextRetryAt) <= nowMs
      // Time-based rules count from the last update, or from creation before the first one.
      const sinceLast = (nowMs - Date.parse(p.lastUpdateAt ?? p.createdAt)) / 1000
      switch (p.strategy) {
        case "incremental":
          return trigger === "samples" && buffered > 0
        case "mini-batch":
          return buffered >= p.batchSize
        case "periodic":
          return buffered >= p.minSamples && sinceLast >= p.updateFrequencySeconds
        case "adaptive": {
          if (buffered < p.minSamples) return false
          const degraded = progressiveMetric !== null && p.adaptive.referenceMetric !== null &&
            worseBy(p.validationMetric, progressiveMetric, p.adaptive.referenceMetric) > p.degradationTolerance
          return p.driftSignal || degraded || buffered >= p.adaptive.batchSize ||
            sinceLast >= 3 * p.updateFrequencySeconds
        }
      }
    }

    /** The pipeline as stored now, whether its strategy wants an update, and the metric it judged by. */
    const checkDue = (id: string, trigger: string) =>
      Effect.gen(function*() {
        const p = yield* getPipeline(id)
        const nowMs = yield* Clock.currentTimeMillis
        // Only the adaptive rule looks at the progressive metric; the others need just the count.
        const progressiveMetric = p.strategy === "adaptive"
          ? score(p.validationMetric, (yield* store.progressive(id)).slice(-200))
          : null
        return {
          p,
          nowMs,
          progressiveMetric,
          isDue: due(p, yield* store.bufferSize(id), nowMs, progressiveMetric, trigger)
        }
      })

    /**
     * One update, under a lease so that one instance at a time updates a pipeline. The lease is
     * taken only when the strategy wants an update, and the rule is checked again under it.
     */
    const update = (id: string, trigger: string, holder = "request"): Effect.Effect<UpdateRecord | null, Err> =>
      Effect.gen(function*() {
        if (!(yield* checkDue(id, trigger)).isDue) return null
        const owner = `${holder}-${Math.random().toString(36).slice(2)}`
        const lease = `pipeline-update:${id}`
        if (!(yield* leases.acquire(lease, owner, 60_000))) return null
        return yield* Effect.ensuring(runUpdate(id, trigger), Effect.ignore(leases.release(lease, owner)))
      })

    const runUpdate = (id: string, trigger: string): Effect.Effect<UpdateRecord | null, Err> =>
      Effect.gen(function*() {
        const { p, nowMs, progressiveMetric, isDue } = yield* checkDue(id, trigger)
        if (!isDue) return null
        const buffer = yield* store.buffer(id)
        const at = new Date(nowMs).toISOString()
        const attempt = Effect.gen(function*() {
          const liveState = (yield* store.liveState(id))!
          // Held-out samples join a rolling validation set (the last VALIDATION_WINDOW), so a
          // poisoned batch is judged mostly against earlier, clean feedback.
          const train = buffer.filter((s) => !isHoldout(p, s.sampleId))
          yield* store.addValidation(id, buffer.filter((s) => isHoldout(p, s.sampleId)), VALIDATION_WINDOW)
          const holdout = yield* store.validation(id)
          const candidate = loadLearner(withStepScale(liveState, p.learningRate, p.adaptive.learningRateScale))
          for (const s of train) candidate.learn({ features: s.features, label: s.label, weight: s.weight })
          const live = loadLearner(liveState)
          const before = score(
            p.validationMetric,
            holdout.map((s) => ({ prediction: live.predict(s.features), label: s.label }))
          )
          const after = score(
            p.validationMetric,
            holdout.map((s) => ({ prediction: candidate.predict(s.features), label: s.label }))
          )
          const accepted = before === null || after === null ||
            worseBy(p.validationMetric, after, before) <= p.degradationTolerance
          let modelId: string | null = null
          if (accepted) {
            // Keep the configured step size in the published state; the adaptive scale is transient.
            const published = { ...candidate.state(), config: liveState.config }
            const parent = yield* registry.getModel(p.liveModelId)
            const number = p.acceptedUpdates + 1
            const version = `${parent.version.split("-online-")[0]!.slice(0, 24)}-online-${p.id.slice(0, 24)}-${number}`
            const times = train.map((s) => s.receivedAt).sort()
            const model = yield* registry.registerModel({
              name: parent.name,
              version,
              algorithm: parent.algorithm,
              framework: parent.framework,
              description: `Online update ${number} of pipeline ${p.id}`,
              metrics: after === null ? {} : { [`holdout_${p.validationMetric}`]: after },
              training: {
                dataset: `pipeline:${p.id}`,
                sampleCount: train.length,
                ...(times.length ? { startedAt: times[0]!, finishedAt: times[times.length - 1]! } : {})
              },
              tags: ["online", p.id],
              parentModelId: p.liveModelId,
              createdBy: `pipeline:${p.id}`
            }, new Blob([JSON.stringify(published)]).stream())
            yield* registry.promoteModel(model.id, "testing", {
              reason: `online update ${number} of pipeline ${p.id}`,
              actor: `pipeline:${p.id}`
            })
            yield* store.setLiveState(id, published)
            modelId = model.id
          }
          return { accepted, before, after, modelId, samples: train.length }
        })
        const result = yield* Effect.result(attempt)
        if (result._tag === "Failure") {
          // Nothing consumed: the samples stay buffered; retry with backoff.
          const message = result.failure.message
          yield* change(
            id,
            (q, now) => ({
              ...q,
              lastError: message,
              retryCount: q.retryCount + 1,
              nextRetryAt: new Date(Date.parse(now) + Math.min(300, 2 ** q.retryCount) * 1000).toISOString()
            })
          )
          return null
        }
        const r = result.success
        yield* store.removeSamples(id, buffer.map((s) => s.sampleId))
        yield* store.addProcessed(id, buffer.length)
        const record: UpdateRecord = {
          id: `update-${nowMs.toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
          pipelineId: id,
          at,
          kind: "update",
          accepted: r.accepted,
          trigger,
          reason: r.accepted
            ? (r.before === null
              ? "accepted (no holdout samples to compare)"
              : `accepted: holdout ${p.validationMetric} ${r.after} vs live ${r.before}`)
            : `rejected: holdout ${p.validationMetric} ${r.after} is worse than live ${r.before} by more than ${p.degradationTolerance}`,
          samples: r.samples,
          metricBefore: r.before,
          metricAfter: r.after,
          modelId: r.modelId,
          previousModelId: p.liveModelId
        }
        yield* store.appendUpdate(record)
        const degradedOrDrift = p.driftSignal || (progressiveMetric !== null && p.adaptive.referenceMetric !== null &&
          worseBy(p.validationMetric, progressiveMetric, p.adaptive.referenceMetric) > p.degradationTolerance)
        yield* change(id, (q) => ({
          ...q,
          liveModelId: r.modelId ?? q.liveModelId,
          acceptedUpdates: q.acceptedUpdates + (r.accepted ? 1 : 0),
          rejectedUpdates: q.rejectedUpdates + (r.accepted ? 0 : 1),
          lastUpdateAt: at,
          lastError: null,
          retryCount: 0,
          nextRetryAt: null,
          driftSignal: false,
          adaptive: q.strategy !== "adaptive" ? q.adaptive : degradedOrDrift
            ? {
              batchSize: Math.max(q.minSamples, Math.floor(q.adaptive.batchSize / 2)),
              learningRateScale: Math.min(4, q.adaptive.learningRateScale * 1.5),
              referenceMetric: r.after ?? progressiveMetric
            }
            : {
              batchSize: Math.min(Math.floor(q.maxBufferSize / 2), Math.ceil(q.adaptive.batchSize * 1.5)),
              learningRateScale: Math.max(1, q.adaptive.learningRateScale / 1.5),
              referenceMetric: r.after ?? progressiveMetric
            }
        }))
        if (r.accepted) yield* metrics.increment("ml_pipeline_updates_total", { pipeline_id: id })
        return record
      })

    const refreshGauges = () =>
      Effect.gen(function*() {
        for (const p of yield* store.list()) {
          const c = yield* store.counters(p.id)
          yield* metrics.set("ml_pipeline_samples_processed", { pipeline_id: p.id }, c.processed)
          if (p.kind === "logistic") {
            const acc = score("accuracy", yield* store.progressive(p.id))
            if (acc !== null) yield* metrics.set("ml_pipeline_accuracy", { pipeline_id: p.id }, acc)
          }
        }
      })

    return OnlineLearner.of({
      createPipeline: (input) =>
        Effect.gen(function*() {
          const state = yield* stateOfModel(input.modelId)
          const at = yield* nowIso
          const batchSize = input.batchSize ?? defaults.batchSize
          const maxBufferSize = input.maxBufferSize ?? defaults.maxBufferSize
          const minSamples = input.minSamples ?? Math.min(batchSize, 10)
          const issues: Array<{ path: Array<string | number>; message: string }> = []
          if (batchSize > maxBufferSize) {
            issues.push({ path: ["batchSize"], message: `must not exceed maxBufferSize (${maxBufferSize})` })
          }
          if (minSamples > maxBufferSize) {
            issues.push({ path: ["minSamples"], message: `must not exceed maxBufferSize (${maxBufferSize})` })
          }
          if (issues.length > 0) {
            return yield* Effect.fail(invalid("pipeline", issues))
          }
          const pipeline: Pipeline = {
            id: input.id ?? `pipe-${Date.parse(at).toString(36)}-${Math.floor(Math.random() * 36 ** 6).toString(36)}`,
            name: input.name,
            baseModelId: input.modelId,
            liveModelId: input.modelId,
            kind: state.config.kind,
            strategy: input.strategy ?? defaults.strategy,
            updateFrequencySeconds: input.updateFrequencySeconds ?? 3600,
            batchSize,
            minSamples,
            maxBufferSize,
            learningRate: input.learningRate ?? null,
            holdoutShare: input.holdoutShare ?? 0.2,
            validationMetric: input.validationMetric ?? (state.config.kind === "logistic" ? "log_loss" : "rmse"),
            degradationTolerance: input.degradationTolerance ?? 0.01,
            monitorId: input.monitorId ?? null,
            adaptive: { batchSize, learningRateScale: 1, referenceMetric: null },
            driftSignal: false,
            acceptedUpdates: 0,
            rejectedUpdates: 0,
            lastUpdateAt: null,
            lastError: null,
            retryCount: 0,
            nextRetryAt: null,
            createdAt: at,
            updatedAt: at,
            revision: 1
          }
          yield* store.insert(pipeline)
          yield* store.setLiveState(pipeline.id, state)
          return pipeline
        }),
      getPipeline,
      listPipelines: () => store.list(),
      addSamples: (id, samples) =>
        Effect.gen(function*() {
          const p = yield* getPipeline(id)
          const issues = validateSamples(p, samples)
          if (issues.length > 0) return yield* Effect.fail(invalid("samples", issues))
          const at = yield* nowIso
          // Progressive validation: the live model predicts each label before any update sees it.
          const live = yield* liveLearner(p)
          const predictions = samples.map((s) => live.predict(s.features))
          const stored: Array<StoredSample> = samples.map((s) => ({
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
          const result = yield* store.addSamples(id, stored, limits, predictions)
          // A failing update never fails ingestion: it is recorded on the pipeline and retried.
          const record = yield* update(id, "samples").pipe(Effect.orElseSucceed(() => null))
          return { ...result, update: record }
        }),
      triggerUpdate: (id) => getPipeline(id).pipe(Effect.andThen(update(id, "manual"))),
      rollback: (id, toModelId) =>
        Effect.gen(function*() {
          const p = yield* getPipeline(id)
          const target = toModelId ?? (yield* registry.getModel(p.liveModelId)).parentModelId
          if (!target) {
            return yield* Effect.fail(
              invalid("rollback", [{ path: ["toModelId"], message: "the live version has no parent to roll back to" }])
            )
          }
          const state = yield* stateOfModel(target)
          yield* store.setLiveState(id, state)
          const at = yield* nowIso
          const record: UpdateRecord = {
            id: `rollback-${Date.parse(at).toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
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
            previousModelId: p.liveModelId
          }
          yield* store.appendUpdate(record)
          yield* change(id, (q) => ({ ...q, liveModelId: target }))
          return record
        }),
      listUpdates: (id) => getPipeline(id).pipe(Effect.andThen(store.updates(id))),
      getPipelineStatus: (id) =>
        Effect.gen(function*() {
          const pipeline = yield* getPipeline(id)
          const counters = yield* store.counters(id)
          const buffered = yield* store.bufferSize(id)
          const entries = yield* store.progressive(id)
          return {
            pipeline,
            counters: { ...counters, buffered },
            progressive: {
              window: entries.length,
              accuracy: pipeline.kind === "logistic" ? score("accuracy", entries) : null,
              logLoss: pipeline.kind === "logistic" ? score("log_loss", entries) : null,
              rmse: pipeline.kind === "linear" ? score("rmse", entries) : null
            },
            updates: yield* store.updates(id)
          }
        }),
      predict: (id, features) =>
        Effect.gen(function*() {
          const learner = yield* liveLearner(yield* getPipeline(id))
          return yield* Effect.try({
            try: () => features.map((f) => learner.predict(f)),
            catch: (e) =>
              invalid("features", [{
                path: [(e as { field?: string }).field ?? "features"],
                message: (e as Error).message
              }])
          })
        }),
      notifyDrift: (monitorId) =>
        Effect.gen(function*() {
          for (const p of yield* store.list()) {
            if (p.monitorId === monitorId) yield* change(p.id, (q) => ({ ...q, driftSignal: true })).pipe(Effect.ignore)
          }
        }),
      runScheduler: (owner, tickMillis = 1000) =>
        Effect.forever(Effect.gen(function*() {
          for (const p of yield* store.list().pipe(Effect.orElseSucceed(() => [] as ReadonlyArray<Pipeline>))) {
            yield* update(p.id, p.nextRetryAt !== null ? "retry" : "schedule", owner).pipe(Effect.ignore)
          }
          yield* Effect.sleep(tickMillis)
        })),
      refreshGauges
    })
  })

export const layer = (
  defaults?: OnlineLearnerDefaults
): Layer.Layer<OnlineLearner, never, PipelineStore | ModelRegistry | MetricsSink | Leases> =>
  Layer.effect(OnlineLearner, make(defaults))
