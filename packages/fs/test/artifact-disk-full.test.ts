// Artifacts on a real, small tmpfs (the test mounts it; root is required and a failed mount fails
// the suite): a full disk is a StorageError naming the data directory, nothing partial is kept,
// and uploads succeed again once space returns.
import { ArtifactStore, makeUlid } from "@org/ml-core"
import { Cause, Effect, Exit } from "effect"
import { execFileSync } from "node:child_process"
import { createHash, randomBytes } from "node:crypto"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { FsArtifactStore } from "../src/index.js"

const mountPoint = await fs.mkdtemp(path.join(os.tmpdir(), "ml-fs-disk-full-"))
const directory = path.join(mountPoint, "data")
const filler = path.join(mountPoint, "filler")

beforeAll(async () => {
  // Throws (failing the suite loudly) when the tmpfs cannot be mounted.
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", mountPoint])
  await fs.mkdir(directory)
})

afterAll(async () => {
  execFileSync("umount", [mountPoint])
  await fs.rm(mountPoint, { recursive: true, force: true })
})

const freeBytes = async () => {
  const stats = await fs.statfs(mountPoint)
  return stats.bavail * stats.bsize
}

/** Fills the tmpfs until `leave` bytes are free. */
const fillLeaving = async (leave: number) => {
  await fs.writeFile(filler, new Uint8Array(Math.max(0, (await freeBytes()) - leave)))
}

const streamOf = (bytes: Uint8Array) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      // Several chunks, as a network body arrives.
      for (let offset = 0; offset < bytes.length; offset += 64 * 1024) {
        controller.enqueue(bytes.slice(offset, offset + 64 * 1024))
      }
      controller.close()
    }
  })

const run = <A, E>(effect: Effect.Effect<A, E, ArtifactStore.ArtifactStore>) =>
  Effect.runPromiseExit(Effect.provide(effect, FsArtifactStore.layer({ directory })))

const readAll = async (stream: ReadableStream<Uint8Array>) => new Uint8Array(await new Response(stream).arrayBuffer())

describe("fs artifacts on a full disk", () => {
  it("fails naming the directory when full, keeps nothing, and stores again once space returns", async () => {
    const modelId = makeUlid(Date.now())
    const bytes = randomBytes(1024 * 1024)
    await fillLeaving(200 * 1024)

    const full = await run(ArtifactStore.ArtifactStore.use((s) => s.write(modelId, streamOf(bytes), { maxBytes: 1e9 })))
    expect(Exit.isFailure(full)).toBe(true)
    const error = Exit.isFailure(full) ? Cause.squash(full.cause) : undefined
    expect(error).toMatchObject({ _tag: "StorageError", reason: "insufficient-storage", directory })
    expect(await fs.readdir(path.join(directory, "artifacts", ".tmp"))).toEqual([])
    expect(await fs.readdir(path.join(directory, "artifacts", modelId)).catch(() => [])).toEqual([])

    await fs.rm(filler)
    const stored = await run(
      Effect.gen(function*() {
        const store = yield* ArtifactStore.ArtifactStore
        const artifact = yield* store.write(modelId, streamOf(bytes), { maxBytes: 1e9 })
        return { artifact, read: yield* store.open(modelId, artifact) }
      })
    )
    if (Exit.isFailure(stored)) throw Cause.squash(stored.cause)
    const sha256 = createHash("sha256").update(bytes).digest("hex")
    expect(stored.value.artifact).toEqual({ sha256, sizeBytes: bytes.length })
    expect(await readAll(stored.value.read)).toEqual(new Uint8Array(bytes))
    expect((await fs.stat(path.join(directory, "artifacts", modelId, sha256))).size).toBe(bytes.length)
  })

  it("never acknowledges an upload that does not fit, whatever the free space left", async () => {
    // Free space just below, at and above the upload's size: every acknowledged write reads back whole.
    const bytes = randomBytes(256 * 1024)
    for (const leave of [16 * 1024, 128 * 1024, 250 * 1024, 300 * 1024, 600 * 1024]) {
      const modelId = makeUlid(Date.now())
      await fillLeaving(leave)
      const exit = await run(
        Effect.gen(function*() {
          const store = yield* ArtifactStore.ArtifactStore
          const artifact = yield* store.write(modelId, streamOf(bytes), { maxBytes: 1e9 })
          return yield* Effect.promise(async () => readAll(await Effect.runPromise(store.open(modelId, artifact))))
        })
      )
      if (Exit.isSuccess(exit)) expect(exit.value).toEqual(new Uint8Array(bytes))
      else expect(Cause.squash(exit.cause)).toMatchObject({ reason: "insufficient-storage", directory })
      expect(await fs.readdir(path.join(directory, "artifacts", ".tmp"))).toEqual([])
      await fs.rm(filler)
      await fs.rm(path.join(directory, "artifacts", modelId), { recursive: true, force: true })
    }
  })
})
