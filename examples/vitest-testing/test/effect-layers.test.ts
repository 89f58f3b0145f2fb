/**
 * The same in Effect: `MlPipeline.layer({ memory: true })` provides the use cases as services,
 * and the ports under them, in one layer.
 */
import { ModelRegistry, ModelStore } from "@org/ml-core"
import { streamOf } from "@org/ml-core/testing"
import { MlPipeline } from "@org/ml-pipeline"
import { Effect } from "effect"
import { expect, it } from "vitest"

it("registers and promotes a model through the Effect services", async () => {
  const history = await Effect.gen(function*() {
    const registry = yield* ModelRegistry.ModelRegistry
    const model = yield* registry.registerModel(
      { name: "churn", version: "1", algorithm: "lr", framework: "sklearn", createdBy: "alice" },
      streamOf([new Uint8Array([1, 2, 3])])
    )
    yield* registry.promoteModel(model.id, "testing", { actor: "ci" })
    // The ports are in the context too: read the stored record directly.
    const stored = yield* (yield* ModelStore.ModelStore).get(model.id)
    expect(stored?.status).toBe("testing")
    return yield* registry.getHistory(model.id)
  }).pipe(Effect.provide(MlPipeline.layer({ memory: true })), Effect.runPromise)
  expect(history.map((event) => event.action)).toEqual(["registered", "artifact_uploaded", "promoted"])
  expect([history[0]?.actor, history[2]?.actor, history[2]?.to]).toEqual(["alice", "ci", "testing"])
})
