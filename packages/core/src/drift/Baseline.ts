/**
 * Baselines: a feature's reference distribution, frozen when set and versioned (re-baselining
 * keeps the old ones). A numeric baseline keeps the PSI bins and shares, summary statistics and
 * the KS reference sample; a categorical one keeps the count per category. Building one is pure.
 */
import { Schema } from "effect"
import { Instant } from "../registry/Model.js"
import type { FieldIssue } from "../shared/Errors.js"
import { psiBins, quantiles } from "../stats/Psi.js"
import { makeRandom } from "../stats/Random.js"
import { summarize, variance } from "../stats/Summary.js"
import type { FeatureType, MonitorSettings } from "./Monitor.js"
import { countCategories, splitMissing } from "./Observations.js"
import { FiniteNumbers, type WindowValue } from "./ValueArrays.js"

/** Baselines keep every value up to this many; beyond, a seeded uniform reservoir of this size. */
export const reservoirSize = 100_000

const Count = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const Share = Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 }))

const baselineFields = {
  version: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
  createdAt: Instant,
  count: Count,
  missingShare: Share
}

export const NumericBaseline = Schema.Struct({
  type: Schema.Literal("numeric"),
  ...baselineFields,
  mean: Schema.Finite,
  sd: Schema.Finite,
  quantiles: Schema.Record(Schema.String, Schema.Finite),
  edges: FiniteNumbers,
  shares: FiniteNumbers,
  /**
   * The KS reference: every value, or a seeded uniform reservoir of `reservoirSize` when there are
   * more; in ascending order (since this release), so the tests that need it sorted (KS, split PSI,
   * Wasserstein, ...) do not sort it again at every check. Older baselines in any order still work.
   */
  sample: FiniteNumbers,
  sampled: Schema.Boolean
})
export type NumericBaseline = typeof NumericBaseline.Type

export const CategoricalBaseline = Schema.Struct({
  type: Schema.Literal("categorical"),
  ...baselineFields,
  counts: Schema.Record(Schema.String, Count)
})
export type CategoricalBaseline = typeof CategoricalBaseline.Type

export const Baseline = Schema.Union([NumericBaseline, CategoricalBaseline])
export type Baseline = typeof Baseline.Type

/** A baseline needs at least two values of each feature given, and at least one feature. */
export const baselineIssues = (values: Readonly<Record<string, ReadonlyArray<WindowValue>>>): Array<FieldIssue> => {
  const issues: Array<FieldIssue> = []
  for (const [feature, list] of Object.entries(values)) {
    if (Array.isArray(list) && list.filter((v) => v !== null).length < 2) {
      issues.push({ path: [feature], message: "a baseline needs at least 2 non-missing values" })
    }
  }
  if (Object.keys(values).length === 0) issues.push({ path: [], message: "give at least one feature's values" })
  return issues
}

const quantileLevels = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]

/** Algorithm R with a generator seeded by `seed`: a uniform sample, the same for the same data. */
const reservoir = (numbers: ReadonlyArray<number>, seed: string): Array<number> => {
  const random = makeRandom(seed)
  const sample = numbers.slice(0, reservoirSize)
  for (let i = reservoirSize; i < numbers.length; i++) {
    const j = Math.floor(random.uniform() * (i + 1))
    if (j < reservoirSize) sample[j] = numbers[i]!
  }
  return sample
}

/** Freezes version `version` of a feature's baseline from its values (already checked against its type). */
export const makeBaseline = (input: {
  readonly monitorId: string
  readonly feature: string
  readonly type: FeatureType
  readonly values: ReadonlyArray<WindowValue>
  readonly version: number
  readonly at: string
  readonly settings: Pick<MonitorSettings, "psiBins" | "psiStrategy">
}): Baseline => {
  const { at, type, version } = input
  const { missingShare, present } = splitMissing(input.values)
  if (type === "categorical") {
    const counts = countCategories(present as Array<string>)
    return { type, version, createdAt: at, count: present.length, missingShare, counts }
  }
  const numbers = present as Array<number>
  const summary = summarize(numbers)
  const bins = psiBins(numbers, { bins: input.settings.psiBins, strategy: input.settings.psiStrategy })
  const qv = quantiles(numbers, quantileLevels)
  const sampled = numbers.length > reservoirSize
  return {
    type,
    version,
    createdAt: at,
    count: numbers.length,
    missingShare,
    mean: summary.mean,
    sd: numbers.length >= 2 ? Math.sqrt(variance(summary)) : 0,
    quantiles: Object.fromEntries(quantileLevels.map((q, i) => [`p${Math.round(q * 100)}`, qv[i]!])),
    edges: bins.edges,
    shares: bins.baselineShares,
    sample: Array.from(
      Float64Array.from(sampled ? reservoir(numbers, `${input.monitorId}:${input.feature}:${version}`) : numbers).sort()
    ),
    sampled
  }
}
