/** Shared by the use-case behaviour suites: running a program on a fresh layer, and reading a failure's tag. */
import { Effect, Exit, type Layer } from "effect"
import { ModelRegistry } from "../registry/ModelRegistry.js"
import { streamOf } from "./fixtures.js"

export const runOn =
  <R>(makeLayer: () => Layer.Layer<R, unknown>) => <A, E>(program: Effect.Effect<A, E, R>): Promise<A> =>
    Effect.runPromise(Effect.provide(program, makeLayer()) as Effect.Effect<A, E>)

/** The tag of a failure ("success" when it succeeded). */
export const failureTag = (exit: Exit.Exit<unknown, unknown>): string =>
  Exit.isFailure(exit)
    ? String(
      (exit.cause.reasons.find((r) => r._tag === "Fail") as { error?: { _tag?: unknown } } | undefined)
        ?.error?._tag
    )
    : "success"

export const uniqueName = (label: string) => `${label}-${Math.random().toString(36).slice(2, 10)}`

/** Registers `n` versions of one new name, each with a small artifact, promoted to testing; their ids. */
export const modelsInTesting = (n: number) =>
  Effect.gen(function*() {
    const registry = yield* ModelRegistry
    const name = uniqueName("model")
    const ids: Array<string> = []
    for (let i = 0; i < n; i++) {
      const model = yield* registry.registerModel(
        { name, version: String(i), algorithm: "a", framework: "f" },
        streamOf([new Uint8Array([i, 1, 2])])
      )
      yield* registry.promoteModel(model.id, "testing")
      ids.push(model.id)
    }
    return ids
  })
