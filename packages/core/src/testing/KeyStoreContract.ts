/**
 * Contract of the KeyStore port: keys are found by their token's hash, listed, and revoked at
 * once for every reader of the same storage (`makeStores` gives two views of one storage).
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import type { ApiKey, KeyStoreShape } from "../access/KeyStore.js"

const sampleKey = (id: string): ApiKey => ({
  id,
  name: `key-${id}`,
  role: "ingest",
  modelNames: ["fraud-*"],
  createdAt: `2026-01-01T00:00:0${id.length % 10}.000Z`,
  createdBy: "bootstrap"
})

export const keyStoreContract = (
  adapter: string,
  makeStores: () => Promise<
    { readonly first: KeyStoreShape; readonly second: KeyStoreShape; readonly close: () => Promise<void> }
  >
) => {
  describe(`KeyStore contract: ${adapter}`, () => {
    it("finds a key by its token hash and lists it", async () => {
      const { first, close } = await makeStores()
      try {
        await Effect.runPromise(first.create(sampleKey("k1"), "hash-1"))
        expect(await Effect.runPromise(first.findByHash("hash-1"))).toEqual(sampleKey("k1"))
        expect(await Effect.runPromise(first.findByHash("hash-2"))).toBeUndefined()
        expect((await Effect.runPromise(first.list())).map((k) => k.id)).toEqual(["k1"])
      } finally {
        await close()
      }
    })

    it("exports every key with its token hash, revoked ones included", async () => {
      const { first, second, close } = await makeStores()
      try {
        await Effect.runPromise(first.create(sampleKey("e1"), "hash-e1"))
        await Effect.runPromise(first.create(sampleKey("e22"), "hash-e22"))
        await Effect.runPromise(first.revoke("e22", "admin-key", "2026-02-01T00:00:00.000Z"))
        const exported = (await Effect.runPromise(second.exportRecords())).filter((r) => r.key.id.startsWith("e"))
        expect([...exported].sort((a, b) => a.key.id.localeCompare(b.key.id))).toEqual([
          { tokenHash: "hash-e1", key: sampleKey("e1") },
          {
            tokenHash: "hash-e22",
            key: { ...sampleKey("e22"), revokedAt: "2026-02-01T00:00:00.000Z", revokedBy: "admin-key" }
          }
        ])
      } finally {
        await close()
      }
    })

    it("revokes at once for every reader, recording who revoked", async () => {
      const { first, second, close } = await makeStores()
      try {
        await Effect.runPromise(first.create(sampleKey("k2"), "hash-k2"))
        expect(await Effect.runPromise(second.findByHash("hash-k2"))).toBeDefined()
        const revoked = await Effect.runPromise(first.revoke("k2", "admin-key", "2026-02-01T00:00:00.000Z"))
        expect(revoked).toMatchObject({ id: "k2", revokedBy: "admin-key" })
        expect(await Effect.runPromise(second.findByHash("hash-k2"))).toMatchObject({ revokedBy: "admin-key" })
        expect(await Effect.runPromise(first.revoke("k2", "again", "2026-02-02T00:00:00.000Z"))).toBeUndefined()
        expect(await Effect.runPromise(first.revoke("missing", "x", "2026-02-02T00:00:00.000Z"))).toBeUndefined()
      } finally {
        await close()
      }
    })

    it("records creations and revocations as audit events, without secrets", async () => {
      const { first, second, close } = await makeStores()
      try {
        await Effect.runPromise(first.create(sampleKey("k3"), "hash-k3"))
        await Effect.runPromise(first.revoke("k3", "admin-key", "2026-03-01T00:00:00.000Z"))
        await Effect.runPromise(first.revoke("k3", "again", "2026-03-02T00:00:00.000Z"))
        const events = (await Effect.runPromise(second.events())).filter((e) => e.keyId === "k3")
        expect(events).toEqual([
          {
            at: sampleKey("k3").createdAt,
            action: "created",
            actor: "bootstrap",
            keyId: "k3",
            keyName: "key-k3",
            role: "ingest",
            modelNames: ["fraud-*"]
          },
          {
            at: "2026-03-01T00:00:00.000Z",
            action: "revoked",
            actor: "admin-key",
            keyId: "k3",
            keyName: "key-k3",
            role: "ingest",
            modelNames: ["fraud-*"]
          }
        ])
        expect(JSON.stringify(events)).not.toContain("hash-k3")
      } finally {
        await close()
      }
    })
  })
}
