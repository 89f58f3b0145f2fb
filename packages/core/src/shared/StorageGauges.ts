/**
 * Gauges derived from storage (running experiments, artifact sizes, pipeline progress) are rebuilt
 * at scrape time, not on every change: rebuilding them means reading every experiment, model or
 * pipeline, so doing it on each start or completion made those calls cost O(stored records). A
 * rebuild is reused for `GaugeMaxAge` milliseconds, concurrent scrapes share one rebuild, and a
 * change made through this instance invalidates it, so the instance's next scrape is exact while a
 * change made through another instance shows within the max age (plus one rebuild).
 */
import { Context, Effect, Exit } from "effect"

/** How long a rebuild of the storage-derived gauges is reused, in ms (0: every scrape rebuilds). */
export const GaugeMaxAge = Context.Reference<number>("@org/ml-core/GaugeMaxAge", { defaultValue: () => 10_000 })

export interface StorageGauges<E> {
  /** Rebuilds the gauges unless a rebuild finished less than the max age ago and nothing invalidated it. */
  readonly refresh: Effect.Effect<void, E>
  /** Marks the gauges stale, so the next refresh rebuilds them: O(1), for the paths that change state. */
  readonly invalidate: Effect.Effect<void>
}

/** `rebuild` reused for `GaugeMaxAge` ms after it succeeds; a failed rebuild is retried on the next refresh. */
export const makeStorageGauges = <E>(rebuild: Effect.Effect<void, E>): Effect.Effect<StorageGauges<E>> =>
  Effect.gen(function*() {
    const maxAge = yield* GaugeMaxAge
    const [refresh, invalidate] = yield* Effect.cachedInvalidateWithTTL(
      rebuild,
      (exit: Exit.Exit<void, E>) => Exit.isSuccess(exit) ? maxAge : 0
    )
    return { refresh, invalidate }
  })
