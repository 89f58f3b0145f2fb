import { Operations, Registry } from "@org/ml-api"
import { ModelNotFoundError, StorageError } from "@org/ml-core"
import { Effect } from "effect"
import { Hono } from "hono"
import { describe, expect, it } from "vitest"
import { makeMount } from "../src/routes/Mount.js"

const mountWith = (validateResponses: boolean, logs: Array<string> = []) =>
  makeMount<never>({ run: Effect.runPromiseExit, maxJsonBytes: 1024, log: (l) => logs.push(l), validateResponses })

describe("mount", () => {
  it("answers the handler's typed error as the problem of its tag", async () => {
    const app = new Hono()
    mountWith(false)(
      app,
      Registry.getModel,
      ({ params }) =>
        Effect.fail(new ModelNotFoundError({ modelId: params.id, message: `Model ${params.id} does not exist` }))
    )
    const response = await app.request("/v1/models/01ARZ3NDEKTSV4RRFFQ69G5FAV")
    expect(response.status).toBe(404)
    expect(await response.json()).toMatchObject({ code: "ModelNotFoundError", modelId: "01ARZ3NDEKTSV4RRFFQ69G5FAV" })
  })

  it("with validateResponses, refuses an answer that does not match the success schema", async () => {
    const logs: Array<string> = []
    const app = new Hono()
    app.onError((error) => {
      logs.push(error.message)
      return new Response(null, { status: 500 })
    })
    // A wrong answer the type system cannot see (it came from an untyped source).
    const wrong = JSON.parse("{\"status\":\"sleeping\"}") as { status: "ok" }
    mountWith(true, logs)(app, Operations.health, () => Effect.succeed(wrong))
    expect((await app.request("/healthz")).status).toBe(500)
    expect(logs.join("\n")).toMatch(/health answer does not match its schema/)
    const lenient = new Hono()
    mountWith(false)(lenient, Operations.health, () => Effect.succeed(wrong))
    expect((await lenient.request("/healthz")).status).toBe(200)
  })

  it("limits a handler's errors to those its endpoint declares (checked by tsc)", () => {
    const app = new Hono()
    const mount = mountWith(false)
    // Declared: ModelNotFoundError and StorageError.
    mount(app, Registry.getModel, () => Effect.fail(new StorageError({ message: "down" })))
    // @ts-expect-error ModelNotFoundError is not an error /healthz declares
    mount(app, Operations.health, () => Effect.fail(new ModelNotFoundError({ modelId: "x", message: "no" })))
    expect(app.routes.length).toBe(2)
  })
})
