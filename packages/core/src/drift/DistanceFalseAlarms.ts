/**
 * The false-alarm probability of a distance rule (FalseAlarms.ts), which has no significance
 * level: estimated by resampling the frozen baseline, deterministically (seeded), and cached per
 * baseline version.
 */
import { beta } from "../stats/Distributions.js"
import { makeRandom, type Random } from "../stats/Random.js"
import { type Baseline, makeBaseline } from "./Baseline.js"
import { type DecisionRule, type FalseAlarmFigures, falseAlarmFigures } from "./FalseAlarms.js"
import type { MonitorSettings } from "./Monitor.js"
import { countCategories } from "./Observations.js"
import type { DriftTest } from "./tests/DriftTest.js"
import { driftTests, extraDriftTests } from "./tests/registry.js"

export interface DistanceFalseAlarm {
  /** Share of resamples whose distance reached the threshold. */
  readonly probability: number
  readonly exceedances: number
  readonly resamples: number
  /** One-sided 95% Clopper-Pearson upper bound of the probability. */
  readonly upperBound95: number
}

/** Uniform draws with replacement from a numeric baseline's sample, or by a categorical one's counts. */
const drawer = (baseline: Baseline, random: Random) => {
  if (baseline.type === "numeric") {
    const sample = baseline.sample
    return (n: number) => Array.from({ length: n }, () => sample[Math.floor(random.uniform() * sample.length)]!)
  }
  const categories = Object.keys(baseline.counts).sort()
  const cumulative: Array<number> = []
  let total = 0
  for (const c of categories) cumulative.push(total += baseline.counts[c]!)
  return (n: number) =>
    Array.from({ length: n }, () => {
      const u = random.uniform() * total
      let lo = 0
      let hi = cumulative.length - 1
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        if (cumulative[mid]! > u) hi = mid
        else lo = mid + 1
      }
      return categories[lo]!
    })
}

/**
 * How often the distance test `test` reaches `threshold` when nothing drifted, estimated from
 * `resamples` pairs of draws (with replacement, seeded, so the same inputs give the same answer):
 * a pseudo-baseline of min(baseline size, window size) values, frozen as a baseline is (its own
 * bins), and a pseudo-window of `windowSize` values, both from the frozen baseline. Drawing the
 * pseudo-baseline no larger than the window makes the estimate conservative (too high) when the
 * real baseline holds more values than the window, and faithful otherwise.
 */
export const distanceFalseAlarm = (input: {
  readonly test: DriftTest
  readonly baseline: Baseline
  readonly windowSize: number
  readonly threshold: number
  readonly settings: MonitorSettings
  readonly resamples?: number | undefined
  readonly seed?: string | undefined
}): DistanceFalseAlarm => {
  const { baseline, settings, test, threshold, windowSize } = input
  if (test.appliesTo !== baseline.type) {
    throw new Error(`${test.name} applies to ${test.appliesTo} features, the baseline is ${baseline.type}`)
  }
  const resamples = input.resamples ?? 200
  const random = makeRandom(input.seed ?? `false-alarms:${test.name}:${baseline.version}`)
  const draw = drawer(baseline, random)
  const baselineSize = Math.min(baseline.type === "numeric" ? baseline.sample.length : baseline.count, windowSize)
  let exceedances = 0
  for (let r = 0; r < resamples; r++) {
    const pseudoBaseline = makeBaseline({
      monitorId: "false-alarms",
      feature: test.name,
      type: baseline.type,
      values: draw(baselineSize),
      version: r + 1,
      at: baseline.createdAt,
      settings
    })
    const window = draw(windowSize)
    const result = test.appliesTo === "numeric"
      ? test.run(pseudoBaseline as Baseline & { type: "numeric" }, window as Array<number>, settings)
      : test.run(
        pseudoBaseline as Baseline & { type: "categorical" },
        countCategories(window as Array<string>),
        settings
      )
    if (result !== null && result.statistic >= threshold) exceedances++
  }
  return {
    probability: exceedances / resamples,
    exceedances,
    resamples,
    upperBound95: exceedances === resamples ? 1 : beta(exceedances + 1, resamples - exceedances).quantile(0.95)
  }
}

/**
 * Remembers distance estimates per (monitor, feature, baseline version, method, threshold,
 * window size): a baseline version is frozen, so its estimate never changes, and the 200
 * resamples are paid once per version rather than per check. Holds at most `maxEntries`, the
 * oldest dropped first.
 */
export const makeDistanceFalseAlarmCache = (maxEntries = 10_000) => {
  const entries = new Map<string, DistanceFalseAlarm>()
  return {
    get: (
      key: {
        readonly monitorId: string
        readonly feature: string
        readonly baselineVersion: number
        readonly method: string
        readonly threshold: number
        readonly windowSize: number
      },
      estimate: () => DistanceFalseAlarm
    ): DistanceFalseAlarm => {
      const id = JSON.stringify([
        key.monitorId,
        key.feature,
        key.baselineVersion,
        key.method,
        key.threshold,
        key.windowSize
      ])
      const known = entries.get(id)
      if (known !== undefined) return known
      const value = estimate()
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!)
      entries.set(id, value)
      return value
    }
  }
}

export type DistanceFalseAlarmCache = ReturnType<typeof makeDistanceFalseAlarmCache>

/** The registered test a distance rule names for a feature type (the decision tests, then the extra ones). */
export const distanceTestFor = (method: string, type: Baseline["type"]): DriftTest | undefined =>
  [...driftTests, ...extraDriftTests].find((t) => t.name === method && t.appliesTo === type)

/**
 * A monitor's false-alarm figures for its features' decision rules: p-value rules by their
 * correction, each distance rule by resampling its feature's latest baseline (cached per version).
 * A distance rule whose method is not registered for the feature's type, or whose feature has no
 * baseline yet, counts as certain to alarm, so a misconfiguration shows instead of hiding.
 */
export const monitorFalseAlarms = (input: {
  readonly monitorId: string
  readonly settings: MonitorSettings
  readonly features: ReadonlyArray<
    { readonly feature: string; readonly rule: DecisionRule; readonly baseline: Baseline | undefined }
  >
  readonly cache: DistanceFalseAlarmCache
}): FalseAlarmFigures =>
  falseAlarmFigures(input.settings, input.features.map((f) => f.rule), (rule, i) => {
    const { baseline, feature } = input.features[i]!
    const test = baseline === undefined ? undefined : distanceTestFor(rule.method, baseline.type)
    if (baseline === undefined || test === undefined) return 1
    const key = {
      monitorId: input.monitorId,
      feature,
      baselineVersion: baseline.version,
      method: rule.method,
      threshold: rule.threshold,
      windowSize: input.settings.windowSize
    }
    return input.cache.get(key, () =>
      distanceFalseAlarm({
        test,
        baseline,
        windowSize: input.settings.windowSize,
        threshold: rule.threshold,
        settings: input.settings,
        seed: JSON.stringify(key)
      })).probability
  })
