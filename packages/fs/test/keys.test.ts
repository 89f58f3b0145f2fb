import { KeyStore } from "@org/ml-core"
import { keyStoreContract } from "@org/ml-core/testing"
import { Effect, Exit, Scope } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { FsKeyStore } from "../src/index.js"

/** The fs store over `directory`, open until `close` (its scope holds the journal and its lock). */
const open = async (directory: string) => {
  const scope = Effect.runSync(Scope.make())
  const store = await Effect.runPromise(Scope.provide(FsKeyStore.make({ directory }), scope))
  return { store, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}

// One process owns a data directory, so both views are the same store.
keyStoreContract("fs", async () => {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), "ml-keys-"))
  const { store, close } = await open(directory)
  return {
    first: store,
    second: store,
    close: async () => {
      await close()
      await fs.rm(directory, { recursive: true, force: true })
    }
  }
})

describe("FsKeyStore", () => {
  it("keeps keys and revocations across a restart, with only the token's hash on disk", async () => {
    const directory = await fs.mkdtemp(path.join(os.tmpdir(), "ml-keys-"))
    try {
      const key: KeyStore.ApiKey = {
        id: "k1",
        name: "svc",
        role: "ingest",
        createdAt: "2026-01-01T00:00:00.000Z",
        createdBy: "bootstrap"
      }
      const first = await open(directory)
      await Effect.runPromise(first.store.create(key, "hash-of-secret"))
      await Effect.runPromise(first.store.revoke("k1", "admin", "2026-01-02T00:00:00.000Z"))
      await first.close()
      const again = await open(directory)
      expect(await Effect.runPromise(again.store.findByHash("hash-of-secret"))).toMatchObject({
        id: "k1",
        revokedBy: "admin"
      })
      expect((await Effect.runPromise(again.store.events())).map((e) => [e.action, e.actor])).toEqual([
        ["created", "bootstrap"],
        ["revoked", "admin"]
      ])
      await again.close()
      const files = await fs.readdir(directory)
      expect(files).toContain("keys.jsonl")
    } finally {
      await fs.rm(directory, { recursive: true, force: true })
    }
  })
})
