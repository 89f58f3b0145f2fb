/**
 * A change feed over a store read, for any store (memory, fs, Redis, PostgreSQL): while it is
 * wanted it reads every `intervalMs` (250 ms by default) and tells listeners when the read's
 * `version` moved. It is wanted while someone listens, and for `keepWarmMs` after the last
 * `snapshot()`, so a polled endpoint answers from the kept state (at most one interval behind
 * the store, however many requests arrive) instead of reading per request. A change made through
 * this instance calls `invalidate()`: the next snapshot reads afresh, so a client reads its own
 * writes at once; other instances' changes arrive within one interval. Equal versions keep the
 * same snapshot object, so callers may key caches on its identity. Nobody wanting it: no reads.
 */
export interface ChangeFeed<S extends { readonly version: string }> {
  /** The state as stored now (a fresh read). */
  readonly current: () => Promise<S>
  /** The kept state when it is being polled and nothing was invalidated since, else a fresh read. */
  readonly snapshot: () => Promise<S>
  /** A change was made through this instance: the next snapshot reads afresh, and listeners hear of it now. */
  readonly invalidate: () => void
  /** Calls `listener` with each new version (the first poll's included); answers the unsubscribe. */
  readonly subscribe: (listener: (snapshot: S) => void) => () => void
  /** How many listeners there are (tests, metrics). */
  readonly listeners: () => number
  /** Stops polling and forgets the listeners (server shutdown). */
  readonly close: () => void
}

export const makeChangeFeed = <S extends { readonly version: string }>(options: {
  readonly read: () => Promise<S>
  readonly intervalMs?: number | undefined
  readonly keepWarmMs?: number | undefined
  /** Names the feed in log lines. */
  readonly name: string
  readonly log?: ((line: string) => void) | undefined
}): ChangeFeed<S> => {
  const intervalMs = options.intervalMs ?? 250
  const keepWarmMs = options.keepWarmMs ?? 30_000
  const listeners = new Set<(snapshot: S) => void>()
  let latest: S | undefined
  /** Reads started and the newest one adopted: a slow older read never replaces a newer state. */
  let readsStarted = 0
  let adoptedRead = 0
  /** Bumped by invalidate(): a read started before the latest invalidation may miss that change. */
  let invalidations = 0
  let freshAsOf = -1
  let pending: { readonly invalidations: number; readonly promise: Promise<S> } | undefined
  let timer: ReturnType<typeof setInterval> | undefined
  let warmUntil = 0
  let failures = 0
  let closed = false

  const adopt = (snapshot: S, read: number, startedAt: number): S => {
    if (read > adoptedRead) {
      adoptedRead = read
      if (snapshot.version !== latest?.version) {
        latest = snapshot
        for (const listener of listeners) listener(snapshot)
      }
    }
    if (startedAt > freshAsOf) freshAsOf = startedAt
    return latest ?? snapshot
  }

  /** A read that started after the latest invalidation: joined when one is under way. */
  const freshRead = (): Promise<S> => {
    if (pending !== undefined && pending.invalidations === invalidations) return pending.promise
    const read = ++readsStarted
    const startedAt = invalidations
    const promise = options.read().then((snapshot) => adopt(snapshot, read, startedAt))
    const entry = { invalidations: startedAt, promise }
    pending = entry
    const settle = () => {
      if (pending === entry) pending = undefined
    }
    promise.then(settle, settle)
    return promise
  }

  const stop = () => {
    if (timer !== undefined) clearInterval(timer)
    timer = undefined
    // Unpolled, the kept state falls behind: the next reader starts from a fresh read.
    latest = undefined
    freshAsOf = -1
  }

  const poll = () => {
    if (listeners.size === 0 && Date.now() >= warmUntil) return stop()
    freshRead().then(() => {
      failures = 0
    }, (error: unknown) => {
      // Logged once per run of failures: the next successful read catches the listeners up.
      if (failures++ === 0) options.log?.(`${options.name} change feed: reading the store failed: ${String(error)}`)
    })
  }

  const ensurePolling = () => {
    if (timer !== undefined || closed) return
    timer = setInterval(poll, intervalMs)
    ;(timer as { unref?: () => void }).unref?.()
    poll()
  }

  return {
    current: options.read,
    snapshot: () => {
      warmUntil = Date.now() + keepWarmMs
      const kept = timer !== undefined && freshAsOf === invalidations ? latest : undefined
      ensurePolling()
      return kept !== undefined ? Promise.resolve(kept) : freshRead()
    },
    invalidate: () => {
      invalidations++
      if (timer !== undefined && listeners.size > 0) poll()
    },
    subscribe: (listener) => {
      if (closed) return () => undefined
      let subscribed = true
      const start = (snapshot: S) => {
        if (!subscribed || closed) return
        listeners.add(listener)
        listener(latest ?? snapshot)
        ensurePolling()
      }
      // The kept state only while it is polled and nothing was invalidated since: a new listener
      // must not start from a state older than a change this instance already answered.
      if (latest !== undefined && timer !== undefined && freshAsOf === invalidations) start(latest)
      else {
        freshRead().then(start, (error: unknown) => {
          options.log?.(`${options.name} change feed: reading the store failed: ${String(error)}`)
          if (subscribed && !closed) {
            listeners.add(listener)
            ensurePolling()
          }
        })
      }
      return () => {
        subscribed = false
        listeners.delete(listener)
      }
    },
    listeners: () => listeners.size,
    close: () => {
      closed = true
      listeners.clear()
      stop()
    }
  }
}
