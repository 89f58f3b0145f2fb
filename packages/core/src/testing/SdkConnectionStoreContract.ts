/**
 * Contract of the SdkConnectionStore port: a connection is found by its client key, listed in
 * creation order, and deleted at once for every reader of the same storage (`makeStores` gives
 * two views of one storage, as two server instances); each creation and deletion leaves its audit
 * event, oldest first.
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import type { SdkConnection, SdkConnectionStoreShape } from "../experiments/SdkConnection.js"

const sampleConnection = (id: string, second: number): SdkConnection => ({
  id,
  name: `web-${id}`,
  clientKey: `sdk-${id}-key`,
  projectFilter: ["checkout-*"],
  decryptionKey: "AAAAAAAAAAAAAAAAAAAAAA==",
  createdAt: `2026-01-01T00:00:0${second}.000Z`,
  createdBy: "bootstrap"
})

export const sdkConnectionStoreContract = (
  adapter: string,
  makeStores: () => Promise<
    {
      readonly first: SdkConnectionStoreShape
      readonly second: SdkConnectionStoreShape
      readonly close: () => Promise<void>
    }
  >
) => {
  describe(`SdkConnectionStore contract: ${adapter}`, () => {
    it("finds connections by client key on every view, lists them by creation, deletes them everywhere", async () => {
      const { close, first, second } = await makeStores()
      const run = Effect.runPromise
      try {
        await run(first.create(sampleConnection("c2", 2)))
        await run(first.create(sampleConnection("c1", 1)))
        expect(await run(second.findByClientKey("sdk-c1-key"))).toEqual(sampleConnection("c1", 1))
        expect(await run(second.findByClientKey("sdk-unknown"))).toBeUndefined()
        expect((await run(second.list())).map((c) => c.id)).toEqual(["c1", "c2"])

        expect(await run(second.remove("c1", "admin-key", "2026-01-02T00:00:00.000Z"))).toEqual(
          sampleConnection("c1", 1)
        )
        expect(await run(first.findByClientKey("sdk-c1-key"))).toBeUndefined()
        expect(await run(first.remove("c1", "admin-key", "2026-01-02T00:00:01.000Z"))).toBeUndefined()
        expect((await run(first.list())).map((c) => c.id)).toEqual(["c2"])
        expect(await run(first.events())).toEqual([
          {
            at: "2026-01-01T00:00:02.000Z",
            action: "created",
            actor: "bootstrap",
            connectionId: "c2",
            connectionName: "web-c2"
          },
          {
            at: "2026-01-01T00:00:01.000Z",
            action: "created",
            actor: "bootstrap",
            connectionId: "c1",
            connectionName: "web-c1"
          },
          {
            at: "2026-01-02T00:00:00.000Z",
            action: "deleted",
            actor: "admin-key",
            connectionId: "c1",
            connectionName: "web-c1"
          }
        ])
      } finally {
        await close()
      }
    })
  })
}
