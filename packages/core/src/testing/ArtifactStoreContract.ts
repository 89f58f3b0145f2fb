/**
 * Contract of the ArtifactStore port, run against every adapter. Digests are checked against
 * Web Crypto's SHA-256, an implementation independent of the adapters' own hashing.
 */
import { Effect, Exit, type Layer } from "effect"
import { describe, expect, it } from "vitest"
import { ArtifactStore, sha256Hex } from "../registry/ArtifactStore.js"
import { makeUlid } from "../shared/Ulid.js"
import { randomBytes, readAll, streamOf } from "./fixtures.js"

export interface ArtifactStoreContractOptions {
  /** Flips a byte of a stored artifact in place, to prove corrupted bytes are never served. */
  readonly corrupt?: (modelId: string, sha256: string) => Promise<void>
  /** Lists leftover files or keys for a model, to prove failed uploads leave nothing behind. */
  readonly leftovers?: (modelId: string) => Promise<ReadonlyArray<string>>
}

export const artifactStoreContract = (
  adapter: string,
  makeLayer: () => Layer.Layer<ArtifactStore, unknown>,
  options: ArtifactStoreContractOptions = {}
) => {
  const run = <A, E>(program: Effect.Effect<A, E, ArtifactStore>): Promise<A> =>
    Effect.runPromise(Effect.provide(program, makeLayer()) as Effect.Effect<A, E>)
  const failureTag = (exit: Exit.Exit<unknown, unknown>) =>
    Exit.isFailure(exit) ? (exit.cause.reasons.find((r: any) => r._tag === "Fail") as any)?.error?._tag : undefined
  const split = (bytes: Uint8Array, size: number) => {
    const chunks: Array<Uint8Array> = []
    for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size))
    return chunks
  }

  describe(`ArtifactStore contract: ${adapter}`, () => {
    it("stores bytes under their SHA-256 and streams them back unchanged", async () => {
      const bytes = randomBytes(300_000)
      const modelId = makeUlid(Date.now())
      const { stored, back } = await run(Effect.gen(function*() {
        const store = yield* ArtifactStore
        const stored = yield* store.write(modelId, streamOf(split(bytes, 7000)), { maxBytes: 1 << 20 })
        const stream = yield* store.open(modelId, stored)
        return { stored, back: yield* Effect.promise(() => readAll(stream)) }
      }))
      expect(stored.sha256).toBe(await sha256Hex(bytes))
      expect(stored.sizeBytes).toBe(bytes.length)
      expect(back).toEqual(bytes)
    })

    it("stores an empty artifact", async () => {
      const modelId = makeUlid(Date.now())
      const stored = await run(ArtifactStore.use((s) => s.write(modelId, streamOf([]), { maxBytes: 10 })))
      expect(stored).toEqual({ sha256: await sha256Hex(new Uint8Array(0)), sizeBytes: 0 })
    })

    it("rejects a digest mismatch and keeps nothing", async () => {
      const bytes = randomBytes(1000)
      const modelId = makeUlid(Date.now())
      const wrong = "0".repeat(64)
      const { exit, reopened } = await run(Effect.gen(function*() {
        const store = yield* ArtifactStore
        const exit = yield* Effect.exit(
          store.write(modelId, streamOf([bytes]), { maxBytes: 1 << 20, expectedSha256: wrong })
        )
        const reopened = yield* Effect.exit(
          store.open(modelId, { sha256: yield* Effect.promise(() => sha256Hex(bytes)), sizeBytes: bytes.length })
        )
        return { exit, reopened }
      }))
      expect(failureTag(exit)).toBe("IntegrityError")
      expect(Exit.isFailure(reopened)).toBe(true)
      if (options.leftovers) expect(await options.leftovers(modelId)).toEqual([])
    })

    it("rejects an artifact over the size limit and keeps nothing", async () => {
      const modelId = makeUlid(Date.now())
      const exit = await run(
        Effect.exit(
          ArtifactStore.use((s) => s.write(modelId, streamOf(split(randomBytes(5000), 1000)), { maxBytes: 4096 }))
        )
      )
      expect(failureTag(exit)).toBe("ArtifactTooLargeError")
      if (options.leftovers) expect(await options.leftovers(modelId)).toEqual([])
    })

    it("keeps nothing when the upload stream breaks midway", async () => {
      const modelId = makeUlid(Date.now())
      const exit = await run(
        Effect.exit(
          ArtifactStore.use((s) => s.write(modelId, streamOf(split(randomBytes(5000), 1000), 3), { maxBytes: 1 << 20 }))
        )
      )
      expect(failureTag(exit)).toBe("StorageError")
      if (options.leftovers) expect(await options.leftovers(modelId)).toEqual([])
    })

    it("removes an artifact", async () => {
      const modelId = makeUlid(Date.now())
      const exit = await run(Effect.gen(function*() {
        const store = yield* ArtifactStore
        const stored = yield* store.write(modelId, streamOf([randomBytes(100)]), { maxBytes: 1000 })
        yield* store.remove(modelId, stored.sha256)
        return yield* Effect.exit(store.open(modelId, stored))
      }))
      expect(Exit.isFailure(exit)).toBe(true)
    })

    if (options.corrupt) {
      const corrupt = options.corrupt
      it("refuses to serve an artifact whose bytes no longer match its digest", async () => {
        const modelId = makeUlid(Date.now())
        const stored = await run(
          ArtifactStore.use((s) => s.write(modelId, streamOf([randomBytes(4096)]), { maxBytes: 1 << 20 }))
        )
        await corrupt(modelId, stored.sha256)
        const exit = await run(Effect.exit(ArtifactStore.use((s) => s.open(modelId, stored))))
        expect(failureTag(exit)).toBe("IntegrityError")
      })
    }
  })
}
