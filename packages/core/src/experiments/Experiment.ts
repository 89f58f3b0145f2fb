/**
 * Domain of A/B tests between models: the stored records (experiments with their variants,
 * metric goals, lifecycle, traffic and bandit history; sticky assignments) and the creation
 * request. Schemas validate every boundary; the rules that need more than one field (exactly one
 * control, shares summing to 100, distinct models) live in Variants.ts, once.
 */
import { Schema } from "effect"
import { ModelId } from "../registry/Model.js"
import { checkedSchema } from "../shared/CheckedSchema.js"
import { BoundedNumber } from "../shared/InputLimits.js"
import { SafeLabel, SafeText } from "../shared/SafeText.js"
import {
  type Condition,
  conditionIssues,
  MAX_CONDITION_DEPTH,
  MAX_CONDITION_NODES,
  MAX_REGEX_LENGTH
} from "./Conditions.js"
import { GuardrailPause, Guardrails, RampSchedule, RolloutEvent } from "./SafeRollout.js"

export const ExperimentStatus = Schema.Literals(["draft", "running", "paused", "completed"])
export type ExperimentStatus = typeof ExperimentStatus.Type

export const ExperimentMode = Schema.Literals(["ab", "bandit"])
export type ExperimentMode = typeof ExperimentMode.Type

const Label = Schema.String.check(
  Schema.isMinLength(1, { message: "must not be empty" }),
  Schema.isMaxLength(128, { message: "must be at most 128 characters" })
)
export const ExperimentId = Schema.String.check(
  Schema.isPattern(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/u, {
    message: "must be 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit"
  })
)
/** A metric name: also a Prometheus label value and a Redis hash field, so a conservative alphabet. */
export const metricNamePattern = /^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$/u
export const MetricName = Schema.String.check(
  Schema.isPattern(metricNamePattern, {
    message: "must be 1-128 characters: a letter or '_' then letters, digits, '_', '.', ':' or '-'"
  })
)

export const Variant = Schema.Struct({
  modelId: ModelId,
  isControl: Schema.Boolean,
  trafficPct: Schema.Finite.check(
    Schema.isBetween({ minimum: 0, maximum: 100 }, { message: "must be between 0 and 100" })
  )
})
export type Variant = typeof Variant.Type

export const MetricGoal = Schema.Struct({
  direction: Schema.Literals(["maximize", "minimize"]),
  /** A guardrail must not get significantly worse in a treatment. */
  guardrail: Schema.optionalKey(Schema.Boolean)
})
export type MetricGoal = typeof MetricGoal.Type

/** Whether larger values of the metric are better (its goal; maximize unless declared otherwise). */
export const maximizes = (experiment: { readonly metricGoals: Readonly<Record<string, MetricGoal>> }, metric: string) =>
  (Object.hasOwn(experiment.metricGoals, metric) ? experiment.metricGoals[metric]?.direction : undefined)
    !== "minimize"

const Probability = (message: string) =>
  Schema.Finite.check(
    Schema.isBetween({ minimum: 0, maximum: 1, exclusiveMinimum: true, exclusiveMaximum: true }, { message })
  )

const maxAssignmentRetentionSeconds = 100 * 365 * 86_400
const AssignmentRetentionSeconds = Schema.Int.check(
  Schema.isBetween({ minimum: 1, maximum: maxAssignmentRetentionSeconds }, {
    message: `must be a whole number of seconds between 1 and ${maxAssignmentRetentionSeconds}`
  })
)

/** The most variants one experiment may have (each costs work in every results and bandit computation). */
export const MAX_VARIANTS = 20
/** The most metric goals one experiment may declare. */
export const MAX_METRIC_GOALS = 100

/**
 * A targeting condition in GrowthBook's syntax (Conditions.ts): decoded by conditionIssues, so a
 * bad operator, argument or regex, or a condition beyond the limits, is refused with its path
 * inside the condition ("condition: $and.0.country.$in: must be an array").
 */
export const TargetingCondition = checkedSchema(
  Schema.Record(Schema.String, Schema.Unknown),
  (input) => {
    const issues = conditionIssues(input)
    return issues.length === 0
      ? undefined
      : issues.map((i) => (i.path.length === 0 ? i.message : `${i.path.join(".")}: ${i.message}`)).join("; ")
  },
  {
    title: "Condition",
    description: `A GrowthBook targeting condition: at most ${MAX_CONDITION_DEPTH} levels deep, ` +
      `${MAX_CONDITION_NODES} keys and array items, regexes of at most ${MAX_REGEX_LENGTH} characters`
  }
)

/** The name of a user attribute (a top-level key of the attributes sent with an assignment request). */
export const AttributeName = Schema.String.check(
  Schema.isMinLength(1, { message: "must not be empty" }),
  Schema.isMaxLength(128, { message: "must be at most 128 characters" })
)

const Share = Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 }, { message: "must be between 0 and 1" }))

/** A range [start, end) of a namespace: experiments on disjoint ranges of one namespace never share a user. */
export const NamespaceRange = Schema.Struct({ id: SafeLabel(128, { minLength: 1 }), start: Share, end: Share }).check(
  Schema.makeFilter((range) =>
    range.start < range.end ? undefined : { path: ["end"], issue: "must be greater than start" }
  )
)
export type NamespaceRange = typeof NamespaceRange.Type

/**
 * A holdout: the share of users (hashed by the experiment's hash attribute, seeded by the id)
 * kept out of every experiment that names the same id, so they measure the baseline.
 */
export const Holdout = Schema.Struct({
  id: SafeLabel(128, { minLength: 1 }),
  share: Schema.Finite.check(
    Schema.isBetween({ minimum: 0, maximum: 1, exclusiveMaximum: true }, { message: "must be at least 0 and below 1" })
  )
})
export type Holdout = typeof Holdout.Type

/**
 * Winsorization of one metric: every recorded value (and its covariate) is clamped to [lower, upper]
 * before it is summarized. Absolute bounds only: a percentile cap moves as data arrive, so values
 * summarized earlier would need capping again, which mergeable summaries cannot do (README).
 */
export const MetricCap = Schema.Struct({
  upper: BoundedNumber,
  lower: Schema.optionalKey(BoundedNumber)
}).check(
  Schema.makeFilter((cap) =>
    cap.lower === undefined || cap.lower <= cap.upper
      ? undefined
      : { path: ["lower"], issue: "must be at most upper" }
  )
)
export type MetricCap = typeof MetricCap.Type

/** The most metrics one experiment may cap. */
export const MAX_METRIC_CAPS = 100

/** The caps of an experiment's metrics, by metric name. */
export const MetricCaps = Schema.Record(Schema.String, MetricCap).check(
  Schema.isPropertyNames(MetricName),
  Schema.isMaxProperties(MAX_METRIC_CAPS, { message: `must hold at most ${MAX_METRIC_CAPS} metrics` })
)

/**
 * How metric values are treated at recording (Recording.ts); set at creation (changeable while
 * the experiment runs: SettingChange), stored with the definition.
 */
const metricTreatmentFields = {
  metricCaps: Schema.optionalKey(MetricCaps)
}

/** The largest |mean| and standard deviation of a prior on a relative lift (1000 = +100,000%). */
export const MAX_PRIOR_SCALE = 1000

/**
 * A proper Gaussian prior on a metric's relative lift (GrowthBook's "proper prior": a mean and a
 * standard deviation, e.g. 0 and 0.3), combined with the data by precision (BayesianLift.ts).
 */
export const BayesianPrior = Schema.Struct({
  mean: Schema.Finite.check(
    Schema.isBetween({ minimum: -MAX_PRIOR_SCALE, maximum: MAX_PRIOR_SCALE }, {
      message: `must be between -${MAX_PRIOR_SCALE} and ${MAX_PRIOR_SCALE}`
    })
  ),
  stddev: Schema.Finite.check(
    Schema.isBetween({ minimum: 0, maximum: MAX_PRIOR_SCALE, exclusiveMinimum: true }, {
      message: `must be above 0 and at most ${MAX_PRIOR_SCALE}`
    })
  )
})
export type BayesianPrior = typeof BayesianPrior.Type

/** The most metrics one experiment may give their own prior. */
export const MAX_METRIC_PRIORS = 100

/**
 * The Bayesian results' priors (Results.ts): `bayesianPrior` for every metric, `metricPriors` per
 * metric over it; without either the prior is flat (gbstats' default). Set at creation.
 */
const analysisFields = {
  bayesianPrior: Schema.optionalKey(BayesianPrior),
  metricPriors: Schema.optionalKey(
    Schema.Record(Schema.String, BayesianPrior).check(
      Schema.isPropertyNames(MetricName),
      Schema.isMaxProperties(MAX_METRIC_PRIORS, { message: `must hold at most ${MAX_METRIC_PRIORS} metrics` })
    )
  )
}

/** The prior of a metric's relative lift in an experiment's Bayesian results, or undefined (flat). */
export const priorOf = (
  experiment: {
    readonly bayesianPrior?: BayesianPrior
    readonly metricPriors?: Readonly<Record<string, BayesianPrior>>
  },
  metric: string
): BayesianPrior | undefined =>
  (experiment.metricPriors !== undefined && Object.hasOwn(experiment.metricPriors, metric)
    ? experiment.metricPriors[metric]
    : undefined) ?? experiment.bayesianPrior

/** Who takes part (Targeting.ts); set at creation, stored with the definition. */
const targetingFields = {
  condition: Schema.optionalKey(TargetingCondition),
  hashAttribute: Schema.optionalKey(AttributeName),
  fallbackAttribute: Schema.optionalKey(AttributeName),
  namespace: Schema.optionalKey(NamespaceRange),
  holdout: Schema.optionalKey(Holdout)
}

/** Safe rollouts (SafeRollout.ts): guardrails that pause, a ramp schedule that widens coverage. */
const rolloutFields = {
  guardrails: Schema.optionalKey(Guardrails),
  ramp: Schema.optionalKey(RampSchedule)
}

/**
 * The name of the experiment's feature in the GrowthBook payload (GrowthBookPayload.ts), the
 * experiment id when absent: SDK code reads `gb.getFeatureValue(featureKey)`, so a key can stay
 * when an experiment is replaced by the next one. Same alphabet as ids.
 */
const featureKeyFields = { featureKey: Schema.optionalKey(ExperimentId) }

const variantsBound = Schema.isMaxLength(MAX_VARIANTS, { message: `must hold at most ${MAX_VARIANTS} variants` })

export const CreateExperimentInput = Schema.Struct({
  id: Schema.optionalKey(ExperimentId),
  name: SafeLabel(128, { minLength: 1 }),
  description: Schema.optionalKey(SafeText(4096)),
  targetMetric: MetricName,
  metricGoals: Schema.optionalKey(
    Schema.Record(Schema.String, MetricGoal).check(
      Schema.isPropertyNames(MetricName),
      Schema.isMaxProperties(MAX_METRIC_GOALS, { message: `must hold at most ${MAX_METRIC_GOALS} metrics` })
    )
  ),
  variants: Schema.Array(Variant).check(variantsBound),
  stickyAssignment: Schema.optionalKey(Schema.Boolean),
  coverage: Schema.optionalKey(
    Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 }, { message: "must be between 0 and 1" }))
  ),
  minSamplesPerVariant: Schema.optionalKey(
    Schema.Int.check(Schema.isGreaterThanOrEqualTo(2, { message: "must be an integer >= 2" }))
  ),
  alpha: Schema.optionalKey(Probability("must be strictly between 0 and 1")),
  seed: Schema.optionalKey(SafeLabel(256)),
  mode: Schema.optionalKey(ExperimentMode),
  sequential: Schema.optionalKey(Schema.Boolean),
  /** Seconds the sticky assignments are kept after the experiment completes (the server's default otherwise). */
  assignmentRetentionSeconds: Schema.optionalKey(AssignmentRetentionSeconds),
  ...targetingFields,
  ...metricTreatmentFields,
  ...rolloutFields,
  ...analysisFields,
  ...featureKeyFields
})
export type CreateExperimentInput = typeof CreateExperimentInput.Type

export const TrafficChange = Schema.Struct({
  at: Schema.String,
  /** The authenticated principal that changed the split. */
  actor: Schema.String,
  /** Who that caller said it acted for; an annotation, not the actor. */
  onBehalfOf: Schema.optionalKey(Schema.String),
  trafficPct: Schema.Array(Schema.Finite)
})
export type TrafficChange = typeof TrafficChange.Type

/** The most setting changes an experiment keeps (the newest); older ones are dropped. */
export const MAX_SETTING_CHANGES = 100

/**
 * A change of the targeting condition or the metric caps after creation (PATCH), with the values
 * it set: `null` removed the condition or every cap; a field left out was not changed.
 */
export const SettingChange = Schema.Struct({
  at: Schema.String,
  /** The authenticated principal that made the change. */
  actor: Schema.String,
  /** Who that caller said it acted for; an annotation, not the actor. */
  onBehalfOf: Schema.optionalKey(Schema.String),
  condition: Schema.optionalKey(Schema.NullOr(TargetingCondition)),
  metricCaps: Schema.optionalKey(Schema.NullOr(MetricCaps))
})
export type SettingChange = typeof SettingChange.Type

export const BanditWeights = Schema.Struct({
  at: Schema.String,
  weights: Schema.Array(Schema.Finite)
})
export type BanditWeights = typeof BanditWeights.Type

export const Decision = Schema.Struct({
  outcome: Schema.Literals([
    "insufficient_data",
    "srm_detected",
    "no_significant_difference",
    "winner",
    "guardrail_violated"
  ]),
  winnerModelId: Schema.NullOr(ModelId),
  reason: Schema.String
})
export type Decision = typeof Decision.Type

export const Experiment = Schema.Struct({
  id: ExperimentId,
  name: Label,
  description: Schema.String,
  targetMetric: MetricName,
  metricGoals: Schema.Record(Schema.String, MetricGoal),
  variants: Schema.Array(Variant),
  stickyAssignment: Schema.Boolean,
  coverage: Schema.Finite,
  minSamplesPerVariant: Schema.Int,
  alpha: Schema.Finite,
  seed: Schema.String,
  mode: ExperimentMode,
  sequential: Schema.Boolean,
  /** Set when the creation request chose how long sticky assignments outlive the experiment. */
  assignmentRetentionSeconds: Schema.optionalKey(AssignmentRetentionSeconds),
  ...targetingFields,
  ...metricTreatmentFields,
  ...rolloutFields,
  ...analysisFields,
  ...featureKeyFields,
  /** The automatic changes of the safe rollout (ramp steps, guardrail pauses), oldest first. */
  rolloutHistory: Schema.optionalKey(Schema.Array(RolloutEvent)),
  /** Set while the experiment is paused by a guardrail; cleared when it is started again. */
  pausedByGuardrail: Schema.optionalKey(GuardrailPause),
  status: ExperimentStatus,
  createdAt: Schema.String,
  updatedAt: Schema.String,
  startedAt: Schema.NullOr(Schema.String),
  completedAt: Schema.NullOr(Schema.String),
  decision: Schema.NullOr(Decision),
  trafficHistory: Schema.Array(TrafficChange),
  /** Changes of the condition and metric caps after creation, oldest first (the newest MAX_SETTING_CHANGES). */
  settingChanges: Schema.optionalKey(Schema.Array(SettingChange)),
  banditHistory: Schema.Array(BanditWeights),
  revision: Schema.Int
})
export type Experiment = typeof Experiment.Type

export const Assignment = Schema.Struct({
  experimentId: ExperimentId,
  userId: Schema.String,
  variant: Schema.Int,
  modelId: ModelId,
  at: Schema.String
})
export type Assignment = typeof Assignment.Type

/** What a creation request may leave out, from the server's configuration. */
export interface ExperimentDefaults {
  readonly stickyAssignment: boolean
  readonly minSamplesPerVariant: number
}

/**
 * The stored record of a new experiment: a draft at revision 1 whose traffic history starts with
 * the configured split. `id` is the requested one or a generated one (the use case draws it).
 */
export const newExperiment = (
  input: CreateExperimentInput,
  created: {
    readonly id: string
    readonly at: string
    readonly actor: string
    readonly onBehalfOf?: string | undefined
    readonly defaults: ExperimentDefaults
  }
): Experiment => {
  const { id, at, actor, defaults, onBehalfOf } = created
  return {
    id,
    name: input.name,
    description: input.description ?? "",
    targetMetric: input.targetMetric,
    metricGoals: { [input.targetMetric]: { direction: "maximize" }, ...input.metricGoals },
    variants: input.variants,
    stickyAssignment: input.stickyAssignment ?? defaults.stickyAssignment,
    // A ramp starts at its first step.
    coverage: input.ramp?.steps[0] ?? input.coverage ?? 1,
    minSamplesPerVariant: input.minSamplesPerVariant ?? defaults.minSamplesPerVariant,
    alpha: input.alpha ?? 0.05,
    seed: input.seed ?? id,
    mode: input.mode ?? "ab",
    sequential: input.sequential ?? false,
    ...(input.assignmentRetentionSeconds === undefined
      ? {}
      : { assignmentRetentionSeconds: input.assignmentRetentionSeconds }),
    ...(input.condition === undefined ? {} : { condition: input.condition as Condition }),
    ...(input.hashAttribute === undefined ? {} : { hashAttribute: input.hashAttribute }),
    ...(input.fallbackAttribute === undefined ? {} : { fallbackAttribute: input.fallbackAttribute }),
    ...(input.namespace === undefined ? {} : { namespace: input.namespace }),
    ...(input.holdout === undefined ? {} : { holdout: input.holdout }),
    ...(input.metricCaps === undefined ? {} : { metricCaps: input.metricCaps }),
    ...(input.guardrails === undefined || input.guardrails.length === 0 ? {} : { guardrails: input.guardrails }),
    ...(input.ramp === undefined ? {} : { ramp: input.ramp }),
    ...(input.bayesianPrior === undefined ? {} : { bayesianPrior: input.bayesianPrior }),
    ...(input.metricPriors === undefined ? {} : { metricPriors: input.metricPriors }),
    ...(input.featureKey === undefined ? {} : { featureKey: input.featureKey }),
    status: "draft",
    createdAt: at,
    updatedAt: at,
    startedAt: null,
    completedAt: null,
    decision: null,
    trafficHistory: [{
      at,
      actor,
      ...(onBehalfOf ? { onBehalfOf } : {}),
      trafficPct: input.variants.map((v) => v.trafficPct)
    }],
    banditHistory: [],
    revision: 1
  }
}
