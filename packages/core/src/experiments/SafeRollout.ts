/**
 * Safe rollouts, pure: guardrail metrics watched with the always-valid (mSPRT) test, and ramp
 * schedules that widen an experiment's coverage step by step while the guardrails hold. A
 * guardrail significantly worse in a treatment pauses the experiment (everyone gets the control
 * while it is paused); the use case (AbTests) commits the change, audits it in `rolloutHistory`
 * with the actor `system` and alerts the webhooks. A pause is one-way until someone resumes, so
 * "some look showed p < alpha" (the running minimum below alpha) is the same as "this look did":
 * no minimum has to be stored for guardrails.
 */
import { Schema } from "effect"
import type { FieldIssue } from "../shared/Errors.js"
import { meanDifference, type Summary, variance } from "../stats/Summary.js"
import type { Experiment } from "./Experiment.js"

/** Which change of a guardrail metric is bad. */
export const GuardrailDirection = Schema.Literals(["increase", "decrease"])
export type GuardrailDirection = typeof GuardrailDirection.Type

/** The most guardrails one experiment may declare (each is tested at alpha / (guardrails × treatments)). */
export const MAX_GUARDRAILS = 20
/** The most steps of a ramp schedule. */
export const MAX_RAMP_STEPS = 10
/** The shortest ramp interval: 0.6 s (for trials; checks run every ML_AB_SAFE_ROLLOUT_INTERVAL seconds). */
export const MIN_RAMP_INTERVAL_MINUTES = 0.01
/** The longest ramp interval: one year. */
export const MAX_RAMP_INTERVAL_MINUTES = 525_600
/**
 * Values per arm before a guardrail is tested: the mSPRT is exact for normal data of known
 * variance; with the variance estimated from a handful of values it pauses too often.
 */
export const GUARDRAIL_MIN_SAMPLES = 30

export const Guardrail = Schema.Struct({
  /** The metric name, as recorded with POST .../metrics (Experiment.ts's metricNamePattern; not imported: a cycle). */
  metric: Schema.String.check(
    Schema.isPattern(/^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$/u, { message: "must be a metric name" })
  ),
  /** The bad direction: "increase" for latency or errors, "decrease" for revenue or clicks. */
  direction: GuardrailDirection,
  /** The tolerated change in the bad direction, in the metric's units (default 0). */
  threshold: Schema.optionalKey(
    Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1e12 }, { message: "must be between 0 and 1e12" }))
  )
})
export type Guardrail = typeof Guardrail.Type

export const Guardrails = Schema.Array(Guardrail).check(
  Schema.isMaxLength(MAX_GUARDRAILS, { message: `must hold at most ${MAX_GUARDRAILS} guardrails` })
)

const RampStep = Schema.Finite.check(
  Schema.isBetween({ minimum: 0, maximum: 1, exclusiveMinimum: true }, { message: "must be above 0 and at most 1" })
)

export const RampSchedule = Schema.Struct({
  /** Coverage (share of users in the experiment) per step, increasing; the first applies at start. */
  steps: Schema.Array(RampStep).check(
    Schema.isMinLength(1, { message: "must hold at least one step" }),
    Schema.isMaxLength(MAX_RAMP_STEPS, { message: `must hold at most ${MAX_RAMP_STEPS} steps` }),
    Schema.makeFilter((steps) =>
      steps.every((s, i) => i === 0 || s > steps[i - 1]!) ? undefined : "must increase from step to step"
    )
  ),
  /** Minutes between steps, counted from the start or the previous step; fractions allowed (0.5: 30 s). */
  intervalMinutes: Schema.Finite.check(
    Schema.isBetween({ minimum: MIN_RAMP_INTERVAL_MINUTES, maximum: MAX_RAMP_INTERVAL_MINUTES }, {
      message: `must be between ${MIN_RAMP_INTERVAL_MINUTES} and ${MAX_RAMP_INTERVAL_MINUTES} minutes`
    })
  )
})
export type RampSchedule = typeof RampSchedule.Type

/** What paused an experiment: the guardrail, the treatment and the evidence. */
export const GuardrailPause = Schema.Struct({
  at: Schema.String,
  metric: Schema.String,
  modelId: Schema.String,
  direction: GuardrailDirection,
  /** Treatment mean minus control mean. */
  difference: Schema.Finite,
  /** The always-valid p-value of "worse by more than the threshold". */
  pValue: Schema.Finite,
  /** The level it fell below: alpha / (guardrails × treatments). */
  level: Schema.Finite,
  reason: Schema.String
})
export type GuardrailPause = typeof GuardrailPause.Type

/** One automatic (or resuming) change of a safe rollout, kept as the experiment's audit trail. */
export const RolloutEvent = Schema.Struct({
  at: Schema.String,
  /** `system` for the automatic changes. */
  actor: Schema.String,
  action: Schema.Literals(["ramp_started", "ramp_advanced", "guardrail_paused"]),
  /** The coverage after a ramp change. */
  coverage: Schema.optionalKey(Schema.Finite),
  reason: Schema.String
})
export type RolloutEvent = typeof RolloutEvent.Type

/** The actor of automatic changes in the audit trail. */
export const SYSTEM_ACTOR = "system"

/** One guardrail of one treatment at one look. */
export interface GuardrailCheck {
  readonly metric: string
  readonly modelId: string
  readonly direction: GuardrailDirection
  readonly difference: number
  readonly pValue: number
  readonly level: number
  readonly breached: boolean
}

type Totals = ReadonlyArray<{ readonly metrics: Readonly<Record<string, Summary>> } | undefined>

const summaryOf = (totals: Totals[number], metric: string): Summary | undefined =>
  totals !== undefined && Object.hasOwn(totals.metrics, metric) ? totals.metrics[metric] : undefined

/**
 * The mSPRT always-valid p-value (normal mixture, τ² = 0.01 × pooled variance, as Results.ts)
 * of H0: "the treatment is worse by at most `threshold`", against worse by more. The shifted
 * difference is tested only when it lies on the bad side, so an improvement never pauses.
 */
export const guardrailPValue = (
  treatment: Summary,
  control: Summary,
  direction: GuardrailDirection,
  threshold: number
): { readonly difference: number; readonly pValue: number } => {
  const difference = meanDifference(treatment, control)
  const worseBy = (direction === "increase" ? difference : -difference) - threshold
  if (!(worseBy > 0)) return { difference, pValue: 1 }
  const vt = variance(treatment)
  const vc = variance(control)
  const pooled = ((treatment.count - 1) * vt + (control.count - 1) * vc) / (treatment.count + control.count - 2)
  const v = vt / treatment.count + vc / control.count
  if (!(v > 0)) return { difference, pValue: 0 }
  const tau2 = 0.01 * pooled
  const logLambda = 0.5 * Math.log(v / (v + tau2)) + (tau2 / (v + tau2)) * ((worseBy * worseBy) / (2 * v))
  return { difference, pValue: Math.min(1, Math.exp(-logLambda)) }
}

/**
 * Every guardrail of every treatment with GUARDRAIL_MIN_SAMPLES values in it and in the control;
 * breached when the always-valid p-value is below alpha / (guardrails × treatments) (Bonferroni,
 * so the chance of any false pause over the whole experiment stays at most alpha).
 */
export const guardrailChecks = (
  experiment: Pick<Experiment, "variants" | "alpha" | "guardrails">,
  totals: Totals
): Array<GuardrailCheck> => {
  const guardrails = experiment.guardrails ?? []
  const control = experiment.variants.findIndex((v) => v.isControl)
  const treatments = experiment.variants.length - 1
  if (guardrails.length === 0 || control === -1 || treatments < 1) return []
  const level = experiment.alpha / (guardrails.length * treatments)
  return guardrails.flatMap((g) => {
    const controlSummary = summaryOf(totals[control], g.metric)
    if (controlSummary === undefined || controlSummary.count < GUARDRAIL_MIN_SAMPLES) return []
    return experiment.variants.flatMap((v, i) => {
      const treatment = summaryOf(totals[i], g.metric)
      if (i === control || treatment === undefined || treatment.count < GUARDRAIL_MIN_SAMPLES) return []
      const { difference, pValue } = guardrailPValue(treatment, controlSummary, g.direction, g.threshold ?? 0)
      if (!Number.isFinite(difference) || Number.isNaN(pValue)) return []
      return [{
        metric: g.metric,
        modelId: v.modelId,
        direction: g.direction,
        difference,
        pValue,
        level,
        breached: pValue < level
      }]
    })
  })
}

/** What a creation request may not combine: a ramp sets the coverage, so both at once is refused. */
export const rolloutIssues = (
  input: { readonly coverage?: number | undefined; readonly ramp?: RampSchedule | undefined }
): Array<FieldIssue> =>
  input.ramp !== undefined && input.coverage !== undefined
    ? [{ path: ["coverage"], message: "must be left out when a ramp schedule sets the coverage" }]
    : []

/** How many ramp steps have been taken since the start (the first step is applied by starting). */
export const rampStepsTaken = (experiment: Pick<Experiment, "rolloutHistory">): number =>
  (experiment.rolloutHistory ?? []).filter((e) => e.action === "ramp_advanced").length

/**
 * The coverage the ramp schedule calls for now, when it is due (running, a next step left and
 * intervalMinutes since the start or the previous step); undefined otherwise.
 */
export const dueRampCoverage = (
  experiment: Pick<Experiment, "status" | "ramp" | "rolloutHistory" | "startedAt">,
  nowMillis: number
): number | undefined => {
  const { ramp } = experiment
  if (ramp === undefined || experiment.status !== "running" || experiment.startedAt === null) return undefined
  const taken = rampStepsTaken(experiment)
  const next = ramp.steps[taken + 1]
  if (next === undefined) return undefined
  const last = (experiment.rolloutHistory ?? []).filter((e) => e.action !== "guardrail_paused").at(-1)?.at ??
    experiment.startedAt
  return nowMillis - Date.parse(last) >= ramp.intervalMinutes * 60_000 ? next : undefined
}

/** What a look at a running experiment changes: a pause, a ramp step, or nothing. */
export type RolloutChange =
  | { readonly _tag: "Pause"; readonly pause: GuardrailPause }
  | { readonly _tag: "Ramp"; readonly coverage: number }
  | { readonly _tag: "Hold" }

/**
 * The change a look calls for: the worst breached guardrail (smallest p-value) pauses; otherwise a
 * due ramp step advances the coverage; otherwise nothing.
 */
export const rolloutChange = (
  experiment: Pick<
    Experiment,
    "status" | "ramp" | "rolloutHistory" | "startedAt" | "variants" | "alpha" | "guardrails"
  >,
  totals: Totals,
  nowMillis: number
): RolloutChange => {
  if (experiment.status !== "running") return { _tag: "Hold" }
  const worst = guardrailChecks(experiment, totals).filter((c) => c.breached).sort((a, b) => a.pValue - b.pValue)[0]
  if (worst !== undefined) {
    const worse = worst.direction === "increase" ? "higher" : "lower"
    const reason = `${worst.modelId} is significantly ${worse} on guardrail ${worst.metric} ` +
      `(difference ${worst.difference.toPrecision(4)}, always-valid p = ${worst.pValue.toExponential(2)} < ` +
      `${worst.level.toPrecision(3)})`
    const { difference, direction, level, metric, modelId, pValue } = worst
    return {
      _tag: "Pause",
      pause: { at: new Date(nowMillis).toISOString(), metric, modelId, direction, difference, pValue, level, reason }
    }
  }
  const coverage = dueRampCoverage(experiment, nowMillis)
  return coverage === undefined ? { _tag: "Hold" } : { _tag: "Ramp", coverage }
}
