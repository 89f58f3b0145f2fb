/**
 * Use case: A/B tests between registry models, orchestration only. Creation checks variants
 * against the registry; assignment is GrowthBook-compatible hashing with optional sticky storage
 * (set if absent, so instances agree; falling back to the hash when storage fails); metrics fold
 * into mergeable summaries; results and the decision come from Results.ts, bandit weights from
 * Bandit.ts. Changes are read-change-commit on a revision, retried while another instance wins.
 */
import { Clock, Context, Effect, Layer, Option, Random, Result } from "effect"
import type { Attribution } from "../registry/AuditEvent.js"
import { ModelNotFoundError } from "../registry/Errors.js"
import { ModelRegistry } from "../registry/ModelRegistry.js"
import { type FieldIssue, type StorageError, ValidationError } from "../shared/Errors.js"
import { cappedNames, MetricsSink, seriesKey } from "../shared/MetricsSink.js"
import { retryOnStaleRevision } from "../shared/Retry.js"
import { type KeyedStorageGauges, makeKeyedStorageGauges } from "../shared/StorageGauges.js"
import { emptySummary, mergeSummaries, type Summary } from "../stats/Summary.js"
import { currentWeights } from "./Assignment.js"
import { nextBanditWeights } from "./Bandit.js"
import type { Condition } from "./Conditions.js"
import {
  batchDimensionIssues,
  dimensionExposureUpdates,
  dimensionMetricUpdates,
  type DimensionResults,
  dimensionResults
} from "./Dimensions.js"
import { ExperimentConflictError, ExperimentNotFoundError, ExperimentStateError } from "./Errors.js"
import {
  type Assignment,
  type CreateExperimentInput,
  type Experiment,
  type ExperimentStatus,
  MAX_SETTING_CHANGES,
  newExperiment,
  type SettingChange,
  type Variant
} from "./Experiment.js"
import {
  type AssignmentPlan,
  type ExperimentCounters,
  ExperimentStore,
  exposureDayOf,
  type MetricUpdate,
  type PlannedWrites
} from "./ExperimentStore.js"
import { featureKeyHolder, featureKeyOf } from "./GrowthBookPayload.js"
import { GuardrailAlerts, type GuardrailAlertsShape } from "./GuardrailAlerts.js"
import { invalidInput } from "./Issues.js"
import { promotionSteps } from "./Promotion.js"
import { countExposures, type Exposure, type Observation, summarizeObservations, userIdIssue } from "./Recording.js"
import type { Attributes } from "./Requests.js"
import type { ModelAssignment } from "./Responses.js"
import {
  computeResults,
  defaultSrmThreshold,
  type ExperimentResults,
  metricOf,
  sequentialLooks,
  sequentialMinimumLookup
} from "./Results.js"
import { rampStepsTaken, rolloutChange, rolloutIssues, SYSTEM_ACTOR } from "./SafeRollout.js"
import { aliasTargetAt, historyRetention, servedByExperiment, type ServedModel, type ServedSource } from "./Served.js"
import { keepsStickyVariant, makeTargetedAssigner, type Targeted } from "./Targeting.js"
import { controlIndex, resplitTraffic, validateVariants } from "./Variants.js"

// Kept importable from here, where callers found them before the pure parts moved out.
export { bucketUser, currentWeights } from "./Assignment.js"
export { applyFloor, thompsonWeights } from "./Bandit.js"
export type { ModelAssignment } from "./Responses.js"
export {
  type Comparison,
  computeResults,
  type ExperimentResults,
  type MetricSummaryView,
  msprtPValue
} from "./Results.js"

export interface AbTestSettings {
  /** Default for experiments that do not say (ML_AB_STICKY_ASSIGNMENT). */
  readonly stickyAssignment: boolean
  /** Default minimum samples per variant before any decision (ML_AB_MIN_SAMPLES). */
  readonly minSamplesPerVariant: number
  /** SRM is flagged below this p-value. */
  readonly srmThreshold: number
}

export const defaultAbTestSettings: AbTestSettings = {
  stickyAssignment: true,
  minSamplesPerVariant: 1000,
  srmThreshold: defaultSrmThreshold
}

type AbError = ExperimentNotFoundError | ExperimentStateError | ValidationError | StorageError

export interface AbTestsShape {
  readonly createExperiment: (
    input: CreateExperimentInput,
    actor?: string,
    onBehalfOf?: string
  ) => Effect.Effect<Experiment, ExperimentConflictError | ValidationError | ModelNotFoundError | StorageError>
  readonly getExperiment: (id: string) => Effect.Effect<Experiment, ExperimentNotFoundError | StorageError>
  readonly listExperiments: () => Effect.Effect<ReadonlyArray<Experiment>, StorageError>
  readonly startExperiment: (id: string, actor?: string) => Effect.Effect<Experiment, AbError>
  readonly pauseExperiment: (id: string, actor?: string) => Effect.Effect<Experiment, AbError>
  readonly completeExperiment: (
    id: string,
    options?: { readonly promoteWinner?: boolean; readonly actor?: string; readonly onBehalfOf?: string | undefined }
  ) => Effect.Effect<Experiment, AbError | ModelNotFoundError>
  /**
   * Re-splits traffic (trafficPct per variant, in variant order; recorded in trafficHistory),
   * changes the description or the feature key (a conflict when another unfinished experiment has
   * it), and/or replaces the targeting condition or the metric caps (null removes them; recorded in
   * settingChanges).
   */
  readonly updateExperiment: (
    id: string,
    change: ExperimentChange,
    actor?: string,
    onBehalfOf?: string
  ) => Effect.Effect<Experiment, AbError | ExperimentConflictError>
  /**
   * Sets the experiment gauges (active count, traffic shares, metric means) from storage; the
   * full rebuild is reused for `GaugeMaxAge`, and in between only experiments changed through this
   * instance are read again.
   */
  readonly refreshGauges: () => Effect.Effect<void, StorageError>
  /** One user; `attributes` are read by the experiment's condition and hash attribute. */
  readonly getModelAssignment: (
    id: string,
    userId: string,
    attributes?: Attributes
  ) => Effect.Effect<ModelAssignment, ExperimentNotFoundError | ValidationError | StorageError>
  readonly getModelAssignments: (
    id: string,
    userIds: ReadonlyArray<string>,
    attributesByUser?: Readonly<Record<string, Attributes>>
  ) => Effect.Effect<ReadonlyArray<ModelAssignment>, ExperimentNotFoundError | ValidationError | StorageError>
  readonly recordMetrics: (id: string, observations: ReadonlyArray<Observation>) => Effect.Effect<void, AbError>
  /** Exposures counted elsewhere (the SDK's local evaluation), per model. */
  readonly recordExposures: (id: string, exposures: ReadonlyArray<Exposure>) => Effect.Effect<void, AbError>
  readonly getExperimentResults: (
    id: string
  ) => Effect.Effect<ExperimentResults, ExperimentNotFoundError | StorageError>
  /** Thompson-sampling reweighting of a bandit experiment (no-op during burn-in). */
  readonly reweight: (id: string) => Effect.Effect<Experiment, AbError>
  /**
   * One look of the safe rollout (SafeRollout.ts): a guardrail significantly worse pauses the
   * experiment (audited as `system`, alerted through GuardrailAlerts when provided); otherwise a
   * due ramp step widens the coverage. Also done by every results look. Answers the experiment.
   */
  readonly checkSafeRollout: (id: string) => Effect.Effect<Experiment, ExperimentNotFoundError | StorageError>
  /** Results per value of a dimension, adjusted across the breakdown (Dimensions.ts). */
  readonly getDimensionResults: (
    id: string,
    dimension: string
  ) => Effect.Effect<DimensionResults, ExperimentNotFoundError | StorageError>
  /** checkSafeRollout for every running experiment with guardrails or a ramp; answers how many changed. */
  readonly checkSafeRollouts: () => Effect.Effect<number, StorageError>
  /**
   * What served a user at a past instant (Served.ts): through an experiment (its definition
   * history, the user's sticky assignment and attributes) or a name's alias (its audit events).
   */
  readonly getServed: (
    query: ServedQuery
  ) => Effect.Effect<ServedModel, ExperimentNotFoundError | ModelNotFoundError | ValidationError | StorageError>
}

/** What GET /v1/served asks: a user and an instant, with an experiment or a name and alias. */
export interface ServedQuery {
  readonly userId: string
  /** An ISO instant. */
  readonly at: string
  readonly experimentId?: string | undefined
  readonly model?: string | undefined
  /** The alias of `model` (default production). */
  readonly alias?: string | undefined
  readonly attributes?: Attributes | undefined
}

export class AbTests extends Context.Service<AbTests, AbTestsShape>()("@org/ml-core/AbTests") {}

const nowIso = Clock.currentTimeMillis.pipe(Effect.map((ms) => new Date(ms).toISOString()))

/** `exp-<creation time, base 36>-<6 random base-36 digits>`; the digits come from Effect's Random. */
const generatedId = (at: string) =>
  Random.nextIntBetween(0, 36 ** 6, { halfOpen: true }).pipe(
    Effect.map((n) => `exp-${Date.parse(at).toString(36)}-${n.toString(36)}`)
  )

const stateError = (experiment: Experiment, message: string) =>
  new ExperimentStateError({ experimentId: experiment.id, experimentStatus: experiment.status, message })

const checkUserId = (userId: string, path: ReadonlyArray<string | number>) => {
  const issue = userIdIssue(userId)
  return issue === undefined
    ? Effect.void
    : Effect.fail(new ValidationError({ message: `userId ${issue}`, issues: [{ path, message: issue }] }))
}

/** While an experiment is not running everyone gets its declared winner (after completion) or the control. */
const whenNotRunning = (experiment: Experiment, userId: string): ModelAssignment => {
  const winner = experiment.decision?.winnerModelId
  const index = winner ? experiment.variants.findIndex((v) => v.modelId === winner) : controlIndex(experiment)
  return notInExperiment(experiment, userId, index)
}

const notInExperiment = (experiment: Experiment, userId: string, variant: number): ModelAssignment => ({
  experimentId: experiment.id,
  userId,
  variant,
  modelId: experiment.variants[variant]!.modelId,
  inExperiment: false,
  sticky: false
})

const inExperiment = (
  experiment: Experiment,
  userId: string,
  variant: number,
  modelId: string,
  sticky: boolean
): ModelAssignment => ({
  experimentId: experiment.id,
  userId,
  variant,
  modelId,
  inExperiment: true,
  sticky
})

/** What the use case works with: its ports and settings. */
interface Ports {
  readonly store: ExperimentStore["Service"]
  readonly registry: ModelRegistry["Service"]
  readonly metricsSink: MetricsSink["Service"]
  readonly settings: AbTestSettings
  /** The experiment gauges, rebuilt from storage at scrape time; a change made here marks its experiment. */
  readonly gauges: KeyedStorageGauges<StorageError>
  /** Where guardrail pauses are announced, when the runtime provides it. */
  readonly guardrailAlerts: Option.Option<GuardrailAlertsShape>
}

const notFound = (id: string) =>
  new ExperimentNotFoundError({ experimentId: id, message: `Experiment ${id} does not exist` })

const load = ({ store }: Ports, id: string) =>
  store.get(id).pipe(Effect.flatMap((e) => (e
    ? Effect.succeed(e)
    : Effect.fail(notFound(id)))
  ))

/**
 * Read, change, compare-and-set; retried on fresh state while another instance wins the race. A
 * committed change marks its experiment's gauges stale (O(1)): status and traffic are what they show.
 */
const update = (
  ports: Ports,
  id: string,
  change: (e: Experiment, at: string) => Effect.Effect<Experiment, AbError>
) =>
  retryOnStaleRevision(
    Effect.gen(function*() {
      const current = yield* load(ports, id)
      const at = yield* nowIso
      const next = { ...(yield* change(current, at)), updatedAt: at, revision: current.revision + 1 }
      yield* ports.store.commit(next, current.revision)
      yield* ports.gauges.changed(id)
      return next
    }),
    50
  )

/**
 * Fails when another draft, running or paused experiment already has `featureKey` (GrowthBook
 * SDKs would see one feature for both). Read before the write: two instances racing for one key
 * can both win, and the payload then serves one of them, the same one everywhere.
 */
const checkFeatureKeyFree = ({ store }: Ports, id: string, featureKey: string) =>
  store.list().pipe(Effect.flatMap((experiments) => {
    const holder = featureKeyHolder(experiments, featureKey, id)
    return holder === undefined ? Effect.void : Effect.fail(
      new ExperimentConflictError({
        experimentId: id,
        featureKey,
        message:
          `featureKey ${featureKey} is the feature key of experiment ${holder.id} (${holder.status}); feature keys ` +
          "must be unique among draft, running and paused experiments"
      })
    )
  }))

/**
 * Which metric names of an experiment keep their own series first: the declared ones (target
 * metric, goals), then the most observed, then by name, so the choice is stable between scrapes.
 */
const rankedMetricNames = (
  experiment: Experiment,
  variants: ReadonlyArray<Readonly<Record<string, Summary>>>
): Array<string> => {
  const counts = new Map<string, number>()
  for (const metrics of variants) {
    for (const [metric, summary] of Object.entries(metrics)) {
      counts.set(metric, (counts.get(metric) ?? 0) + summary.count)
    }
  }
  const declared = Object.keys(experiment.metricGoals)
  const observed = [...counts.keys()].filter((m) => !Object.hasOwn(experiment.metricGoals, m))
    .sort((a, b) => counts.get(b)! - counts.get(a)! || (a < b ? -1 : a > b ? 1 : 0))
  return [...declared, ...observed]
}

/** How many experiments' counters a gauge rebuild reads at once. */
const gaugeReadsInFlight = 16

type Series = ReadonlyArray<readonly [Record<string, string>, number]>

/** The gauge series of one running experiment: its traffic share per variant and its metric means. */
interface ExperimentSeries {
  readonly traffic: Series
  readonly means: Series
}

const experimentSeries = (e: Experiment, counters: ExperimentCounters): ExperimentSeries => {
  const means: Array<[Record<string, string>, number]> = []
  const labelOf = cappedNames(rankedMetricNames(e, counters.variants.map((v) => v.metrics)))
  counters.variants.forEach((v, i) => {
    // Names beyond the cap share one series: the mean over all their values (summaries merge).
    const byLabel = new Map<string, Summary>()
    for (const [metric, summary] of Object.entries(v.metrics)) {
      const label = labelOf(metric)
      byLabel.set(label, mergeSummaries(byLabel.get(label) ?? emptySummary, summary))
    }
    for (const [label, summary] of byLabel) {
      means.push([{ experiment_id: e.id, model_id: e.variants[i]!.modelId, metric_name: label }, summary.mean])
    }
  })
  const weights = currentWeights(e)
  const traffic = e.variants.map((v, i) => [{ experiment_id: e.id, model_id: v.modelId }, weights[i]!] as const)
  return { traffic, means }
}

/**
 * The experiment gauges (active count, traffic share per running variant, metric means), kept per
 * experiment: a full rebuild reads every running experiment and its counters (once per
 * `GaugeMaxAge`, at scrape time, never in a lifecycle call); a change made through this instance
 * re-reads only its own experiment at the next scrape, so that scrape is O(changed), not O(stored).
 */
const makeExperimentGauges = ({ metricsSink, store }: Pick<Ports, "metricsSink" | "store">) => {
  const shown = new Map<string, ExperimentSeries>()
  const show = (id: string, next: ExperimentSeries | undefined) =>
    Effect.gen(function*() {
      const before = shown.get(id)
      const kept = (series: Series) => new Set(series.map(([labels]) => seriesKey("", labels)))
      const keptTraffic = kept(next?.traffic ?? [])
      const keptMeans = kept(next?.means ?? [])
      for (const [labels] of before?.traffic ?? []) {
        if (!keptTraffic.has(seriesKey("", labels))) yield* metricsSink.remove("ml_experiment_traffic", labels)
      }
      for (const [labels] of before?.means ?? []) {
        if (!keptMeans.has(seriesKey("", labels))) yield* metricsSink.remove("ml_experiment_metric", labels)
      }
      for (const [labels, value] of next?.traffic ?? []) yield* metricsSink.set("ml_experiment_traffic", labels, value)
      for (const [labels, value] of next?.means ?? []) yield* metricsSink.set("ml_experiment_metric", labels, value)
      if (next === undefined) shown.delete(id)
      else shown.set(id, next)
    })
  const rebuild = Effect.gen(function*() {
    const running = (yield* store.list()).filter((e) => e.status === "running")
    // Several reads in flight: on Redis each is a round trip, and 10,000 in a row outlast a scrape.
    const countersOf = yield* Effect.forEach(running, (e) => store.counters(e.id, e.variants.length), {
      concurrency: gaugeReadsInFlight
    })
    shown.clear()
    running.forEach((e, i) => shown.set(e.id, experimentSeries(e, countersOf[i]!)))
    const all = [...shown.values()]
    yield* metricsSink.set("ml_experiment_active_total", {}, shown.size)
    yield* metricsSink.replace("ml_experiment_traffic", all.flatMap((s) => s.traffic))
    yield* metricsSink.replace("ml_experiment_metric", all.flatMap((s) => s.means))
  })
  const refreshKeys = (ids: ReadonlyArray<string>) =>
    Effect.gen(function*() {
      const read = yield* Effect.forEach(ids, (id) =>
        store.get(id).pipe(Effect.flatMap((e) =>
          e?.status === "running"
            ? Effect.map(store.counters(e.id, e.variants.length), (counters) => experimentSeries(e, counters))
            : Effect.succeed(undefined)
        )), { concurrency: gaugeReadsInFlight })
      for (const [i, id] of ids.entries()) yield* show(id, read[i])
      yield* metricsSink.set("ml_experiment_active_total", {}, shown.size)
    })
  return makeKeyedStorageGauges({ rebuild, refreshKeys })
}

/** A status change allowed only from `from`. */
const transition = (
  ports: Ports,
  id: string,
  from: ReadonlyArray<ExperimentStatus>,
  to: ExperimentStatus,
  extra: (e: Experiment, at: string) => Partial<Experiment> = () => ({})
) =>
  update(ports, id, (e, at) =>
    from.includes(e.status)
      ? Effect.succeed({ ...e, status: to, ...extra(e, at) })
      : Effect.fail(stateError(e, `Experiment ${id} is ${e.status}; it cannot become ${to}`)))

/** Variants whose model is not in the registry, or archived. */
const registryIssues = ({ registry }: Ports, variants: ReadonlyArray<Variant>) =>
  Effect.forEach(variants, (variant, i) =>
    registry.getModel(variant.modelId).pipe(
      Effect.catchTag("ModelNotFoundError", () => Effect.succeed(undefined)),
      Effect.map((model): Array<FieldIssue> =>
        !model
          ? [{ path: ["variants", i, "modelId"], message: `model ${variant.modelId} is not in the registry` }]
          : model.status === "archived"
          ? [{ path: ["variants", i, "modelId"], message: `model ${variant.modelId} is archived` }]
          : []
      )
    )).pipe(Effect.map((issues) => issues.flat()))

/** Promotes the winner step by step to production; a refused step names the experiment. */
const promoteWinner = ({ registry }: Ports, id: string, winner: string, by: Attribution) =>
  Effect.gen(function*() {
    const model = yield* registry.getModel(winner)
    for (const status of promotionSteps(model.status)) {
      yield* registry.promoteModel(winner, status, { reason: `winner of experiment ${id}`, ...by }).pipe(
        Effect.mapError((e) =>
          new ExperimentStateError({
            experimentId: id,
            experimentStatus: "completed",
            message: `Completed, but promoting ${winner} failed: ${e.message}`
          })
        )
      )
    }
  })

/**
 * Results and the decision. Every computation is a look (the results endpoint, completing the
 * experiment, which decides the promotion): for a sequential experiment it lowers the stored
 * running minima of the always-valid p-values with this look's 1 / Λ, and the results report
 * those minima, so a p-value never rises again and a declared winner cannot revert.
 */
const results = (ports: Ports, id: string) =>
  Effect.gen(function*() {
    const experiment = yield* load(ports, id)
    const [counters, exposuresByDay] = yield* Effect.all([
      ports.store.counters(id, experiment.variants.length),
      ports.store.exposuresByDay(id, experiment.variants.length)
    ])
    const now = computeResults(experiment, counters.variants, ports.settings, exposuresByDay)
    const looks = experiment.sequential ? sequentialLooks(experiment, now) : []
    if (looks.length === 0) return now
    const minima = yield* ports.store.lowerSequentialPValues(id, looks)
    return computeResults(
      experiment,
      counters.variants,
      ports.settings,
      exposuresByDay,
      sequentialMinimumLookup(minima)
    )
  })

/**
 * One look of the safe rollout: the change is computed from the experiment as read and committed
 * on its revision, so among instances looking at once exactly one commits it (and alerts); the
 * others see the stale revision and look again at the new state.
 */
const checkRollout = (ports: Ports, id: string) =>
  retryOnStaleRevision(
    Effect.gen(function*() {
      const experiment = yield* load(ports, id)
      const watched = experiment.guardrails !== undefined || experiment.ramp !== undefined
      if (experiment.status !== "running" || !watched) return experiment
      const counters = yield* ports.store.counters(id, experiment.variants.length)
      const now = yield* Clock.currentTimeMillis
      const change = rolloutChange(experiment, counters.variants, now)
      if (change._tag === "Hold") return experiment
      const at = new Date(now).toISOString()
      const history = experiment.rolloutHistory ?? []
      const next: Experiment = change._tag === "Pause"
        ? {
          ...experiment,
          status: "paused",
          pausedByGuardrail: change.pause,
          rolloutHistory: [...history, {
            at,
            actor: SYSTEM_ACTOR,
            action: "guardrail_paused",
            reason: change.pause.reason
          }]
        }
        : {
          ...experiment,
          coverage: change.coverage,
          rolloutHistory: [...history, {
            at,
            actor: SYSTEM_ACTOR,
            action: "ramp_advanced",
            coverage: change.coverage,
            reason: `guardrails hold: step ${rampStepsTaken(experiment) + 2} of ${experiment.ramp!.steps.length}`
          }]
        }
      const committed = { ...next, updatedAt: at, revision: experiment.revision + 1 }
      yield* ports.store.commit(committed, experiment.revision)
      yield* ports.gauges.changed(committed.id)
      if (change._tag === "Pause" && Option.isSome(ports.guardrailAlerts)) {
        yield* ports.guardrailAlerts.value.paused(committed, change.pause)
      }
      return committed
    }),
    50
  )

/** Creating, reading, changing and ending experiments. */
const lifecycleMethods = (ports: Ports) => ({
  createExperiment: Effect.fn("AbTests.createExperiment")(
    function*(input: CreateExperimentInput, actor: string = "anonymous", onBehalfOf?: string) {
      const issues = [
        ...validateVariants(input.variants),
        ...rolloutIssues(input),
        ...(yield* registryIssues(ports, input.variants))
      ]
      if (issues.length > 0) return yield* Effect.fail(invalidInput("experiment", issues))
      const at = yield* nowIso
      const id = input.id ?? (yield* generatedId(at))
      const experiment = newExperiment(input, { id, at, actor, onBehalfOf, defaults: ports.settings })
      // A generated id is no other experiment's feature key: only a chosen id or key costs the list.
      if (input.id !== undefined || input.featureKey !== undefined) {
        yield* checkFeatureKeyFree(ports, id, featureKeyOf(experiment))
      }
      yield* ports.store.insert(experiment)
      return experiment
    }
  ),
  getExperiment: Effect.fn("AbTests.getExperiment")(function*(id: string) {
    return yield* load(ports, id)
  }),
  listExperiments: Effect.fn("AbTests.listExperiments")(function*() {
    return yield* ports.store.list()
  }),
  startExperiment: Effect.fn("AbTests.startExperiment")(function*(id: string, actor: string = "anonymous") {
    return yield* update(ports, id, (e, at) => {
      if (e.status !== "draft" && e.status !== "paused") {
        return Effect.fail(stateError(e, `Experiment ${id} is ${e.status}; it cannot become running`))
      }
      // Starting again resumes after a guardrail pause; the first start begins the ramp at its first step.
      const { pausedByGuardrail: _resumed, ...rest } = e
      const rampStarts = e.ramp !== undefined && e.startedAt === null
      return Effect.succeed({
        ...rest,
        status: "running" as const,
        startedAt: e.startedAt ?? at,
        ...(rampStarts
          ? {
            coverage: e.ramp!.steps[0]!,
            rolloutHistory: [...(e.rolloutHistory ?? []), {
              at,
              actor,
              action: "ramp_started" as const,
              coverage: e.ramp!.steps[0]!,
              reason: `ramp of ${e.ramp!.steps.length} steps, every ${e.ramp!.intervalMinutes} minutes`
            }]
          }
          : {})
      })
    })
  }),
  pauseExperiment: Effect.fn("AbTests.pauseExperiment")(function*(id: string) {
    return yield* transition(ports, id, ["running"], "paused")
  }),
  completeExperiment: Effect.fn("AbTests.completeExperiment")(
    function*(
      id: string,
      options: { readonly promoteWinner?: boolean; readonly actor?: string; readonly onBehalfOf?: string | undefined } =
        {}
    ) {
      const { decision } = yield* results(ports, id)
      const completed = yield* transition(ports, id, ["running", "paused"], "completed", (_e, at) => ({
        completedAt: at,
        decision
      }))
      const winner = decision.winnerModelId
      if (options.promoteWinner && winner) {
        yield* promoteWinner(ports, id, winner, {
          actor: options.actor ?? `experiment:${id}`,
          onBehalfOf: options.onBehalfOf
        })
      }
      return completed
    }
  ),
  updateExperiment: Effect.fn("AbTests.updateExperiment")(function*(
    id: string,
    change: ExperimentChange,
    actor: string = "anonymous",
    onBehalfOf?: string
  ) {
    const { description, featureKey, trafficPct } = change
    if (featureKey !== undefined) yield* checkFeatureKeyFree(ports, id, featureKey)
    const renamed = featureKey === undefined ? {} : { featureKey }
    return yield* update(ports, id, (e, at) => {
      if (e.status === "completed") return Effect.fail(stateError(e, `Experiment ${id} is completed`))
      const changed = { ...withSettings(e, change, { at, actor, ...(onBehalfOf ? { onBehalfOf } : {}) }), ...renamed }
      if (trafficPct === undefined) return Effect.succeed({ ...changed, description: description ?? e.description })
      return Effect.fromResult(resplitTraffic(e.variants, trafficPct)).pipe(Effect.map((variants) => ({
        ...changed,
        variants,
        description: description ?? e.description,
        trafficHistory: [...e.trafficHistory, { at, actor, ...(onBehalfOf ? { onBehalfOf } : {}), trafficPct }]
      })))
    })
  })
})

/** What PATCH may change on an experiment that has not completed. */
export interface ExperimentChange {
  readonly trafficPct?: ReadonlyArray<number> | undefined
  readonly description?: string | undefined
  /** The GrowthBook feature key (unique among unfinished experiments). */
  readonly featureKey?: string | undefined
  /** A new condition; null removes it. */
  readonly condition?: Condition | null | undefined
  /** New caps replacing every cap; null removes them. */
  readonly metricCaps?: Experiment["metricCaps"] | null | undefined
}

/**
 * The experiment with the change's condition and caps (null removes a field), and the change
 * recorded in settingChanges (the newest MAX_SETTING_CHANGES kept); unchanged without either.
 */
const withSettings = (
  e: Experiment,
  { condition, metricCaps }: ExperimentChange,
  who: { readonly at: string; readonly actor: string; readonly onBehalfOf?: string }
): Experiment => {
  if (condition === undefined && metricCaps === undefined) return e
  const { condition: _condition, metricCaps: _caps, ...rest } = e
  const entry: SettingChange = {
    ...who,
    ...(condition === undefined ? {} : { condition }),
    ...(metricCaps === undefined ? {} : { metricCaps })
  }
  const keptCondition = condition === undefined ? e.condition : condition ?? undefined
  const keptCaps = metricCaps === undefined ? e.metricCaps : metricCaps ?? undefined
  return {
    ...rest,
    ...(keptCondition === undefined ? {} : { condition: keptCondition }),
    ...(keptCaps === undefined ? {} : { metricCaps: keptCaps }),
    settingChanges: [...(e.settingChanges ?? []), entry].slice(-MAX_SETTING_CHANGES)
  }
}

/** Today in UTC, the day exposures are counted on (traffic over time). */
const today = Clock.currentTimeMillis.pipe(Effect.map(exposureDayOf))

const countExposure = ({ store }: Ports, experiment: Experiment, index: number) => {
  const counts = experiment.variants.map((_, i) => (i === index ? 1 : 0))
  return today.pipe(Effect.flatMap((day) => store.addExposures(experiment.id, counts, day)), Effect.ignore)
}

/**
 * The hot path: one user of one experiment. Sticky experiments return the user's stored
 * assignment, even when the targeting or coverage would now leave them out (keepsStickyVariant),
 * or store the hashed one (set if absent: the first writer wins everywhere); an exposure is
 * counted once per new assignment. A user the targeting leaves out (hash attribute missing,
 * holdout, namespace, condition) without a stored assignment gets the control and writes nothing.
 * Storage failures fall back to the deterministic hash.
 */
const assignmentFor = (
  ports: Ports,
  experiment: Experiment,
  userId: string,
  attributes: Attributes | undefined
): Effect.Effect<ModelAssignment> =>
  Effect.gen(function*() {
    if (experiment.status !== "running") return whenNotRunning(experiment, userId)
    const targeted = assignerOf(experiment)(userId, attributes)
    if (experiment.stickyAssignment && keepsStickyVariant(targeted)) {
      const existing = yield* Effect.option(ports.store.getAssignment(experiment.id, userId))
      if (existing._tag === "Some" && existing.value) {
        return inExperiment(experiment, userId, existing.value.variant, existing.value.modelId, true)
      }
    }
    if (typeof targeted === "string") return notInExperiment(experiment, userId, controlIndex(experiment))
    const index = targeted
    const modelId = experiment.variants[index]!.modelId
    if (!experiment.stickyAssignment) {
      yield* countExposure(ports, experiment, index)
      return inExperiment(experiment, userId, index, modelId, false)
    }
    const at = yield* nowIso
    const stored = yield* Effect.result(
      ports.store.assignIfAbsent(
        { experimentId: experiment.id, userId, variant: index, modelId, at } satisfies Assignment
      )
    )
    // Storage is down: serve the deterministic hash rather than failing the request.
    if (stored._tag === "Failure") return inExperiment(experiment, userId, index, modelId, false)
    if (stored.success.created) yield* countExposure(ports, experiment, index)
    const { assignment } = stored.success
    return inExperiment(experiment, userId, assignment.variant, assignment.modelId, true)
  })

const nothingToWrite: AssignmentPlan = { _tag: "Nothing" }

/** The attributes a request sent for a user, if any. */
type AttributesOf = (userId: string) => Attributes | undefined
const noAttributes: AttributesOf = () => undefined

/**
 * What assigning a user writes, from the definition it is written against: nothing while the
 * experiment is not running or for a user the targeting or coverage leaves out (of a sticky
 * experiment: a read of their kept assignment), an exposure when it is not sticky, the hashed
 * assignment (set if absent) when it is. The condition and hash
 * ranges are compiled once per definition.
 */
const assignmentPlan =
  (at: string, attributesOf: AttributesOf) => (experiment: Experiment): (userId: string) => AssignmentPlan => {
    if (experiment.status !== "running") return () => nothingToWrite
    const target = assignerOf(experiment)
    return (userId) => {
      const variant = target(userId, attributesOf(userId))
      if (typeof variant === "string") {
        return experiment.stickyAssignment && keepsStickyVariant(variant) ? { _tag: "Keep", userId } : nothingToWrite
      }
      if (!experiment.stickyAssignment) return { _tag: "Count", variant }
      const modelId = experiment.variants[variant]!.modelId
      return { _tag: "Stick", assignment: { experimentId: experiment.id, userId, variant, modelId, at } }
    }
  }

/**
 * The targeting of each definition a store hands out (compiled condition, hash ranges), built on
 * its first assignment: a store that keeps its decoded definition (Redis, files) hands the same
 * object to every request until the experiment changes. Definitions are immutable, so it stays right.
 */
const assigners = new WeakMap<Experiment, (userId: string, attributes?: Attributes) => Targeted>()
const assignerOf = (experiment: Experiment): (userId: string, attributes?: Attributes) => Targeted => {
  let assigner = assigners.get(experiment)
  if (assigner === undefined) {
    assigner = makeTargetedAssigner(experiment)
    assigners.set(experiment, assigner)
  }
  return assigner
}

/** The hot path in one storage step per request (the store's PlannedWrites), answered like assignmentFor. */
const assignPlanned = (
  planned: PlannedWrites,
  id: string,
  userIds: ReadonlyArray<string>,
  attributesOf: AttributesOf
) =>
  Effect.flatMap(
    Clock.currentTimeMillis,
    (now) =>
      planned.assignPlanned(id, userIds, assignmentPlan(new Date(now).toISOString(), attributesOf), exposureDayOf(now))
  ).pipe(Effect.flatMap((done) => {
    if (done === undefined) return Effect.fail(notFound(id))
    const { experiment, outcomes } = done
    return Effect.succeed(outcomes.map(({ plan, stored }, i): ModelAssignment => {
      const userId = userIds[i]!
      if (plan._tag === "Count") {
        return inExperiment(experiment, userId, plan.variant, experiment.variants[plan.variant]!.modelId, false)
      }
      if (plan._tag === "Stick" || (plan._tag === "Keep" && stored !== undefined)) {
        return inExperiment(experiment, userId, stored!.variant, stored!.modelId, true)
      }
      return experiment.status === "running"
        ? notInExperiment(experiment, userId, controlIndex(experiment))
        : whenNotRunning(experiment, userId)
    }))
  }))

/** The breakdown summaries of a batch already merged overall (nothing when it carries no dimensions). */
const mergeDimensions = (ports: Ports, experiment: Experiment, observations: ReadonlyArray<Observation>) => {
  const updates = dimensionMetricUpdates(experiment, observations)
  return updates.length === 0 ? Effect.void : ports.store.mergeDimensionMetrics(experiment.id, updates)
}

const addDimensionExposures = (ports: Ports, experiment: Experiment, exposures: ReadonlyArray<Exposure>) => {
  const updates = dimensionExposureUpdates(experiment, exposures)
  return updates.length === 0 ? Effect.void : ports.store.addDimensionExposures(experiment.id, updates)
}

/** The summaries a batch of observations merges, or why it is refused (bad entries, an experiment not started). */
const metricUpdatesFor = (
  experiment: Experiment,
  observations: ReadonlyArray<Observation>
): Result.Result<ReadonlyArray<MetricUpdate>, ValidationError | ExperimentStateError> => {
  const updates = summarizeObservations(experiment, observations)
  if (Result.isFailure(updates) || experiment.status !== "draft") return updates
  return Result.fail(stateError(experiment, `Experiment ${experiment.id} has not started`))
}

/**
 * Assigning users, recording what they did, and what it shows. The per-request methods (assign,
 * record metrics and exposures) are untraced: a span and the call-site stack of Effect.fn cost
 * about 5 µs per call (in process, `Effect.fn` against `Effect.fnUntraced`), a few percent of a
 * request on Redis, and no tracer reads them.
 */
const measurementMethods = (ports: Ports) => ({
  getModelAssignment: Effect.fnUntraced(function*(id: string, userId: string, attributes?: Attributes) {
    yield* checkUserId(userId, ["userId"])
    const { planned } = ports.store
    if (planned !== undefined) {
      return (yield* assignPlanned(planned, id, [userId], attributes === undefined ? noAttributes : () => attributes))[
        0
      ]!
    }
    return yield* assignmentFor(ports, yield* load(ports, id), userId, attributes)
  }),
  getModelAssignments: Effect.fnUntraced(
    function*(id: string, userIds: ReadonlyArray<string>, attributesByUser?: Readonly<Record<string, Attributes>>) {
      for (const [i, u] of userIds.entries()) yield* checkUserId(u, ["userIds", i])
      const attributesOf: AttributesOf = attributesByUser === undefined
        ? noAttributes
        : (userId) => (Object.hasOwn(attributesByUser, userId) ? attributesByUser[userId] : undefined)
      const { planned } = ports.store
      if (planned !== undefined) return yield* assignPlanned(planned, id, userIds, attributesOf)
      const experiment = yield* load(ports, id)
      return yield* Effect.forEach(userIds, (u) => assignmentFor(ports, experiment, u, attributesOf(u)), {
        concurrency: 16
      })
    }
  ),
  recordMetrics: Effect.fnUntraced(function*(id: string, observations: ReadonlyArray<Observation>) {
    // Dimensions are checked before anything is stored, so a refused batch stores nothing.
    yield* Effect.fromResult(batchDimensionIssues("metrics", observations))
    const { planned } = ports.store
    if (planned !== undefined) {
      const found = yield* planned.mergeMetricsPlanned(id, (experiment) => metricUpdatesFor(experiment, observations))
      if (found === undefined) return yield* Effect.fail(notFound(id))
      yield* mergeDimensions(ports, found, observations)
      return
    }
    const experiment = yield* load(ports, id)
    const updates = yield* Effect.fromResult(metricUpdatesFor(experiment, observations))
    yield* ports.store.mergeMetrics(id, updates)
    yield* mergeDimensions(ports, experiment, observations)
  }),
  recordExposures: Effect.fnUntraced(function*(id: string, exposures: ReadonlyArray<Exposure>) {
    yield* Effect.fromResult(batchDimensionIssues("exposures", exposures))
    const { planned } = ports.store
    if (planned !== undefined) {
      const plan = (experiment: Experiment) => countExposures(experiment, exposures)
      const found = yield* planned.addExposuresPlanned(id, plan, yield* today)
      if (found === undefined) return yield* Effect.fail(notFound(id))
      yield* addDimensionExposures(ports, found, exposures)
      return
    }
    const experiment = yield* load(ports, id)
    const counts = yield* Effect.fromResult(countExposures(experiment, exposures))
    yield* ports.store.addExposures(id, counts, yield* today)
    yield* addDimensionExposures(ports, experiment, exposures)
  }),
  getExperimentResults: Effect.fn("AbTests.getExperimentResults")(function*(id: string) {
    // Every look is a safe-rollout look too: a breached guardrail pauses before the results are read.
    yield* checkRollout(ports, id)
    return yield* results(ports, id)
  }),
  getDimensionResults: Effect.fn("AbTests.getDimensionResults")(function*(id: string, dimension: string) {
    const experiment = yield* load(ports, id)
    const slices = yield* ports.store.dimensionCounters(id, dimension, experiment.variants.length)
    return dimensionResults(experiment, dimension, slices)
  }),
  checkSafeRollout: Effect.fn("AbTests.checkSafeRollout")(function*(id: string) {
    return yield* checkRollout(ports, id)
  }),
  checkSafeRollouts: Effect.fn("AbTests.checkSafeRollouts")(function*() {
    const watched = (yield* ports.store.list()).filter((e) =>
      e.status === "running" && (e.guardrails !== undefined || e.ramp !== undefined)
    )
    const checked = yield* Effect.forEach(
      watched,
      (e) =>
        checkRollout(ports, e.id).pipe(
          Effect.map((after) => after.revision !== e.revision),
          Effect.orElseSucceed(() => false)
        ),
      { concurrency: gaugeReadsInFlight }
    )
    return checked.filter(Boolean).length
  }),
  refreshGauges: Effect.fn("AbTests.refreshGauges")(function*() {
    yield* ports.gauges.refresh
  }),
  reweight: Effect.fn("AbTests.reweight")(function*(id: string) {
    return yield* update(ports, id, (e, at) =>
      Effect.gen(function*() {
        if (e.mode !== "bandit") return yield* Effect.fail(stateError(e, `Experiment ${id} is not a bandit`))
        const counters = yield* ports.store.counters(id, e.variants.length)
        const weights = nextBanditWeights(e, counters.variants.map((v) => metricOf(v, e.targetMetric) ?? emptySummary))
        // Burn-in: the configured split stays.
        return weights === null ? e : { ...e, banditHistory: [...e.banditHistory, { at, weights }] }
      }))
  })
})

const servedRefusal = (field: string, message: string) =>
  new ValidationError({ message: `${field} ${message}`, issues: [{ path: [field], message }] })

/** The model a query's answer names, read from the registry (an answer names it by id, name and version). */
const servedAnswer = (
  { registry }: Ports,
  query: ServedQuery,
  modelId: string,
  fields: {
    readonly source: ServedSource
    readonly variant: number | null
    readonly definitionRevision: number | null
    readonly explanation: string
    readonly experimentId?: string
    readonly alias?: string
  }
) =>
  Effect.map(registry.getModel(modelId), (model): ServedModel => ({
    userId: query.userId,
    at: query.at,
    modelId,
    name: model.name,
    version: model.version,
    source: fields.source,
    ...(fields.experimentId === undefined ? {} : { experimentId: fields.experimentId }),
    variant: fields.variant,
    definitionRevision: fields.definitionRevision,
    ...(fields.alias === undefined ? {} : { alias: fields.alias }),
    explanation: fields.explanation
  }))

const servedMethods = (ports: Ports) => ({
  getServed: Effect.fn("AbTests.getServed")(function*(query: ServedQuery) {
    const atMillis = Date.parse(query.at)
    if (Number.isNaN(atMillis)) return yield* Effect.fail(servedRefusal("at", "must be an ISO 8601 instant"))
    if ((query.experimentId === undefined) === (query.model === undefined)) {
      return yield* Effect.fail(servedRefusal("experimentId", "or model must be given, and not both"))
    }
    if (query.experimentId !== undefined) {
      if (query.alias !== undefined) {
        return yield* Effect.fail(servedRefusal("alias", "goes with model, not with experimentId"))
      }
      const experiment = yield* load(ports, query.experimentId)
      const [history, sticky] = yield* Effect.all([
        ports.store.definitionHistory(experiment.id),
        experiment.stickyAssignment ? ports.store.getAssignment(experiment.id, query.userId) : Effect.undefined
      ])
      const served = servedByExperiment({
        experiment,
        history,
        atMillis,
        userId: query.userId,
        attributes: query.attributes,
        sticky
      })
      if ("_tag" in served) {
        return yield* Effect.fail(
          served._tag === "BeforeCreation"
            ? servedRefusal("at", `must not be before the experiment was created (${served.createdAt})`)
            : servedRefusal("at", `must not be before ${served.oldestAt}: ${historyRetention}`)
        )
      }
      return yield* servedAnswer(ports, query, served.modelId, { ...served, experimentId: experiment.id })
    }
    const name = query.model!
    const alias = query.alias ?? "production"
    const target = aliasTargetAt(yield* ports.registry.getNameHistory(name), alias, query.at)
    if (target === null) {
      return yield* Effect.fail(
        new ModelNotFoundError({ modelId: name, message: `No version of ${name} was ${alias} at ${query.at}` })
      )
    }
    return yield* servedAnswer(ports, query, target, {
      source: alias === "production" ? "production" : "alias",
      variant: null,
      definitionRevision: null,
      alias,
      explanation: `${name} ${alias} pointed to ${target} at ${query.at} (registry audit trail)`
    })
  })
})

export const make = (settings: AbTestSettings = defaultAbTestSettings) =>
  Effect.gen(function*() {
    const store = yield* ExperimentStore
    const metricsSink = yield* MetricsSink
    const ports: Ports = {
      store,
      registry: yield* ModelRegistry,
      metricsSink,
      settings,
      gauges: yield* makeExperimentGauges({ metricsSink, store }),
      guardrailAlerts: yield* Effect.serviceOption(GuardrailAlerts)
    }
    return AbTests.of({ ...lifecycleMethods(ports), ...measurementMethods(ports), ...servedMethods(ports) })
  })

export const layer = (
  settings: AbTestSettings = defaultAbTestSettings
): Layer.Layer<AbTests, never, ExperimentStore | ModelRegistry | MetricsSink> => Layer.effect(AbTests, make(settings))
