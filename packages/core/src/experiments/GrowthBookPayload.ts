/**
 * The GrowthBook SDK features payload of our experiments, so every maintained GrowthBook SDK
 * (Python, Go, Java, browsers, edge) evaluates them locally with our assignment rules. Each
 * experiment becomes one feature, named by its feature key (its id unless it sets `featureKey`;
 * unique among unfinished experiments), whose default value is the model our server
 * serves a user left out (the control), and whose one rule is:
 * - running: an experiment rule (variations = the variants' model ids, weights, coverage, seed,
 *   hashVersion 2, hash and fallback attributes, condition, namespace), with the holdout as a
 *   `filters` entry (GrowthBook's hash-range filter reproduces Targeting.ts's holdout exactly);
 * - draft, paused, completed: a force rule with the model our server answers (the declared
 *   winner after completion, else the control).
 * Users left out of a running experiment fall through to the default value, the control, which is
 * what our server answers them too.
 *
 * Pure and free of run-time imports besides Assignment.ts and Targeting.ts.
 */
import { currentWeights } from "./Assignment.js"
import type { Experiment } from "./Experiment.js"
import { holdoutSeed } from "./Targeting.js"

/** A hash-range filter as GrowthBook defines it: the user is kept when hash(seed, attribute) is in a range. */
export interface GrowthBookFilter {
  readonly seed: string
  readonly ranges: ReadonlyArray<readonly [number, number]>
  readonly attribute?: string
  readonly hashVersion: 1 | 2
}

export interface GrowthBookExperimentRule {
  readonly id: string
  readonly key: string
  readonly variations: ReadonlyArray<string>
  readonly weights: ReadonlyArray<number>
  readonly coverage: number
  readonly hashAttribute: string
  readonly fallbackAttribute?: string
  readonly hashVersion: 2
  readonly seed: string
  readonly name: string
  readonly meta: ReadonlyArray<{ readonly key: string; readonly name: string }>
  readonly condition?: Record<string, unknown>
  readonly namespace?: readonly [string, number, number]
  readonly filters?: ReadonlyArray<GrowthBookFilter>
}

export interface GrowthBookForceRule {
  readonly id: string
  readonly force: string
}

export interface GrowthBookFeature {
  readonly defaultValue: string
  readonly rules: ReadonlyArray<GrowthBookExperimentRule | GrowthBookForceRule>
}

export interface GrowthBookPayload {
  readonly status: 200
  readonly features: Readonly<Record<string, GrowthBookFeature>>
  readonly experiments: ReadonlyArray<never>
  /** The newest change among the experiments served: SDKs skip a payload whose dateUpdated they hold. */
  readonly dateUpdated: string
}

/** The payload with its features encrypted (`encryptedFeatures`, AES-CBC; the server encrypts). */
export interface EncryptedGrowthBookPayload {
  readonly status: 200
  readonly features: Readonly<Record<string, never>>
  readonly encryptedFeatures: string
  readonly experiments: ReadonlyArray<never>
  readonly dateUpdated: string
}

/** The name of an experiment's feature in the payload. */
export const featureKeyOf = (experiment: Pick<Experiment, "id" | "featureKey">): string =>
  experiment.featureKey ?? experiment.id

/** Completed experiments leave their feature key free for the next experiment (see featureKeyHolder). */
const holdsItsFeatureKey = (experiment: Experiment) => experiment.status !== "completed"

/**
 * The unfinished experiment other than `exceptId` whose feature key is `featureKey`, if any: an
 * experiment may only take a key no draft, running or paused experiment has.
 */
export const featureKeyHolder = (
  experiments: ReadonlyArray<Experiment>,
  featureKey: string,
  exceptId: string
): Experiment | undefined =>
  experiments.find((e) => e.id !== exceptId && holdsItsFeatureKey(e) && featureKeyOf(e) === featureKey)

/** Which of two experiments with one feature key the payload serves: the unfinished one, else the newer. */
const servedBefore = (a: Experiment, b: Experiment): boolean =>
  holdsItsFeatureKey(a) !== holdsItsFeatureKey(b)
    ? holdsItsFeatureKey(a)
    : a.updatedAt !== b.updatedAt
    ? a.updatedAt > b.updatedAt
    : a.id < b.id

/** The model our server serves to a user who is not in the experiment (Targeting.ts's exclusions). */
const controlModel = (experiment: Experiment): string =>
  (experiment.variants.find((v) => v.isControl) ?? experiment.variants[0]!).modelId

/** What our server answers everyone while an experiment is not running: the declared winner, else the control. */
export const modelWhenNotRunning = (experiment: Experiment): string => {
  const winner = experiment.decision?.winnerModelId
  return winner && experiment.variants.some((v) => v.modelId === winner) ? winner : controlModel(experiment)
}

/** GrowthBook's namespace hash (Assignment.ts's inNamespace) as a filter, so it can sit beside the holdout. */
const namespaceFilter = (
  namespace: NonNullable<Experiment["namespace"]>,
  attribute: string
): GrowthBookFilter => ({
  seed: `__${namespace.id}`,
  ranges: [[namespace.start, namespace.end]],
  attribute,
  hashVersion: 1
})

const experimentRule = (experiment: Experiment): GrowthBookExperimentRule => {
  const hashAttribute = experiment.hashAttribute ?? "id"
  const { holdout, namespace } = experiment
  // GrowthBook checks `filters` instead of `namespace` when a rule has filters, so with a holdout
  // the namespace travels as a filter too.
  const filters = holdout === undefined ? undefined : [
    { seed: holdoutSeed(holdout.id), ranges: [[holdout.share, 1]] as const, attribute: hashAttribute, hashVersion: 2 },
    ...(namespace === undefined ? [] : [namespaceFilter(namespace, hashAttribute)])
  ] satisfies ReadonlyArray<GrowthBookFilter>
  return {
    id: `${experiment.id}:r${experiment.revision}`,
    // The experiment's key in tracking callbacks stays its id, whatever the feature is called.
    key: experiment.id,
    variations: experiment.variants.map((v) => v.modelId),
    weights: currentWeights(experiment),
    coverage: experiment.coverage,
    hashAttribute,
    ...(experiment.fallbackAttribute === undefined ? {} : { fallbackAttribute: experiment.fallbackAttribute }),
    hashVersion: 2,
    seed: experiment.seed,
    name: experiment.name,
    meta: experiment.variants.map((v, i) => ({ key: String(i), name: v.modelId })),
    ...(experiment.condition === undefined ? {} : { condition: experiment.condition as Record<string, unknown> }),
    ...(filters !== undefined
      ? { filters }
      : namespace === undefined
      ? {}
      : { namespace: [namespace.id, namespace.start, namespace.end] as const })
  }
}

/** One experiment as a GrowthBook feature (see the module comment). */
export const growthBookFeature = (experiment: Experiment): GrowthBookFeature =>
  experiment.status === "running"
    ? { defaultValue: controlModel(experiment), rules: [experimentRule(experiment)] }
    : {
      defaultValue: modelWhenNotRunning(experiment),
      rules: [{ id: `${experiment.id}:${experiment.status}`, force: modelWhenNotRunning(experiment) }]
    }

/** The payload of `experiments` (already filtered to what the SDK connection may see). */
export const growthBookPayload = (experiments: ReadonlyArray<Experiment>): GrowthBookPayload => {
  // A completed experiment and its successor may share a key (or, after a race between two
  // instances, two unfinished ones): one of them is served, the same on every instance.
  const byKey = new Map<string, Experiment>()
  let dateUpdated = new Date(0).toISOString()
  for (const experiment of experiments) {
    const key = featureKeyOf(experiment)
    const other = byKey.get(key)
    if (other === undefined || servedBefore(experiment, other)) byKey.set(key, experiment)
    if (experiment.updatedAt > dateUpdated) dateUpdated = experiment.updatedAt
  }
  const features: Record<string, GrowthBookFeature> = {}
  for (const [key, experiment] of byKey) features[key] = growthBookFeature(experiment)
  return { status: 200, features, experiments: [], dateUpdated }
}
