import { Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import { describe, expect, it } from "vitest"
import { ModelRegistry } from "../src/index.js"
import { streamOf } from "../src/testing/index.js"

// Time is a port too: Effect's Clock service. Every timestamp and the time part of every id come
// from it, so a TestClock drives the registry deterministically.
describe("registry time comes from the Clock service", () => {
  it("stamps ids, models, audit events and production history with the clock's time", async () => {
    const start = Date.UTC(2030, 0, 1)
    const result = await Effect.runPromise(Effect.provide(
      Effect.gen(function*() {
        yield* TestClock.setTime(start)
        const registry = yield* ModelRegistry.ModelRegistry
        const model = yield* registry.registerModel(
          { name: "clocked", version: "1", algorithm: "a", framework: "f" },
          streamOf([new Uint8Array([1])])
        )
        yield* TestClock.adjust("1 hour")
        yield* registry.promoteModel(model.id, "testing")
        yield* registry.promoteModel(model.id, "staging")
        yield* TestClock.adjust("1 hour")
        yield* registry.promoteModel(model.id, "production")
        return {
          model,
          history: yield* registry.getHistory(model.id),
          before: yield* registry.getProduction("clocked", new Date(start + 90 * 60_000).toISOString()),
          after: yield* registry.getProduction("clocked", new Date(start + 120 * 60_000).toISOString())
        }
      }),
      Layer.merge(ModelRegistry.layerMemory(), TestClock.layer())
    ))
    expect(result.model.createdAt).toBe("2030-01-01T00:00:00.000Z")
    const decodedTime = [...result.model.id.slice(0, 10)].reduce(
      (t, ch) => t * 32 + "0123456789ABCDEFGHJKMNPQRSTVWXYZ".indexOf(ch),
      0
    )
    expect(decodedTime).toBe(start)
    expect(result.history.map((e) => e.at)).toEqual([
      "2030-01-01T00:00:00.000Z",
      "2030-01-01T00:00:00.000Z",
      "2030-01-01T01:00:00.000Z",
      "2030-01-01T01:00:00.000Z",
      "2030-01-01T02:00:00.000Z"
    ])
    expect(result.before).toBeUndefined()
    expect(result.after?.id).toBe(result.model.id)
  })
})
