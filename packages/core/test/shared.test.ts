import { Effect, Fiber, Schema } from "effect"
import { TestClock } from "effect/testing"
import { describe, expect, it } from "vitest"
import {
  backoff,
  Model,
  redactUrl,
  retryOnStaleRevision,
  StaleRevisionError,
  StorageError,
  storedRecord
} from "../src/index.js"
import { sampleModel } from "../src/testing/fixtures.js"

describe("storedRecord", () => {
  const models = storedRecord(Model)

  it("returns a record that decodes", () => {
    const model = sampleModel()
    expect(models.fromJson(JSON.stringify(model), "registry.jsonl:3")).toEqual(model)
  })

  it("names where a damaged record was read, for bad JSON and for a wrong field", () => {
    expect(() => models.fromJson("{\"id\":", "registry.jsonl:7")).toThrow(/registry\.jsonl:7 is not valid: not JSON/)
    const wrong = { ...sampleModel(), status: "retired" }
    try {
      models.orThrow(wrong, "ml:model:01ABC")
      expect.unreachable()
    } catch (error) {
      expect(error).toBeInstanceOf(StorageError)
      expect((error as StorageError).message).toMatch(/ml:model:01ABC is not valid: status: /)
    }
  })

  it("fails the Effect with the StorageError", async () => {
    const exit = await Effect.runPromiseExit(storedRecord(Schema.Struct({ n: Schema.Number })).decode({ n: "1" }, "k"))
    expect(exit._tag).toBe("Failure")
  })
})

describe("retry policy", () => {
  it("retries a step that loses compare-and-set races until it wins", async () => {
    let attempts = 0
    const step = Effect.suspend(() =>
      ++attempts < 5 ? Effect.fail(new StaleRevisionError({ message: "lost" })) : Effect.succeed("won")
    )
    expect(await Effect.runPromise(retryOnStaleRevision(step))).toBe("won")
    expect(attempts).toBe(5)
  })

  it("gives up with a StorageError after the given number of attempts, and passes other errors through", async () => {
    let attempts = 0
    const stale = Effect.suspend(() => (attempts++, Effect.fail(new StaleRevisionError({ message: "lost" }))))
    const error = await Effect.runPromise(Effect.flip(retryOnStaleRevision(stale, 3)))
    expect(error).toBeInstanceOf(StorageError)
    expect(attempts).toBe(3)
    const other = await Effect.runPromise(Effect.flip(retryOnStaleRevision(Effect.fail("not stale"))))
    expect(other).toBe("not stale")
  })

  it("backs off with doubling delays, capped, and stops after the given retries", async () => {
    const times: Array<number> = []
    const program = Effect.gen(function*() {
      const fiber = yield* Effect.forkChild(
        Effect.suspend(() =>
          Effect.clockWith((clock) => Effect.sync(() => times.push(clock.currentTimeMillisUnsafe())))
        )
          .pipe(
            Effect.andThen(Effect.fail("down")),
            Effect.retry(backoff({ base: "100 millis", cap: "300 millis", retries: 4, jitter: false })),
            Effect.ignore
          )
      )
      yield* TestClock.adjust("10 seconds")
      yield* Fiber.join(fiber)
    })
    await Effect.runPromise(program.pipe(Effect.provide(TestClock.layer())))
    expect(times.map((t) => t - times[0]!)).toEqual([0, 100, 300, 600, 900])
  })
})

describe("redactUrl", () => {
  it("hides the user and password of connection URLs and leaves others as they are", () => {
    expect(redactUrl("redis://user:s3cret@cache:6379/0")).toBe("redis://***@cache:6379/0")
    expect(redactUrl("postgres://postgres:pw@127.0.0.1:5432/ml?sslmode=require")).toBe(
      "postgres://***@127.0.0.1:5432/ml?sslmode=require"
    )
    expect(redactUrl("rediss://:token@a:7000,b:7001")).toBe("rediss://***@a:7000,b:7001")
    expect(redactUrl("redis://127.0.0.1:6379")).toBe("redis://127.0.0.1:6379")
    // An @ in the path is not a credential separator.
    expect(redactUrl("http://host/path@x")).toBe("http://host/path@x")
  })
})
