/**
 * The change feed of experiment definitions (ChangeFeed.ts over the experiments list): its
 * version is each id at its revision. Every change bumps an experiment's revision through the
 * store's commit, so a change made by any instance sharing the store is seen within one interval.
 * The server-sent event streams (our SDK's and GrowthBook's /sub) are its listeners, and the
 * GrowthBook payload is built from its snapshots, once per version (routes/sdk.ts).
 */
import type { Experiment } from "@org/ml-core"
import { type ChangeFeed, makeChangeFeed } from "./ChangeFeed.js"

export interface ExperimentsSnapshot {
  readonly experiments: ReadonlyArray<Experiment>
  /** Each experiment's id and revision: equal versions hold equal definitions. */
  readonly version: string
}

export type ExperimentFeed = ChangeFeed<ExperimentsSnapshot>

export const versionOf = (experiments: ReadonlyArray<Experiment>): string =>
  experiments.map((e) => `${e.id}@${e.revision}`).join(",")

export const makeExperimentFeed = (options: {
  readonly list: () => Promise<ReadonlyArray<Experiment>>
  readonly intervalMs?: number | undefined
  readonly keepWarmMs?: number | undefined
  readonly log?: ((line: string) => void) | undefined
}): ExperimentFeed =>
  makeChangeFeed({
    name: "Experiment",
    read: async () => {
      const experiments = await options.list()
      return { experiments, version: versionOf(experiments) }
    },
    intervalMs: options.intervalMs,
    keepWarmMs: options.keepWarmMs,
    log: options.log
  })
