/**
 * The change feed of experiment definitions (ChangeFeed.ts over the experiments list): its
 * version is each id at its revision. Every change bumps an experiment's revision through the
 * store's commit, so a change made by any instance sharing the store is seen within one interval.
 * Where the store has a definitions token (Redis, PostgreSQL), a tick reads the token and lists
 * only when it moved (and every few seconds regardless), not every definition four times a second.
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

/** With a token, a full list at least this often all the same: a lost token bump costs no more. */
const RELIST_MS = 5_000

export const makeExperimentFeed = (options: {
  readonly list: () => Promise<ReadonlyArray<Experiment>>
  /** The store's definitions token (ExperimentStore.definitionsToken), undefined where it has none. */
  readonly token?: (() => Promise<string | undefined>) | undefined
  readonly intervalMs?: number | undefined
  readonly keepWarmMs?: number | undefined
  readonly log?: ((line: string) => void) | undefined
}): ExperimentFeed => {
  let listed: { readonly token: string; readonly at: number; readonly snapshot: ExperimentsSnapshot } | undefined
  return makeChangeFeed({
    name: "Experiment",
    read: async () => {
      // Read before the list: a change between the two is listed now and moves the token again.
      const token = await options.token?.()
      const now = Date.now()
      if (token !== undefined && listed?.token === token && now - listed.at < RELIST_MS) return listed.snapshot
      const experiments = await options.list()
      const snapshot = { experiments, version: versionOf(experiments) }
      listed = token === undefined ? undefined : { token, at: now, snapshot }
      return snapshot
    },
    intervalMs: options.intervalMs,
    keepWarmMs: options.keepWarmMs,
    log: options.log
  })
}
