/**
 * The registry's lifecycle as the dashboard needs it: which statuses an action may move a version
 * to. It mirrors the core's Lifecycle.transitions (importing the core would bring Effect into the
 * bundle); the server refuses anything else anyway, with a message the form shows.
 */
import type { ModelStatus } from "@org/ml-sdk"

export const modelStatuses: ReadonlyArray<ModelStatus> = ["draft", "testing", "staging", "production", "archived"]

const forward: { readonly [S in ModelStatus]: ReadonlyArray<ModelStatus> } = {
  draft: ["testing"],
  testing: ["staging"],
  staging: ["production"],
  production: [],
  archived: []
}

/** Where "promote" may take a version (archiving is its own action). */
export const promotionTargets = (status: ModelStatus, mayPromoteToProduction: boolean): ReadonlyArray<ModelStatus> =>
  forward[status].filter((target) => target !== "production" || mayPromoteToProduction)

export const canArchive = (status: ModelStatus): boolean => status !== "archived"

export const isModelStatus = (value: string | undefined): value is ModelStatus =>
  value !== undefined && (modelStatuses as ReadonlyArray<string>).includes(value)
