/**
 * Gauges derived from storage (running experiments, artifact sizes, pipeline progress) are rebuilt
 * at scrape time, not on every change: rebuilding them means reading every experiment, model or
 * pipeline, so doing it on each start or completion made those calls cost O(stored records). A
 * rebuild is reused for `GaugeMaxAge` milliseconds, concurrent scrapes share one rebuild, and a
 * change made through this instance invalidates it, so the instance's next scrape is exact while a
 * change made through another instance shows within the max age (plus one rebuild).
 */
import { Clock, Context, Effect, Exit, Semaphore } from "effect"

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

export interface KeyedStorageGauges<E> {
  /**
   * Rebuilds every gauge when the last full rebuild is older than the max age; otherwise re-reads
   * only the keys marked changed since the last refresh (nothing when none were).
   */
  readonly refresh: Effect.Effect<void, E>
  /** Marks one key (an experiment id) changed through this instance: O(1), read at the next refresh. */
  readonly changed: (key: string) => Effect.Effect<void>
}

/**
 * Gauges made of one group of series per key (an experiment's traffic shares and means): a full
 * `rebuild` reads every key and is reused for `GaugeMaxAge` ms, which bounds how late changes
 * made elsewhere (another instance, new metric values) show; a change made through this instance
 * marks its key, and the next refresh calls `refreshKeys` with the marked keys only, so the
 * scrape after a start or completion costs O(changed) reads instead of O(stored). Refreshes run
 * one at a time (a concurrent scrape waits and then finds the gauges fresh); keys whose refresh
 * failed stay marked, a failed rebuild is retried on the next refresh.
 */
export const makeKeyedStorageGauges = <E>(options: {
  readonly rebuild: Effect.Effect<void, E>
  readonly refreshKeys: (keys: ReadonlyArray<string>) => Effect.Effect<void, E>
}): Effect.Effect<KeyedStorageGauges<E>> =>
  Effect.gen(function*() {
    const maxAge = yield* GaugeMaxAge
    const oneAtATime = yield* Semaphore.make(1)
    let rebuiltAt: number | undefined
    let marked = new Set<string>()
    const refresh = oneAtATime.withPermits(1)(Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      // Taken before reading storage: a key marked while this refresh runs is read by the next one.
      const keys = marked
      marked = new Set()
      if (rebuiltAt === undefined || now - rebuiltAt >= maxAge) {
        rebuiltAt = undefined
        yield* options.rebuild
        // Aged from its end: a rebuild slower than the max age (10,000 experiments on a loaded
        // Redis) must not make every following scrape a full rebuild again.
        rebuiltAt = yield* Clock.currentTimeMillis
      } else if (keys.size > 0) {
        yield* options.refreshKeys([...keys]).pipe(
          Effect.onError(() => Effect.sync(() => keys.forEach((key) => marked.add(key))))
        )
      }
    }))
    return { refresh, changed: (key) => Effect.sync(() => void marked.add(key)) }
  })
