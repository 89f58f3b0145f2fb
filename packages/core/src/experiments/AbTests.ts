/**
 * Use case: A/B tests between registry models. Creation validates variants against the
 * registry; assignment is GrowthBook-compatible hashing with optional sticky storage (set if
 * absent, so instances agree; falling back to the hash when storage fails); metrics fold into
 * mergeable summaries; results run Welch tests with Holm adjustment, a sample-ratio-mismatch
 * check and an optional always-valid (mSPRT) p-value, and end in one documented decision.
 */
import { Clock, Context, Effect, Layer } from "effect"
import { type ModelNotFoundError } from "../registry/Errors.js"
import { ModelRegistry } from "../registry/ModelRegistry.js"
import { StaleRevisionError, StorageError, ValidationError } from "../shared/Errors.js"
import { MetricsSink } from "../shared/MetricsSink.js"
import { studentT } from "../stats/Distributions.js"
import { chiSquareGoodnessOfFit, holmBonferroni, type Interval, welchTTest } from "../stats/HypothesisTests.js"
import { makeRandom } from "../stats/Random.js"
import { addValue, emptySummary, meanDifference, type Summary, variance } from "../stats/Summary.js"
import { bucketUser, currentWeights } from "./Assignment.js"
import { type ExperimentConflictError, ExperimentNotFoundError, ExperimentStateError } from "./Errors.js"
import {
  type Assignment,
  controlIndex,
  type CreateExperimentInput,
  type Decision,
  type Experiment,
  type ExperimentStatus,
  validateVariants
} from "./Experiment.js"
import { ExperimentStore, type MetricUpdate } from "./ExperimentStore.js"

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
  srmThreshold: 0.001
}

export interface ModelAssignment {
  readonly experimentId: string
  readonly userId: string
  readonly modelId: string
  readonly variant: number
  /** False when the user is outside coverage or the experiment is not running (they get the control or winner). */
  readonly inExperiment: boolean
  /** True when the answer comes from (or was written to) sticky storage. */
  readonly sticky: boolean
}

export interface MetricSummaryView {
  readonly n: number
  readonly mean: number
  readonly sd: number | null
  readonly interval: Interval | null
}

export interface Comparison {
  readonly modelId: string
  readonly metric: string
  readonly difference: number
  readonly differenceInterval: Interval
  readonly relativeLift: number | null
  readonly relativeLiftInterval: Interval | null
  readonly pValue: number
  /** Holm-adjusted across the treatments. */
  readonly adjustedPValue: number
  /** mSPRT always-valid p-value at this look, when the experiment is sequential. */
  readonly sequentialPValue: number | null
  /** Whether the treatment is better in the metric's goal direction, significantly. */
  readonly significantlyBetter: boolean
  readonly significantlyWorse: boolean
}

export interface ExperimentResults {
  readonly experimentId: string
  readonly status: ExperimentStatus
  readonly targetMetric: string
  readonly variants: ReadonlyArray<{
    readonly modelId: string
    readonly isControl: boolean
    readonly trafficPct: number
    readonly weight: number
    readonly exposures: number
    readonly metrics: Readonly<Record<string, MetricSummaryView>>
  }>
  readonly comparisons: ReadonlyArray<Comparison>
  readonly guardrails: ReadonlyArray<Comparison>
  readonly srm: { readonly pValue: number | null; readonly detected: boolean }
  readonly banditHistory: Experiment["banditHistory"]
  readonly decision: Decision
}

type AbError = ExperimentNotFoundError | ExperimentStateError | ValidationError | StorageError

export interface AbTestsShape {
  readonly createExperiment: (
    input: CreateExperimentInput,
    actor?: string
  ) => Effect.Effect<Experiment, ExperimentConflictError | ValidationError | ModelNotFoundError | StorageError>
  readonly getExperiment: (id: string) => Effect.Effect<Experiment, ExperimentNotFoundError | StorageError>
  readonly listExperiments: () => Effect.Effect<ReadonlyArray<Experiment>, StorageError>
  readonly startExperiment: (id: string, actor?: string) => Effect.Effect<Experiment, AbError>
  readonly pauseExperiment: (id: string, actor?: string) => Effect.Effect<Experiment, AbError>
  readonly completeExperiment: (
    id: string,
    options?: { readonly promoteWinner?: boolean; readonly actor?: string }
  ) => Effect.Effect<Experiment, AbError | ModelNotFoundError>
  /** Re-splits traffic (trafficPct per variant, in variant order; recorded in trafficHistory) and/or changes the description. */
  readonly updateExperiment: (
    id: string,
    change: { readonly trafficPct?: ReadonlyArray<number> | undefined; readonly description?: string | undefined },
    actor?: string
  ) => Effect.Effect<Experiment, AbError>
  /** Sets the experiment gauges (active count, traffic shares, metric means) from storage. */
  readonly refreshGauges: () => Effect.Effect<void, StorageError>
  readonly getModelAssignment: (
    id: string,
    userId: string
  ) => Effect.Effect<ModelAssignment, ExperimentNotFoundError | ValidationError | StorageError>
  readonly getModelAssignments: (
    id: string,
    userIds: ReadonlyArray<string>
  ) => Effect.Effect<ReadonlyArray<ModelAssignment>, ExperimentNotFoundError | ValidationError | StorageError>
  readonly recordMetrics: (
    id: string,
    observations: ReadonlyArray<{ readonly modelId: string; readonly metric: string; readonly value: number }>
  ) => Effect.Effect<void, AbError>
  /** Exposures counted elsewhere (the SDK's local evaluation), per model. */
  readonly recordExposures: (
    id: string,
    exposures: ReadonlyArray<{ readonly modelId: string; readonly count: number }>
  ) => Effect.Effect<void, AbError>
  readonly getExperimentResults: (
    id: string
  ) => Effect.Effect<ExperimentResults, ExperimentNotFoundError | StorageError>
  /** Thompson-sampling reweighting of a bandit experiment (no-op during burn-in). */
  readonly reweight: (id: string) => Effect.Effect<Experiment, AbError>
}

export class AbTests extends Context.Service<AbTests, AbTestsShape>()("@org/ml-core/AbTests") {}

const nowIso = Clock.currentTimeMillis.pipe(Effect.map((ms) => new Date(ms).toISOString()))

export { bucketUser, currentWeights } from "./Assignment.js"

const BANDIT_FLOOR = 0.01
const BANDIT_DRAWS = 10_000
const BANDIT_BURN_IN = 100

/** Whether a summary can only have come from 0/1 values (then M2 = n·p·(1-p) exactly). */
const looksBinary = (s: Summary) =>
  s.min >= 0 && s.max <= 1 && Math.abs(s.m2 - s.count * s.mean * (1 - s.mean)) <= 1e-9 * Math.max(1, s.count)

/**
 * Thompson sampling: the share of posterior draws in which each arm is best (Beta(1+successes,
 * 1+failures) for 0/1 rewards, Normal(mean, var/n) otherwise), floored at 1% and renormalized.
 * Deterministic for a given seed and round.
 */
export const thompsonWeights = (summaries: ReadonlyArray<Summary>, maximize: boolean, seed: string): Array<number> => {
  const random = makeRandom(seed)
  const wins = new Array<number>(summaries.length).fill(0)
  for (let d = 0; d < BANDIT_DRAWS; d++) {
    let best = -1
    let bestValue = Number.NEGATIVE_INFINITY
    summaries.forEach((s, i) => {
      let draw: number
      if (looksBinary(s)) {
        const successes = Math.round(s.mean * s.count)
        draw = random.beta(1 + successes, 1 + s.count - successes)
      } else {
        const sd = s.count >= 2 ? Math.sqrt(variance(s) / s.count) : 1e6
        draw = random.normal(s.mean, sd > 0 ? sd : 1e-12)
      }
      const value = maximize ? draw : -draw
      if (value > bestValue) {
        bestValue = value
        best = i
      }
    })
    wins[best]!++
  }
  return applyFloor(wins.map((w) => w / BANDIT_DRAWS), BANDIT_FLOOR)
}

/** Raises every weight below `floor` to exactly `floor`, scaling the others to keep the sum 1. */
export const applyFloor = (weights: ReadonlyArray<number>, floor: number): Array<number> => {
  const floored = new Array<boolean>(weights.length).fill(false)
  for (;;) {
    const free = weights.reduce((sum, w, i) => (floored[i] ? sum : sum + w), 0)
    const remaining = 1 - floor * floored.filter(Boolean).length
    const next = weights.map((
      w,
      i
    ) => (floored[i]
      ? floor
      : free > 0
      ? (w / free) * remaining
      : remaining / weights.filter((_, j) => !floored[j]).length)
    )
    const low = next.findIndex((w, i) => !floored[i] && w < floor)
    if (low === -1) return next
    floored[low] = true
  }
}

/**
 * mSPRT always-valid p-value for a difference in means (normal mixture, Johari et al. 2017):
 * 1 / Λ with Λ = sqrt(V / (V + τ²)) · exp(τ² θ² / (2V(V + τ²))), V the variance of the estimate
 * θ, and τ² = 0.01 × the pooled per-observation variance (an effect of 0.1 standard deviation).
 */
export const msprtPValue = (difference: number, estimateVariance: number, pooledVariance: number): number => {
  if (!(estimateVariance > 0)) return difference === 0 ? 1 : 0
  const tau2 = 0.01 * pooledVariance
  const v = estimateVariance
  const logLambda = 0.5 * Math.log(v / (v + tau2)) + (tau2 * difference * difference) / (2 * v * (v + tau2))
  return Math.min(1, Math.exp(-logLambda))
}

export const make = (settings: AbTestSettings = defaultAbTestSettings) =>
  Effect.gen(function*() {
    const store = yield* ExperimentStore
    const registry = yield* ModelRegistry
    const metricsSink = yield* MetricsSink

    const getExperiment = (id: string) =>
      store.get(id).pipe(Effect.flatMap((e) => (e
        ? Effect.succeed(e)
        : Effect.fail(new ExperimentNotFoundError({ experimentId: id, message: `Experiment ${id} does not exist` })))
      ))

    /** Read, change, compare-and-set; retried when another instance won the race. */
    const update = (
      id: string,
      change: (e: Experiment, at: string) => Effect.Effect<Experiment, AbError>
    ): Effect.Effect<Experiment, AbError> => {
      const attempt = (n: number): Effect.Effect<Experiment, AbError> =>
        Effect.gen(function*() {
          const current = yield* getExperiment(id)
          const at = yield* nowIso
          const next = { ...(yield* change(current, at)), updatedAt: at, revision: current.revision + 1 }
          yield* store.commit(next, current.revision)
          return next
        }).pipe(Effect.catchIf((e): e is StaleRevisionError => e instanceof StaleRevisionError, () =>
          n > 50
            ? Effect.fail(new StorageError({ message: `Experiment ${id}: too many concurrent updates` }))
            : attempt(n + 1))) as Effect.Effect<Experiment, AbError>
      return attempt(1)
    }

    const transition = (
      id: string,
      from: ReadonlyArray<ExperimentStatus>,
      to: ExperimentStatus,
      extra: (e: Experiment, at: string) => Partial<Experiment> = () => ({})
    ) =>
      update(id, (e, at) =>
        from.includes(e.status)
          ? Effect.succeed({ ...e, status: to, ...extra(e, at) })
          : Effect.fail(
            new ExperimentStateError({
              experimentId: id,
              experimentStatus: e.status,
              message: `Experiment ${id} is ${e.status}; it cannot become ${to}`
            })
          )).pipe(Effect.tap(() => refreshActiveGauge()))

    const refreshActiveGauge = () => refreshGauges().pipe(Effect.ignore)

    /** Active count, current traffic share per running variant, and metric means, from storage. */
    const refreshGauges = () =>
      Effect.gen(function*() {
        const running = (yield* store.list()).filter((e) => e.status === "running")
        const means: Array<[Record<string, string>, number]> = []
        for (const e of running) {
          const counters = yield* store.counters(e.id, e.variants.length)
          counters.variants.forEach((v, i) => {
            for (const [metric, summary] of Object.entries(v.metrics)) {
              means.push([{ experiment_id: e.id, model_id: e.variants[i]!.modelId, metric_name: metric }, summary.mean])
            }
          })
        }
        yield* metricsSink.set("ml_experiment_active_total", {}, running.length)
        yield* metricsSink.reset("ml_experiment_traffic")
        for (const e of running) {
          const weights = currentWeights(e)
          for (const [i, v] of e.variants.entries()) {
            yield* metricsSink.set("ml_experiment_traffic", { experiment_id: e.id, model_id: v.modelId }, weights[i]!)
          }
        }
        yield* metricsSink.reset("ml_experiment_metric")
        for (const [labels, value] of means) {
          yield* metricsSink.set("ml_experiment_metric", labels, value)
        }
      })

    const createExperiment: AbTestsShape["createExperiment"] = (input, actor = "anonymous") =>
      Effect.gen(function*() {
        const issues = validateVariants(input.variants)
        for (const [i, variant] of input.variants.entries()) {
          const model = yield* registry.getModel(variant.modelId).pipe(
            Effect.catchTag("ModelNotFoundError", () => Effect.succeed(undefined))
          )
          if (!model) {
            issues.push({
              path: ["variants", i, "modelId"],
              message: `model ${variant.modelId} is not in the registry`
            })
          } else if (model.status === "archived") {
            issues.push({ path: ["variants", i, "modelId"], message: `model ${variant.modelId} is archived` })
          }
        }
        if (issues.length > 0) {
          return yield* Effect.fail(
            new ValidationError({
              message: `Invalid experiment: ${issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
              issues
            })
          )
        }
        const at = yield* nowIso
        const id = input.id ?? `exp-${Date.parse(at).toString(36)}-${Math.floor(Math.random() * 36 ** 6).toString(36)}`
        const experiment: Experiment = {
          id,
          name: input.name,
          description: input.description ?? "",
          targetMetric: input.targetMetric,
          metricGoals: { [input.targetMetric]: { direction: "maximize" }, ...input.metricGoals },
          variants: input.variants,
          stickyAssignment: input.stickyAssignment ?? settings.stickyAssignment,
          coverage: input.coverage ?? 1,
          minSamplesPerVariant: input.minSamplesPerVariant ?? settings.minSamplesPerVariant,
          alpha: input.alpha ?? 0.05,
          seed: input.seed ?? id,
          mode: input.mode ?? "ab",
          sequential: input.sequential ?? false,
          status: "draft",
          createdAt: at,
          updatedAt: at,
          startedAt: null,
          completedAt: null,
          decision: null,
          trafficHistory: [{ at, actor, trafficPct: input.variants.map((v) => v.trafficPct) }],
          banditHistory: [],
          revision: 1
        }
        yield* store.insert(experiment)
        return experiment
      })

    const assignmentFor = (experiment: Experiment, userId: string): Effect.Effect<ModelAssignment, StorageError> =>
      Effect.gen(function*() {
        const control = controlIndex(experiment)
        const base = { experimentId: experiment.id, userId }
        if (experiment.status !== "running") {
          // Not running: everyone gets the declared winner (after completion) or the control.
          const winner = experiment.decision?.winnerModelId
          const index = winner ? experiment.variants.findIndex((v) => v.modelId === winner) : control
          return {
            ...base,
            variant: index,
            modelId: experiment.variants[index]!.modelId,
            inExperiment: false,
            sticky: false
          }
        }
        if (experiment.stickyAssignment) {
          const existing = yield* Effect.option(store.getAssignment(experiment.id, userId))
          if (existing._tag === "Some" && existing.value) {
            return {
              ...base,
              variant: existing.value.variant,
              modelId: existing.value.modelId,
              inExperiment: true,
              sticky: true
            }
          }
        }
        const index = bucketUser(experiment, userId)
        if (index === -1) {
          return {
            ...base,
            variant: control,
            modelId: experiment.variants[control]!.modelId,
            inExperiment: false,
            sticky: false
          }
        }
        const modelId = experiment.variants[index]!.modelId
        if (!experiment.stickyAssignment) {
          yield* countExposure(experiment, index)
          return { ...base, variant: index, modelId, inExperiment: true, sticky: false }
        }
        const at = yield* nowIso
        const stored = yield* Effect.result(
          store.assignIfAbsent(
            { experimentId: experiment.id, userId, variant: index, modelId, at } satisfies Assignment
          )
        )
        if (stored._tag === "Failure") {
          // Storage is down: serve the deterministic hash rather than failing the request.
          return { ...base, variant: index, modelId, inExperiment: true, sticky: false }
        }
        if (stored.success.created) yield* countExposure(experiment, index)
        return {
          ...base,
          variant: stored.success.assignment.variant,
          modelId: stored.success.assignment.modelId,
          inExperiment: true,
          sticky: true
        }
      })

    const countExposure = (experiment: Experiment, index: number) => {
      const counts = experiment.variants.map((_, i) => (i === index ? 1 : 0))
      return store.addExposures(experiment.id, counts).pipe(Effect.ignore)
    }

    const checkUserId = (userId: string, path: ReadonlyArray<string | number>) =>
      typeof userId === "string" && userId.length > 0 && userId.length <= 256
        ? Effect.void
        : Effect.fail(
          new ValidationError({
            message: "userId must be a non-empty string of at most 256 characters",
            issues: [{ path, message: "must be a non-empty string of at most 256 characters" }]
          })
        )

    const getModelAssignment: AbTestsShape["getModelAssignment"] = (id, userId) =>
      checkUserId(userId, ["userId"]).pipe(
        Effect.andThen(getExperiment(id)),
        Effect.flatMap((e) => assignmentFor(e, userId))
      )

    const getModelAssignments: AbTestsShape["getModelAssignments"] = (id, userIds) =>
      Effect.gen(function*() {
        for (const [i, u] of userIds.entries()) yield* checkUserId(u, ["userIds", i])
        const experiment = yield* getExperiment(id)
        return yield* Effect.forEach(userIds, (u) => assignmentFor(experiment, u), { concurrency: 16 })
      })

    const recordMetrics: AbTestsShape["recordMetrics"] = (id, observations) =>
      Effect.gen(function*() {
        const experiment = yield* getExperiment(id)
        const issues: Array<{ path: Array<string | number>; message: string }> = []
        const grouped = new Map<string, { variant: number; metric: string; summary: Summary }>()
        observations.forEach((o, i) => {
          const variant = experiment.variants.findIndex((v) => v.modelId === o.modelId)
          if (variant === -1) {
            issues.push({ path: [i, "modelId"], message: `model ${o.modelId} is not a variant of experiment ${id}` })
          }
          if (typeof o.value !== "number" || !Number.isFinite(o.value)) {
            issues.push({ path: [i, "value"], message: `must be a finite number, got ${String(o.value)}` })
          }
          if (typeof o.metric !== "string" || !/^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$/.test(o.metric)) {
            issues.push({ path: [i, "metric"], message: "must be a metric name" })
          }
          if (issues.length === 0) {
            const key = `${variant}\u0000${o.metric}`
            const entry = grouped.get(key) ?? { variant, metric: o.metric, summary: emptySummary }
            grouped.set(key, { ...entry, summary: addValue(entry.summary, o.value) })
          }
        })
        if (issues.length > 0) {
          return yield* Effect.fail(
            new ValidationError({
              message: `Invalid metrics: ${issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
              issues
            })
          )
        }
        if (experiment.status === "draft") {
          return yield* Effect.fail(
            new ExperimentStateError({
              experimentId: id,
              experimentStatus: experiment.status,
              message: `Experiment ${id} has not started`
            })
          )
        }
        const updates: Array<MetricUpdate> = [...grouped.values()]
        yield* store.mergeMetrics(id, updates)
      })

    const recordExposures: AbTestsShape["recordExposures"] = (id, exposures) =>
      Effect.gen(function*() {
        const experiment = yield* getExperiment(id)
        const counts = experiment.variants.map(() => 0)
        const issues: Array<{ path: Array<string | number>; message: string }> = []
        exposures.forEach((e, i) => {
          const variant = experiment.variants.findIndex((v) => v.modelId === e.modelId)
          if (variant === -1) {
            issues.push({ path: [i, "modelId"], message: `model ${e.modelId} is not a variant of experiment ${id}` })
          } else if (!(Number.isInteger(e.count) && e.count >= 0)) {
            issues.push({ path: [i, "count"], message: "must be a non-negative integer" })
          } else counts[variant]! += e.count
        })
        if (issues.length > 0) {
          return yield* Effect.fail(
            new ValidationError({
              message: `Invalid exposures: ${issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
              issues
            })
          )
        }
        yield* store.addExposures(id, counts)
      })

    const getExperimentResults: AbTestsShape["getExperimentResults"] = (id) =>
      Effect.gen(function*() {
        const experiment = yield* getExperiment(id)
        const counters = yield* store.counters(id, experiment.variants.length)
        return computeResults(experiment, counters.variants, settings)
      })

    const completeExperiment: AbTestsShape["completeExperiment"] = (id, options = {}) =>
      Effect.gen(function*() {
        const results = yield* getExperimentResults(id)
        const completed = yield* transition(
          id,
          ["running", "paused"],
          "completed",
          (_e, at) => ({ completedAt: at, decision: results.decision })
        )
        const winner = results.decision.winnerModelId
        if (options.promoteWinner && winner) {
          const reason = `winner of experiment ${id}`
          const model = yield* registry.getModel(winner)
          const path: Record<string, ReadonlyArray<"testing" | "staging" | "production">> = {
            draft: ["testing", "staging", "production"],
            testing: ["staging", "production"],
            staging: ["production"],
            production: [],
            archived: []
          }
          for (const status of path[model.status] ?? []) {
            yield* registry.promoteModel(winner, status, { reason, actor: options.actor ?? `experiment:${id}` }).pipe(
              Effect.mapError((e) =>
                new ExperimentStateError({
                  experimentId: id,
                  experimentStatus: "completed",
                  message: `Completed, but promoting ${winner} failed: ${e.message}`
                })
              )
            )
          }
        }
        return completed
      })

    const reweight: AbTestsShape["reweight"] = (id) =>
      update(id, (e, at) =>
        Effect.gen(function*() {
          if (e.mode !== "bandit") {
            return yield* Effect.fail(
              new ExperimentStateError({
                experimentId: id,
                experimentStatus: e.status,
                message: `Experiment ${id} is not a bandit`
              })
            )
          }
          const counters = yield* store.counters(id, e.variants.length)
          const summaries = counters.variants.map((v) => v.metrics[e.targetMetric] ?? emptySummary)
          if (summaries.some((s) => s.count < BANDIT_BURN_IN)) return e // burn-in: keep the configured split
          const maximize = (e.metricGoals[e.targetMetric]?.direction ?? "maximize") === "maximize"
          const weights = thompsonWeights(summaries, maximize, `${e.seed}:${e.banditHistory.length}`)
          return { ...e, banditHistory: [...e.banditHistory, { at, weights }] }
        }))

    return AbTests.of({
      createExperiment,
      getExperiment,
      listExperiments: () => store.list(),
      startExperiment: (id) =>
        transition(id, ["draft", "paused"], "running", (e, at) => ({ startedAt: e.startedAt ?? at })),
      pauseExperiment: (id) => transition(id, ["running"], "paused"),
      completeExperiment,
      updateExperiment: (id, { trafficPct, description }, actor = "anonymous") =>
        update(id, (e, at) => {
          if (e.status === "completed") {
            return Effect.fail(
              new ExperimentStateError({
                experimentId: id,
                experimentStatus: e.status,
                message: `Experiment ${id} is completed`
              })
            )
          }
          if (trafficPct === undefined) return Effect.succeed({ ...e, description: description ?? e.description })
          if (trafficPct.length !== e.variants.length) {
            return Effect.fail(
              new ValidationError({
                message: `trafficPct needs ${e.variants.length} entries`,
                issues: [{ path: ["trafficPct"], message: `needs ${e.variants.length} entries, one per variant` }]
              })
            )
          }
          const variants = e.variants.map((v, i) => ({ ...v, trafficPct: trafficPct[i]! }))
          const issues = validateVariants(variants).filter((i) => !(typeof i.path[2] === "string"))
          const bad = trafficPct.findIndex((p) => !(Number.isFinite(p) && p >= 0 && p <= 100))
          if (bad !== -1) issues.push({ path: ["trafficPct", bad], message: "must be between 0 and 100" })
          if (issues.length > 0) {
            return Effect.fail(
              new ValidationError({
                message: `Invalid traffic split: ${issues.map((i) => i.message).join("; ")}`,
                issues
              })
            )
          }
          return Effect.succeed({
            ...e,
            variants,
            description: description ?? e.description,
            trafficHistory: [...e.trafficHistory, { at, actor, trafficPct }]
          })
        }),
      refreshGauges,
      getModelAssignment,
      getModelAssignments,
      recordMetrics,
      recordExposures,
      getExperimentResults,
      reweight
    })
  })

/** Results and the decision, from an experiment and its counters (pure; exported for tests). */
export const computeResults = (
  experiment: Experiment,
  counters: ReadonlyArray<{ readonly exposures: number; readonly metrics: Readonly<Record<string, Summary>> }>,
  settings: AbTestSettings = defaultAbTestSettings
): ExperimentResults => {
  const control = controlIndex(experiment)
  const weights = currentWeights(experiment)
  const view = (s: Summary | undefined): MetricSummaryView => {
    if (!s || s.count === 0) return { n: 0, mean: Number.NaN, sd: null, interval: null }
    if (s.count < 2) return { n: s.count, mean: s.mean, sd: null, interval: null }
    const sd = Math.sqrt(variance(s))
    const half = studentT(s.count - 1).quantileUpper(experiment.alpha / 2) * (sd / Math.sqrt(s.count))
    return { n: s.count, mean: s.mean, sd, interval: { lower: s.mean - half, upper: s.mean + half } }
  }
  const variants = experiment.variants.map((v, i) => ({
    modelId: v.modelId,
    isControl: v.isControl,
    trafficPct: v.trafficPct,
    weight: weights[i]!,
    exposures: counters[i]?.exposures ?? 0,
    metrics: Object.fromEntries(Object.entries(counters[i]?.metrics ?? {}).map(([m, s]) => [m, view(s)]))
  }))
  const compare = (metric: string): Array<Comparison> => {
    const maximize = (experiment.metricGoals[metric]?.direction ?? "maximize") === "maximize"
    const controlSummary = counters[control]?.metrics[metric]
    const raw = experiment.variants.map((v, i) => {
      const treatment = counters[i]?.metrics[metric]
      if (i === control || !treatment || !controlSummary || treatment.count < 2 || controlSummary.count < 2) return null
      const welch = welchTTest(treatment, controlSummary, { alpha: experiment.alpha })
      const vt = variance(treatment)
      const vc = variance(controlSummary)
      const pooled = ((treatment.count - 1) * vt + (controlSummary.count - 1) * vc) /
        (treatment.count + controlSummary.count - 2)
      return {
        modelId: v.modelId,
        welch,
        sequential: experiment.sequential
          ? msprtPValue(
            meanDifference(treatment, controlSummary),
            vt / treatment.count + vc / controlSummary.count,
            pooled
          )
          : null
      }
    }).filter((x): x is NonNullable<typeof x> => x !== null)
    const adjusted = raw.length > 0 ? holmBonferroni(raw.map((r) => r.welch.pValue)) : []
    return raw.map((r, k) => {
      const p = experiment.sequential ? Math.max(adjusted[k]!, r.sequential!) : adjusted[k]!
      const better = maximize ? r.welch.difference > 0 : r.welch.difference < 0
      return {
        modelId: r.modelId,
        metric,
        difference: r.welch.difference,
        differenceInterval: r.welch.differenceInterval,
        relativeLift: r.welch.relativeLift,
        relativeLiftInterval: r.welch.relativeLiftInterval,
        pValue: r.welch.pValue,
        adjustedPValue: adjusted[k]!,
        sequentialPValue: r.sequential,
        significantlyBetter: p < experiment.alpha && better,
        significantlyWorse: p < experiment.alpha && !better && r.welch.difference !== 0
      }
    })
  }
  const comparisons = compare(experiment.targetMetric)
  const guardrails = Object.entries(experiment.metricGoals).filter(([m, g]) =>
    g.guardrail && m !== experiment.targetMetric
  ).flatMap(([m]) => compare(m))
  const exposures = variants.map((v) => v.exposures)
  const totalExposures = exposures.reduce((a, b) => a + b, 0)
  const expectedShares = weights.map((w) => Math.max(w, 1e-12))
  const srmP = totalExposures > 0 && exposures.length >= 2
    ? chiSquareGoodnessOfFit(exposures, expectedShares).pValue
    : null
  const srmDetected = srmP !== null && srmP < settings.srmThreshold
  const counts = experiment.variants.map((_, i) => counters[i]?.metrics[experiment.targetMetric]?.count ?? 0)
  let decision: Decision
  const winners = comparisons.filter((c) => c.significantlyBetter)
  const best = winners.sort((a, b) => Math.abs(b.difference) - Math.abs(a.difference))[0]
  if (counts.some((n) => n < experiment.minSamplesPerVariant)) {
    decision = {
      outcome: "insufficient_data",
      winnerModelId: null,
      reason: `every variant needs ${experiment.minSamplesPerVariant} samples of ${experiment.targetMetric}; have ${
        counts.join(", ")
      }`
    }
  } else if (srmDetected) {
    decision = {
      outcome: "srm_detected",
      winnerModelId: null,
      reason: `exposures ${exposures.join(", ")} do not match the configured split (chi-square p = ${
        srmP!.toExponential(2)
      } < ${settings.srmThreshold})`
    }
  } else if (best && guardrails.some((g) => g.modelId === best.modelId && g.significantlyWorse)) {
    const broken = guardrails.filter((g) => g.modelId === best.modelId && g.significantlyWorse).map((g) => g.metric)
    decision = {
      outcome: "guardrail_violated",
      winnerModelId: null,
      reason: `${best.modelId} wins on ${experiment.targetMetric} but is significantly worse on ${broken.join(", ")}`
    }
  } else if (best) {
    decision = {
      outcome: "winner",
      winnerModelId: best.modelId,
      reason: `${best.modelId} is better on ${experiment.targetMetric} (adjusted p = ${
        best.adjustedPValue.toExponential(2)
      } < ${experiment.alpha})`
    }
  } else {
    decision = {
      outcome: "no_significant_difference",
      winnerModelId: null,
      reason:
        `no treatment differs significantly from the control on ${experiment.targetMetric} at alpha ${experiment.alpha}`
    }
  }
  return {
    experimentId: experiment.id,
    status: experiment.status,
    targetMetric: experiment.targetMetric,
    variants,
    comparisons,
    guardrails,
    srm: { pValue: srmP, detected: srmDetected },
    banditHistory: experiment.banditHistory,
    decision
  }
}

export const layer = (
  settings: AbTestSettings = defaultAbTestSettings
): Layer.Layer<AbTests, never, ExperimentStore | ModelRegistry | MetricsSink> => Layer.effect(AbTests, make(settings))
