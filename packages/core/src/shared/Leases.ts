/**
 * Port: leases with expiry, so that among several instances exactly one does a periodic job
 * (a drift check of one monitor, a pipeline update) and another takes over when it dies.
 */
import { Clock, Context, Effect, Layer } from "effect"
import type { StorageError } from "./Errors.js"

export interface LeasesShape {
  /**
   * Takes the lease `name` for `ttlMillis` if it is free or expired; true when taken. A holder
   * cannot renew early: a job guarded by a lease of its period runs once per period, by one
   * instance, and another instance takes over once the lease of a dead one expires.
   */
  readonly acquire: (name: string, owner: string, ttlMillis: number) => Effect.Effect<boolean, StorageError>
  /** Frees the lease if we hold it. */
  readonly release: (name: string, owner: string) => Effect.Effect<void, StorageError>
}

export class Leases extends Context.Service<Leases, LeasesShape>()("@org/ml-core/Leases") {}

export const makeMemory = Effect.sync((): LeasesShape => {
  const held = new Map<string, { owner: string; until: number }>()
  return {
    acquire: (name, owner, ttlMillis) =>
      Clock.currentTimeMillis.pipe(Effect.map((now) => {
        const current = held.get(name)
        if (current && current.until > now) return false
        held.set(name, { owner, until: now + ttlMillis })
        return true
      })),
    release: (name, owner) =>
      Effect.sync(() => {
        if (held.get(name)?.owner === owner) held.delete(name)
      })
  }
})

export const layerMemory: Layer.Layer<Leases> = Layer.effect(Leases, makeMemory)
