// The SdkConnectionStore contract on files; the journal keeps connections and events over a reopen.
import { sdkConnectionStoreContract } from "@org/ml-core/testing"
import { Effect, Exit, Scope } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { FsSdkConnectionStore } from "../src/index.js"

const open = async (directory: string) => {
  const scope = Effect.runSync(Scope.make())
  const store = await Effect.runPromise(Scope.provide(FsSdkConnectionStore.make({ directory }), scope))
  return { store, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}

// One process owns a data directory, so both views are the same store.
sdkConnectionStoreContract("fs", async () => {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), "ml-sdk-connections-"))
  const { close, store } = await open(directory)
  return {
    first: store,
    second: store,
    close: async () => {
      await close()
      await fs.rm(directory, { recursive: true, force: true })
    }
  }
})

describe("FsSdkConnectionStore", () => {
  it("keeps connections, deletions and events across a reopen", async () => {
    const directory = await fs.mkdtemp(path.join(os.tmpdir(), "ml-sdk-connections-"))
    try {
      const connection = {
        id: "c1",
        name: "web",
        clientKey: "sdk-c1",
        createdAt: "2026-01-01T00:00:00.000Z",
        createdBy: "bootstrap"
      }
      const first = await open(directory)
      await Effect.runPromise(first.store.create(connection))
      await Effect.runPromise(first.store.create({ ...connection, id: "c2", clientKey: "sdk-c2" }))
      await Effect.runPromise(first.store.remove("c1", "admin", "2026-01-02T00:00:00.000Z"))
      await first.close()
      const again = await open(directory)
      expect(await Effect.runPromise(again.store.findByClientKey("sdk-c1"))).toBeUndefined()
      expect((await Effect.runPromise(again.store.findByClientKey("sdk-c2")))?.id).toBe("c2")
      expect((await Effect.runPromise(again.store.events())).map((e) => `${e.action} ${e.connectionId}`)).toEqual([
        "created c1",
        "created c2",
        "deleted c1"
      ])
      await again.close()
    } finally {
      await fs.rm(directory, { recursive: true, force: true })
    }
  })
})
