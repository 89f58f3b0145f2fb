/**
 * False alarms over time. A monitor checks every `checkIntervalSeconds`, so even with no drift at
 * all some checks flag a feature by chance. This module gives, per monitor, the probability that
 * one check flags at least one feature when nothing drifted, the mean time between such checks,
 * and the `falseAlarms` setting that bounds it by deriving a stricter threshold from a target mean
 * time between false alarms.
 *
 * Each feature is decided by a rule: a p-value rule (flagged when its corrected p-value is below
 * the threshold) or a distance rule (flagged when the distance is at least the threshold). For
 * p-value rules the probability follows from the correction, assuming valid p-values (under no
 * drift P(p <= a) <= a; discrete tests are conservative, so the figures are then upper bounds):
 * - none: 1 - Π(1 - aᵢ) when the features are independent; at most min(1, Σ aᵢ) in any case;
 * - bonferroni (flagged when k·p < a): 1 - Π(1 - aᵢ/k) when independent; at most Σ aᵢ/k (= a) in any case;
 * - benjamini-hochberg: under no drift BH flags a feature exactly when Simes' test rejects, which
 *   has level a when the features are independent (exact for continuous p-values, at most a when
 *   positively dependent) and at most a·(1 + 1/2 + ... + 1/k) under any dependence (Hommel).
 * A distance rule has no level: its probability is estimated by resampling the frozen baseline
 * (DistanceFalseAlarms.ts). Rules combine as independent events (estimate) or by the union bound.
 *
 * The mean time between false alarms is interval / probability: the mean gap of a geometric run
 * of independent checks, and the long-run mean gap between flagged checks in any case (the share
 * of flagged checks is the probability whatever the correlation). Successive checks on a sliding
 * window share most of their values, so flagged checks come in runs, and a run raises one alert
 * (later checks of the run are the same alert, kept quiet by the cooldown): the mean time between
 * false *alerts* is therefore at least this figure — it is a lower bound.
 */
import { Schema } from "effect"
import type { FieldIssue } from "../shared/Errors.js"
import type { Correction, MonitorSettings } from "./Monitor.js"

const SECONDS_PER_DAY = 86_400

/** Flagged when the feature's corrected p-value is below `threshold`. */
export interface PValueRule {
  readonly kind: "p-value"
  readonly threshold: number
}

/** Flagged when the registered distance test `method` gives at least `threshold`. */
export interface DistanceRule {
  readonly kind: "distance"
  readonly method: string
  readonly threshold: number
}

export type DecisionRule = PValueRule | DistanceRule

export interface PerCheckFalseAlarm {
  /** Under no drift, with independent features (and the distance estimates). */
  readonly probability: number
  /** Under no drift, whatever the dependence between features (union bound; Hommel for BH). */
  readonly upperBound: number
}

const harmonic = (k: number): number => {
  let sum = 0
  for (let i = 1; i <= k; i++) sum += 1 / i
  return sum
}

/** 1 - Π(1 - pᵢ), summed in logs so tiny probabilities keep their digits. */
const anyOf = (probabilities: ReadonlyArray<number>): number => {
  let logNone = 0
  for (const p of probabilities) logNone += Math.log1p(-Math.min(p, 1))
  return -Math.expm1(logNone)
}

/** The p-value rules' probability of flagging at least one feature under no drift (see the module comment). */
export const pValueFalseAlarm = (thresholds: ReadonlyArray<number>, correction: Correction): PerCheckFalseAlarm => {
  const k = thresholds.length
  if (k === 0) return { probability: 0, upperBound: 0 }
  if (correction === "benjamini-hochberg") {
    // BH compares every adjusted p-value with one level; with differing thresholds the largest bounds it.
    const level = Math.max(...thresholds)
    return { probability: level, upperBound: Math.min(1, level * harmonic(k)) }
  }
  const perFeature = correction === "bonferroni" ? thresholds.map((a) => a / k) : thresholds
  return {
    probability: anyOf(perFeature),
    upperBound: Math.min(1, perFeature.reduce((sum, a) => sum + a, 0))
  }
}

/**
 * The probability that one check flags at least one feature under no drift: the p-value rules
 * corrected together, each distance rule by `distanceProbability` (its estimate, e.g. from
 * `distanceFalseAlarm`), combined as independent events and by the union bound.
 */
export const perCheckFalseAlarm = (
  rules: ReadonlyArray<DecisionRule>,
  correction: Correction,
  distanceProbability: (rule: DistanceRule, index: number) => number
): PerCheckFalseAlarm => {
  const thresholds: Array<number> = []
  const distances: Array<number> = []
  rules.forEach((rule, i) => {
    if (rule.kind === "p-value") thresholds.push(rule.threshold)
    else distances.push(distanceProbability(rule, i))
  })
  const pValues = pValueFalseAlarm(thresholds, correction)
  return {
    probability: anyOf([pValues.probability, ...distances]),
    upperBound: Math.min(1, distances.reduce((sum, q) => sum + q, pValues.upperBound))
  }
}

/** interval / probability in days; null when the probability is 0 (never). */
export const meanDaysBetween = (checkIntervalSeconds: number, probability: number): number | null =>
  probability > 0 ? checkIntervalSeconds / probability / SECONDS_PER_DAY : null

// ---- the bounding setting

/** The longest target accepted: 100 years. */
export const MAX_TARGET_DAYS = 36_500

export const FalseAlarmSettings = Schema.Struct({
  /** The mean time between false alarms to keep at least, in days. */
  targetMeanDaysBetween: Schema.Finite.check(
    Schema.isBetween({ minimum: 0, maximum: MAX_TARGET_DAYS, exclusiveMinimum: true }, {
      message: `must be greater than 0 and at most ${MAX_TARGET_DAYS} (days)`
    })
  )
})
export type FalseAlarmSettings = typeof FalseAlarmSettings.Type

/** The per-check level a target implies: interval / target (so interval / level is the target). */
export const checkLevelFor = (checkIntervalSeconds: number, target: FalseAlarmSettings): number =>
  checkIntervalSeconds / (target.targetMeanDaysBetween * SECONDS_PER_DAY)

/** The target must be longer than one check interval (else every check could alarm and still meet it). */
export const falseAlarmIssues = (
  settings: Pick<MonitorSettings, "checkIntervalSeconds" | "falseAlarms">
): Array<FieldIssue> => {
  if (settings.falseAlarms === undefined) return []
  if (checkLevelFor(settings.checkIntervalSeconds, settings.falseAlarms) < 1) return []
  const days = settings.checkIntervalSeconds / SECONDS_PER_DAY
  return [{
    path: ["settings", "falseAlarms", "targetMeanDaysBetween"],
    message: `must be longer than the check interval (checkIntervalSeconds ${settings.checkIntervalSeconds} = ${
      days.toPrecision(3)
    } days)`
  }]
}

/**
 * The settings a check decides with. With `falseAlarms`, p-values are corrected by Bonferroni
 * (the one correction whose bound needs no independence) against the smaller of the monitor's
 * threshold and the target's per-check level, so one check flags a feature by chance with
 * probability at most interval / target, each of k features at level / k.
 */
export const decisionSettings = (settings: MonitorSettings): MonitorSettings =>
  settings.falseAlarms === undefined ? settings : {
    ...settings,
    correction: "bonferroni",
    pValueThreshold: Math.min(
      settings.pValueThreshold,
      checkLevelFor(settings.checkIntervalSeconds, settings.falseAlarms)
    )
  }

// ---- the figures in reports and on GET /v1/drift/monitors/{id}/false-alarms

const Probability = Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 }))
const Days = Schema.NullOr(Schema.Finite)

export const FalseAlarmFigures = Schema.Struct({
  checkIntervalSeconds: Schema.Int,
  /** Features the figures count (in a report: the features this check tested). */
  features: Schema.Int,
  /** The correction and the threshold the check decides with (after `falseAlarms`). */
  correction: Schema.Literals(["none", "bonferroni", "benjamini-hochberg"]),
  pValueThreshold: Schema.Finite,
  /** P(at least one feature flagged in one check | no drift), features independent. */
  perCheckProbability: Probability,
  /** The same whatever the dependence between features. */
  perCheckUpperBound: Probability,
  /** interval / perCheckProbability in days (null: never); a lower bound on the mean time between false alerts. */
  meanDaysBetween: Days,
  /** interval / perCheckUpperBound in days: holds without the independence assumption. */
  meanDaysBetweenAtLeast: Days,
  /** The target of settings.falseAlarms, when set. */
  targetMeanDaysBetween: Schema.optionalKey(Schema.Finite)
})
export type FalseAlarmFigures = typeof FalseAlarmFigures.Type

/** The figures of a monitor whose checks decide with `rules` under `settings` (as given, before `decisionSettings`). */
export const falseAlarmFigures = (
  settings: MonitorSettings,
  rules: ReadonlyArray<DecisionRule>,
  distanceProbability: (rule: DistanceRule, index: number) => number = () => {
    throw new Error("a distance rule needs its estimated probability")
  }
): FalseAlarmFigures => {
  const decided = decisionSettings(settings)
  const effective = rules.map((rule): DecisionRule =>
    rule.kind === "p-value" ? { ...rule, threshold: Math.min(rule.threshold, decided.pValueThreshold) } : rule
  )
  const perCheck = perCheckFalseAlarm(effective, decided.correction, distanceProbability)
  return {
    checkIntervalSeconds: settings.checkIntervalSeconds,
    features: rules.length,
    correction: decided.correction,
    pValueThreshold: decided.pValueThreshold,
    perCheckProbability: perCheck.probability,
    perCheckUpperBound: perCheck.upperBound,
    meanDaysBetween: meanDaysBetween(settings.checkIntervalSeconds, perCheck.probability),
    meanDaysBetweenAtLeast: meanDaysBetween(settings.checkIntervalSeconds, perCheck.upperBound),
    ...(settings.falseAlarms ? { targetMeanDaysBetween: settings.falseAlarms.targetMeanDaysBetween } : {})
  }
}
