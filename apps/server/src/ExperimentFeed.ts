/**
 * The change feed of experiment definitions, one piece for every store (memory, fs, Redis,
 * PostgreSQL): while someone listens, it reads the experiments list every `intervalMs` (250 ms
 * by default) and tells the listeners when the list's version (each id at its revision) moved.
 * Every change bumps an experiment's revision through the store's commit, so a change made by
 * any instance sharing the store is seen here within one interval. Nobody listening: no reads.
 * The server-sent event streams (our SDK's and GrowthBook's /sub) are its listeners.
 */
import type { Experiment } from "@org/ml-core"

export interface ExperimentsSnapshot {
  readonly experiments: ReadonlyArray<Experiment>
  /** Each experiment's id and revision: equal versions hold equal definitions. */
  readonly version: string
}

export interface ExperimentFeed {
  /** The experiments as stored now (a fresh read). */
  readonly current: () => Promise<ExperimentsSnapshot>
  /** Calls `listener` with each new version (the first poll's included); answers the unsubscribe. */
  readonly subscribe: (listener: (snapshot: ExperimentsSnapshot) => void) => () => void
  /** How many listeners there are (tests, metrics). */
  readonly listeners: () => number
}

export const versionOf = (experiments: ReadonlyArray<Experiment>): string =>
  experiments.map((e) => `${e.id}@${e.revision}`).join(",")

export const makeExperimentFeed = (options: {
  readonly list: () => Promise<ReadonlyArray<Experiment>>
  readonly intervalMs?: number | undefined
  readonly log?: ((line: string) => void) | undefined
}): ExperimentFeed => {
  const intervalMs = options.intervalMs ?? 250
  const listeners = new Set<(snapshot: ExperimentsSnapshot) => void>()
  let latest: ExperimentsSnapshot | undefined
  let timer: ReturnType<typeof setInterval> | undefined
  let polling = false
  let failures = 0

  const current = async (): Promise<ExperimentsSnapshot> => {
    const experiments = await options.list()
    return { experiments, version: versionOf(experiments) }
  }

  const poll = async () => {
    // A slow store never has two reads of ours in flight.
    if (polling) return
    polling = true
    try {
      const snapshot = await current()
      failures = 0
      if (snapshot.version === latest?.version) return
      latest = snapshot
      for (const listener of listeners) listener(snapshot)
    } catch (error) {
      // Logged once per run of failures: the next successful read catches the listeners up.
      if (failures++ === 0) options.log?.(`Experiment change feed: reading the store failed: ${String(error)}`)
    } finally {
      polling = false
    }
  }

  return {
    current,
    subscribe: (listener) => {
      listeners.add(listener)
      if (latest !== undefined) listener(latest)
      if (timer === undefined) {
        timer = setInterval(() => void poll(), intervalMs)
        ;(timer as { unref?: () => void }).unref?.()
        void poll()
      }
      return () => {
        listeners.delete(listener)
        if (listeners.size === 0 && timer !== undefined) {
          clearInterval(timer)
          timer = undefined
          // A later subscriber starts from a fresh read, never from a version kept while nobody listened.
          latest = undefined
        }
      }
    },
    listeners: () => listeners.size
  }
}
