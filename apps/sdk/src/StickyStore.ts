/**
 * Sticky bucketing for local evaluation: where a user's variant of a sticky experiment is kept,
 * so they keep it across a re-split, as the server's stored assignments do. The store is
 * pluggable; two come with the SDK: `localStorageStickyStore` (browsers; here) and
 * `redisStickyStore` (servers; the `@org/ml-sdk/redis-sticky` entry, so browser bundles never
 * see Redis). Keys are the experiment id and the user id, as on the server.
 */

/** A user's kept variant of one experiment. */
export interface StickyAssignment {
  readonly variant: number
  readonly modelId: string
}

export interface StickyStore {
  readonly get: (experimentId: string, userId: string) => Promise<StickyAssignment | undefined>
  /** Keeps `assignment` unless the user has one; answers the kept one (set if absent, like the server). */
  readonly setIfAbsent: (
    experimentId: string,
    userId: string,
    assignment: StickyAssignment
  ) => Promise<StickyAssignment>
}

/** Reads a stored value; anything that is not a kept assignment (edited, from another version) is none. */
export const parseStickyAssignment = (raw: string | null | undefined): StickyAssignment | undefined => {
  if (raw === null || raw === undefined) return undefined
  try {
    const value = JSON.parse(raw) as { variant?: unknown; modelId?: unknown }
    return Number.isInteger(value.variant) && typeof value.modelId === "string"
      ? { variant: value.variant as number, modelId: value.modelId }
      : undefined
  } catch {
    return undefined
  }
}

/** The key of one user's assignment; both parts encoded, so no two pairs collide. */
export const stickyKey = (prefix: string, experimentId: string, userId: string): string =>
  `${prefix}${encodeURIComponent(experimentId)}:${encodeURIComponent(userId)}`

/** The part of the Web Storage API the store uses (window.localStorage, or any compatible object). */
export interface StorageLike {
  getItem(key: string): string | null
  setItem(key: string, value: string): void
}

/**
 * Browser storage: one item per experiment and user under `prefix` (default "ml-sticky:"). A full
 * or unavailable storage (private mode) keeps nothing and the hash decides, as on the server when
 * its store fails.
 */
export const localStorageStickyStore = (
  options: { readonly storage?: StorageLike | undefined; readonly prefix?: string | undefined } = {}
): StickyStore => {
  const prefix = options.prefix ?? "ml-sticky:"
  const storage = (): StorageLike | undefined => {
    if (options.storage !== undefined) return options.storage
    try {
      return (globalThis as { localStorage?: StorageLike }).localStorage
    } catch {
      return undefined
    }
  }
  const get = (experimentId: string, userId: string) => {
    try {
      return parseStickyAssignment(storage()?.getItem(stickyKey(prefix, experimentId, userId)))
    } catch {
      return undefined
    }
  }
  return {
    get: (experimentId, userId) => Promise.resolve(get(experimentId, userId)),
    setIfAbsent: (experimentId, userId, assignment) => {
      const kept = get(experimentId, userId)
      if (kept !== undefined) return Promise.resolve(kept)
      try {
        storage()?.setItem(stickyKey(prefix, experimentId, userId), JSON.stringify(assignment))
      } catch {
        // Quota exceeded or storage disabled: serve the hashed variant without keeping it.
      }
      return Promise.resolve(assignment)
    }
  }
}

/** In-process storage: tests, and servers whose users never move between instances. */
export const memoryStickyStore = (): StickyStore => {
  const kept = new Map<string, StickyAssignment>()
  return {
    get: (experimentId, userId) => Promise.resolve(kept.get(stickyKey("", experimentId, userId))),
    setIfAbsent: (experimentId, userId, assignment) => {
      const key = stickyKey("", experimentId, userId)
      const existing = kept.get(key)
      if (existing !== undefined) return Promise.resolve(existing)
      kept.set(key, assignment)
      return Promise.resolve(assignment)
    }
  }
}
