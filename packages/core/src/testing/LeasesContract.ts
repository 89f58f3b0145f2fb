/**
 * Contract of the Leases port: of several tries at once exactly one holder gets a lease, and
 * another gets it once it expires. The drift store contract runs it too (the detector's leases).
 */
import { Effect, type Layer } from "effect"
import { describe, expect, it } from "vitest"
import { Leases } from "../shared/Leases.js"

export const leasesContract = (adapter: string, makeLayer: () => Layer.Layer<Leases, unknown>) => {
  const run = <A, E>(program: Effect.Effect<A, E, Leases>): Promise<A> =>
    Effect.runPromise(Effect.provide(program, makeLayer()) as Effect.Effect<A, E>)

  describe(`Leases contract: ${adapter}`, () => {
    it("grants a lease to one holder until it expires", async () => {
      const name = `lease-${Math.random().toString(36).slice(2)}`
      const result = await run(Effect.gen(function*() {
        const leases = yield* Leases
        const first = yield* Effect.all([
          leases.acquire(name, "a", 1000),
          leases.acquire(name, "b", 1000),
          leases.acquire(name, "a", 1000)
        ], { concurrency: "unbounded" })
        // Leases long enough that a stalled machine cannot let one expire between the three tries.
        yield* Effect.sleep(1100)
        const afterExpiry = yield* leases.acquire(name, "b", 1000)
        return { first, afterExpiry }
      }))
      expect(result.first.filter(Boolean)).toHaveLength(1)
      expect(result.afterExpiry).toBe(true)
    })

    it("is freed by its holder only", async () => {
      const name = `lease-${Math.random().toString(36).slice(2)}`
      const result = await run(Effect.gen(function*() {
        const leases = yield* Leases
        const taken = yield* leases.acquire(name, "a", 60_000)
        yield* leases.release(name, "b")
        const afterOthersRelease = yield* leases.acquire(name, "b", 60_000)
        yield* leases.release(name, "a")
        const afterRelease = yield* leases.acquire(name, "b", 60_000)
        return { taken, afterOthersRelease, afterRelease }
      }))
      expect(result).toEqual({ taken: true, afterOthersRelease: false, afterRelease: true })
    })
  })
}
