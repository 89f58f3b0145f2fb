// `ml-server migrate` and registry events, in process on data directories: the audit events are
// copied in the outbox's order (every history keeps its order), and each webhook's cursor moves to
// the same event in the target, so a webhook is neither sent again what it received nor spared what
// it is owed.
import { RegistryEventDelivery } from "@org/ml-core"
import { sampleEvent, sampleModel } from "@org/ml-core/testing"
import { Effect, ManagedRuntime } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { loadConfig } from "../src/Config.js"
import { migrateStores, type Stores, storesOf } from "../src/Migrate.js"
import { makeStorageLayer } from "../src/Server.js"

const work = await fs.mkdtemp(path.join(os.tmpdir(), "ml-migrate-events-"))
const runtimes: Array<ManagedRuntime.ManagedRuntime<unknown, unknown>> = []
afterAll(async () => {
  await Promise.allSettled(runtimes.map((r) => r.dispose()))
  await fs.rm(work, { recursive: true, force: true })
})

const storesIn = async (name: string): Promise<Stores> => {
  const runtime = ManagedRuntime.make(makeStorageLayer(loadConfig({ ML_MODEL_STORAGE_DIR: path.join(work, name) })))
  runtimes.push(runtime as ManagedRuntime.ManagedRuntime<unknown, unknown>)
  return runtime.runPromise(storesOf)
}

const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)

describe("migrating registry events", () => {
  it("copies events in outbox order and moves each webhook's cursor to the same event", async () => {
    const source = await storesIn("source")
    const a = sampleModel({ name: "events-a" })
    const b = sampleModel({ name: "events-b" })
    await run(source.models.insert(a, sampleEvent(a)))
    await run(source.models.insert(b, sampleEvent(b)))
    for (const [model, to] of [[a, "testing"], [b, "testing"], [a, "staging"]] as const) {
      const current = (await run(source.models.get(model.id)))!
      const next = { ...current, status: to, revision: current.revision + 1 }
      await run(source.models.commit({
        expected: [{ id: current.id, revision: current.revision }],
        put: [next],
        events: [sampleEvent(next, { action: "promoted", from: current.status, to })]
      }))
    }
    const hook = (id: string) => ({
      id,
      url: "https://hooks.example/",
      secret: "a-long-enough-webhook-secret",
      monitorId: null,
      minSeverity: "low" as const,
      events: ["promoted" as const],
      createdAt: a.createdAt
    })
    for (const id of ["hook-caught-up", "hook-behind", "hook-new"]) await run(source.drift.putWebhook(hook(id)))
    const sourceEvents = await run(source.models.eventsAfter(0, 100))
    await run(source.models.advanceEventCursor(RegistryEventDelivery.cursorName("hook-caught-up"), 5))
    await run(source.models.advanceEventCursor(RegistryEventDelivery.cursorName("hook-behind"), 3))

    const target = await storesIn("target")
    await migrateStores(source, target, { modelsOnly: false, log: () => undefined })
    const targetEvents = await run(target.models.eventsAfter(0, 100))
    expect(targetEvents.map((r) => r.event)).toEqual(sourceEvents.map((r) => r.event))
    const cursorOf = (id: string) => run(target.models.eventCursor(RegistryEventDelivery.cursorName(id)))
    expect([await cursorOf("hook-caught-up"), await cursorOf("hook-behind"), await cursorOf("hook-new")]).toEqual([
      targetEvents[4]!.sequence,
      targetEvents[2]!.sequence,
      0
    ])
  })
})
