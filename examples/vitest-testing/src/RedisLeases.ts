/**
 * A user's own adapter of one ML Pipeline port, Leases, on the service's ioredis client: a lease
 * is a key set with NX and a TTL, freed only by its holder (compare-and-delete in one script).
 * test/leases-contract.test.ts runs ML Pipeline's exported contract suite against it.
 */
import { Leases, StorageError } from "@org/ml-core"
import { Effect, Layer } from "effect"
import type { Redis } from "ioredis"

const releaseIfHolder = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`

export const make = (redis: Redis, prefix: string): Leases.LeasesShape => {
  const call = <A>(what: string, run: () => Promise<A>) =>
    Effect.tryPromise({
      try: run,
      catch: (cause) => new StorageError({ message: `Lease ${what} failed: ${String(cause)}`, cause })
    })
  return {
    acquire: (name, owner, ttlMillis) =>
      call("acquire", () => redis.set(`${prefix}lease:${name}`, owner, "PX", ttlMillis, "NX")).pipe(
        Effect.map((reply) => reply === "OK")
      ),
    release: (name, owner) =>
      call("release", () => redis.eval(releaseIfHolder, 1, `${prefix}lease:${name}`, owner)).pipe(Effect.asVoid)
  }
}

export const layer = (redis: Redis, prefix: string): Layer.Layer<Leases.Leases> =>
  Layer.succeed(Leases.Leases, make(redis, prefix))
