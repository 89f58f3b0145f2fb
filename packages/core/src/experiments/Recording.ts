/**
 * What a batch of metric observations or exposure counts becomes before it is stored, pure: each
 * entry is checked against the experiment (is the model a variant, is the value within the bound, is the
 * metric name valid), every issue is named by its index, and valid batches fold into one summary
 * per (variant, metric) or one count per variant, so a batch is a single atomic store update.
 * Values are capped first (the experiment's metricCaps); an observation's covariate (CUPED) or
 * denominator (ratio metric) also folds into a paired summary of the same (variant, metric).
 */
import { Result } from "effect"
import type { FieldIssue, ValidationError } from "../shared/Errors.js"
import { boundedValueIssue } from "../shared/InputLimits.js"
import { addPair, emptyPairedSummary, type PairedSummary } from "../stats/PairedSummary.js"
import { addValue, emptySummary, type Summary } from "../stats/Summary.js"
import { type Experiment, type MetricCap, metricNamePattern } from "./Experiment.js"
import type { MetricUpdate, PairKind } from "./ExperimentStore.js"
import { invalidInput } from "./Issues.js"
import { MAX_EXPOSURES_PER_ENTRY } from "./Requests.js"

/** Loosely typed on purpose: the server checks only the envelope, these rules check each value. */
export interface Observation {
  readonly modelId: string
  readonly metric: string
  readonly value: number
  /** The user's pre-experiment value of the metric (CUPED); capped like the value. */
  readonly covariate?: number | undefined
  /** The user's denominator of a ratio metric (the value is the numerator); not capped. */
  readonly denominator?: number | undefined
  /** Breakdown dimensions (Dimensions.ts). */
  readonly dimensions?: Readonly<Record<string, string>> | undefined
}

export interface Exposure {
  readonly modelId: string
  readonly count: number
  readonly dimensions?: Readonly<Record<string, string>> | undefined
}

const variantOf = (experiment: Pick<Experiment, "variants">, modelId: string) =>
  experiment.variants.findIndex((v) => v.modelId === modelId)

const notAVariant = (experiment: Pick<Experiment, "id">, modelId: string) =>
  `model ${modelId} is not a variant of experiment ${experiment.id}`

/** A value clamped to the metric's cap (winsorization), or unchanged when the metric has none. */
export const capValue = (cap: MetricCap | undefined, value: number): number =>
  cap === undefined ? value : Math.min(cap.upper, cap.lower === undefined ? value : Math.max(cap.lower, value))

/** The cap of a metric, reading own properties only (metric names are user input). */
export const capOf = (experiment: Pick<Experiment, "metricCaps">, metric: string): MetricCap | undefined =>
  experiment.metricCaps !== undefined && Object.hasOwn(experiment.metricCaps, metric)
    ? experiment.metricCaps[metric]
    : undefined

/** The issues of an observation's covariate and denominator (both optional, not together). */
const pairIssues = (o: Observation, i: number): Array<FieldIssue> => {
  const issues: Array<FieldIssue> = []
  if (o.covariate !== undefined) {
    const problem = boundedValueIssue(o.covariate)
    if (problem !== undefined) issues.push({ path: [i, "covariate"], message: problem })
  }
  if (o.denominator !== undefined) {
    const problem = boundedValueIssue(o.denominator)
    if (problem !== undefined) issues.push({ path: [i, "denominator"], message: problem })
    else if (o.denominator < 0) {
      issues.push({ path: [i, "denominator"], message: `must be at least 0, got ${o.denominator}` })
    }
    if (o.covariate !== undefined) {
      issues.push({ path: [i, "denominator"], message: "cannot be sent with a covariate (CUPED of ratio metrics)" })
    }
  }
  return issues
}

interface Group {
  readonly variant: number
  readonly metric: string
  summary: Summary
  covariatePairs?: PairedSummary
  denominatorPairs?: PairedSummary
}

const addToPairs = (group: Group, kind: PairKind, x: number, y: number) => {
  group[kind] = addPair(group[kind] ?? emptyPairedSummary, x, y)
}

/**
 * One summary per (variant, metric) of the batch, or every issue. Once an issue is found the
 * rest is still checked (all issues are reported) but no longer summarized.
 */
export const summarizeObservations = (
  experiment: Pick<Experiment, "id" | "variants" | "metricCaps">,
  observations: ReadonlyArray<Observation>
): Result.Result<Array<MetricUpdate>, ValidationError> => {
  const issues: Array<FieldIssue> = []
  const grouped = new Map<string, Group>()
  observations.forEach((o, i) => {
    const variant = variantOf(experiment, o.modelId)
    if (variant === -1) issues.push({ path: [i, "modelId"], message: notAVariant(experiment, o.modelId) })
    const valueProblem = boundedValueIssue(o.value)
    if (valueProblem !== undefined) issues.push({ path: [i, "value"], message: valueProblem })
    if (typeof o.metric !== "string" || !metricNamePattern.test(o.metric)) {
      issues.push({ path: [i, "metric"], message: "must be a metric name" })
    }
    if (o.covariate !== undefined || o.denominator !== undefined) issues.push(...pairIssues(o, i))
    if (issues.length === 0) {
      const key = `${variant}\u0000${o.metric}`
      let group = grouped.get(key)
      if (group === undefined) {
        group = { variant, metric: o.metric, summary: emptySummary }
        grouped.set(key, group)
      }
      const cap = capOf(experiment, o.metric)
      const value = capValue(cap, o.value)
      group.summary = addValue(group.summary, value)
      if (o.covariate !== undefined) addToPairs(group, "covariatePairs", capValue(cap, o.covariate), value)
      if (o.denominator !== undefined) addToPairs(group, "denominatorPairs", o.denominator, value)
    }
  })
  return issues.length > 0 ? Result.fail(invalidInput("metrics", issues)) : Result.succeed([...grouped.values()])
}

/** Exposures per variant index (counts[i] for variant i), or every issue. */
export const countExposures = (
  experiment: Pick<Experiment, "id" | "variants">,
  exposures: ReadonlyArray<Exposure>
): Result.Result<Array<number>, ValidationError> => {
  const counts = experiment.variants.map(() => 0)
  const issues: Array<FieldIssue> = []
  exposures.forEach((e, i) => {
    const variant = variantOf(experiment, e.modelId)
    if (variant === -1) {
      issues.push({ path: [i, "modelId"], message: notAVariant(experiment, e.modelId) })
    } else if (!(Number.isInteger(e.count) && e.count >= 0 && e.count <= MAX_EXPOSURES_PER_ENTRY)) {
      issues.push({ path: [i, "count"], message: `must be an integer from 0 to ${MAX_EXPOSURES_PER_ENTRY}` })
    } else counts[variant]! += e.count
  })
  return issues.length > 0 ? Result.fail(invalidInput("exposures", issues)) : Result.succeed(counts)
}

/** The issue with a user id (non-empty, at most 256 characters), if any. */
export const userIdIssue = (userId: unknown): string | undefined =>
  typeof userId === "string" && userId.length > 0 && userId.length <= 256
    ? undefined
    : "must be a non-empty string of at most 256 characters"
