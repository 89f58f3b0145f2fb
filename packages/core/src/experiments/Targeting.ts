/**
 * Who takes part in an experiment, in GrowthBook's order: the hashed value (the `hashAttribute`,
 * "id" = the user id by default, else the `fallbackAttribute`; a user with neither is left out),
 * the project holdout, the namespace range, the targeting condition, then the coverage and split
 * (Assignment.ts); a user who has a sticky variant keeps it past all but the first
 * (keepsStickyVariant). Everything that can be computed from the definition alone (the compiled
 * condition, the bucket ranges) is computed once by `makeTargetedAssigner`; a request only hashes
 * and runs the predicate.
 *
 * Pure and free of run-time imports besides Assignment.ts and Conditions.ts (exported alone as
 * @org/ml-core/targeting), so the SDK's local evaluation applies the server's rules.
 */
import { chooseVariation, currentWeights, getBucketRanges, hash, inNamespace } from "./Assignment.js"
import { compileCondition, conditionReadsId } from "./Conditions.js"
import type { Experiment, Holdout } from "./Experiment.js"
import type { Attributes } from "./Requests.js"

/** The fields of an experiment that decide who takes part. */
export type TargetedExperiment = Pick<
  Experiment,
  | "seed"
  | "coverage"
  | "mode"
  | "banditHistory"
  | "variants"
  | "condition"
  | "hashAttribute"
  | "fallbackAttribute"
  | "namespace"
  | "holdout"
>

/** Why a user is not in an experiment they asked about (besides its status). */
export type Exclusion = "hashAttribute" | "holdout" | "namespace" | "condition" | "coverage"

/** A variant index, or why the user is left out. */
export type Targeted = number | Exclusion

/**
 * Whether a user's kept sticky variant is served despite this targeting outcome. As GrowthBook's
 * sticky bucketing does, a user who already has a variant keeps it when the holdout, namespace,
 * condition or coverage would now leave them out (their attributes changed, the coverage shrank);
 * only a user without a hash value is left out, since there is nothing to look the variant up
 * by. To move users already assigned, start a new experiment.
 */
export const keepsStickyVariant = (targeted: Targeted): boolean => targeted !== "hashAttribute"

/** The seed of a holdout's hash, apart from every experiment's (whose seeds are their ids or chosen labels). */
export const holdoutSeed = (id: string): string => `__holdout_${id}`

/** Whether a hashed value falls in a holdout. */
export const inHoldout = (hashValue: string, holdout: Holdout): boolean =>
  hash(holdoutSeed(holdout.id), hashValue, 2)! < holdout.share

/**
 * The value hashed for a user (GrowthBook: a truthy attribute, as a string), or undefined. The
 * "id" attribute is the user id.
 */
export const hashValueOf = (
  experiment: Pick<TargetedExperiment, "hashAttribute" | "fallbackAttribute">,
  userId: string,
  attributes: Attributes | undefined
): string | undefined => {
  const read = (name: string) => (name === "id" ? userId : attributes !== undefined && Object.hasOwn(attributes, name)
    ? attributes[name]
    : undefined)
  const primary = read(experiment.hashAttribute ?? "id")
  if (primary) return String(primary)
  const fallback = experiment.fallbackAttribute === undefined ? undefined : read(experiment.fallbackAttribute)
  return fallback ? String(fallback) : undefined
}

/**
 * The variant each user gets, or why they are left out, with everything a definition fixes
 * computed once. `userId` is the "id" attribute (an "id" in `attributes` is ignored).
 */
export const makeTargetedAssigner = (
  experiment: TargetedExperiment
): (userId: string, attributes?: Attributes) => Targeted => {
  const ranges = getBucketRanges(experiment.variants.length, experiment.coverage, currentWeights(experiment))
  const { holdout, namespace, seed } = experiment
  const namespaceTuple = namespace === undefined ? undefined : [namespace.id, namespace.start, namespace.end] as const
  const matches = experiment.condition === undefined ? undefined : compileCondition(experiment.condition)
  const plain = experiment.hashAttribute === undefined && experiment.fallbackAttribute === undefined
  // Attributes never hold "id" (requests refuse it), so they need a copy with it only when the condition reads it.
  const readsId = experiment.condition !== undefined && conditionReadsId(experiment.condition)
  return (userId, attributes) => {
    const hashValue = plain ? userId : hashValueOf(experiment, userId, attributes)
    if (!hashValue) return "hashAttribute"
    if (holdout !== undefined && inHoldout(hashValue, holdout)) return "holdout"
    if (namespaceTuple !== undefined && !inNamespace(hashValue, namespaceTuple)) return "namespace"
    if (matches !== undefined) {
      const subject = readsId ? { ...attributes, id: userId } : attributes ?? {}
      if (!matches(subject)) return "condition"
    }
    const variant = chooseVariation(hash(seed, hashValue, 2)!, ranges)
    return variant === -1 ? "coverage" : variant
  }
}
