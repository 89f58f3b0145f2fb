/** The Redis drift store decodes what it reads: a damaged or foreign record is a StorageError naming its key. */
import type { StorageError } from "@org/ml-core"
import { sampleMonitor } from "@org/ml-core/testing"
import { Effect } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { RedisDriftStore } from "../src/index.js"
import { connectOrFail, deleteKeysWithPrefix, uniquePrefix } from "../src/Testing.js"

const admin = await connectOrFail()
const prefix = uniquePrefix("drift-records")
const keys = RedisDriftStore.driftKeys(prefix)
const store = RedisDriftStore.make(admin, prefix)

afterAll(async () => {
  await deleteKeysWithPrefix(admin, prefix)
  await admin.quit()
})

const failure = <A>(effect: Effect.Effect<A, StorageError>) =>
  Effect.runPromise(Effect.flip(effect)).then((error) => error.message)

describe("Redis drift store reading back", () => {
  it("reads back what it wrote", async () => {
    const monitor = sampleMonitor()
    await Effect.runPromise(store.insertMonitor(monitor))
    await Effect.runPromise(store.pushWindows(monitor.id, { amount: [1, null, 2.5] }, 10))
    expect(await Effect.runPromise(store.getMonitor(monitor.id))).toEqual(monitor)
    expect(await Effect.runPromise(store.window(monitor.id, "amount"))).toEqual([1, null, 2.5])
  })

  it("names the key of a monitor that is not a monitor", async () => {
    await admin.set(keys.monitor("foreign"), JSON.stringify({ id: "foreign", features: "none" }))
    expect(await failure(store.getMonitor("foreign"))).toContain(keys.monitor("foreign"))
    await admin.set(keys.monitor("torn"), "{\"id\":")
    expect(await failure(store.getMonitor("torn"))).toMatch(/torn.*not JSON/)
  })

  it("names the element or field of a damaged baseline, window batch or alert state", async () => {
    const monitor = sampleMonitor()
    await Effect.runPromise(store.insertMonitor(monitor))
    await admin.rpush(keys.baselines(monitor.id, "country"), JSON.stringify({ type: "categorical", version: "1" }))
    expect(await failure(store.baselines(monitor.id, "country"))).toContain(
      `${keys.baselines(monitor.id, "country")}[0]`
    )
    const window = keys.window("numeric", monitor.id, "amount")
    await admin.rpush(window, "2|[1,{\"x\":1}]")
    await admin.hset(`${window}:meta`, "count", 2, "skip", 0)
    expect(await failure(store.window(monitor.id, "amount"))).toContain(`${window}[0]`)
    await admin.hset(keys.states(monitor.id), "amount", JSON.stringify({ severity: "dire", at: "now" }))
    expect(await failure(store.alertStates(monitor.id))).toContain(`${keys.states(monitor.id)}.amount`)
  })
})
