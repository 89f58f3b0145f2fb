// Configuration through Effect's Config (the token stays Redacted) and the background work as
// scoped fibers of the runtime: started by building the layers, stopped by closing their scope.
import { AbTests, type Experiment, StorageError } from "@org/ml-core"
import { ConfigProvider, Effect, Exit, Layer, Random, Redacted, Scope } from "effect"
import { TestClock } from "effect/testing"
import { inspect } from "node:util"
import { describe, expect, it } from "vitest"
import { banditReweighting, instanceName } from "../src/BackgroundWork.js"
import { loadConfig, serverConfig } from "../src/Config.js"

describe("server configuration", () => {
  it("keeps the API token redacted wherever the configuration is printed", () => {
    const config = loadConfig({ ML_API_TOKEN: "s3cret-0123456789" })
    expect(JSON.stringify(config)).not.toContain("s3cret-0123456789")
    expect(inspect(config)).not.toContain("s3cret-0123456789")
    expect(Redacted.value(config.apiToken!)).toBe("s3cret-0123456789")
  })

  it("is one Config that any ConfigProvider can feed, with README's defaults", () => {
    const config = Effect.runSync(serverConfig.parse(ConfigProvider.fromEnvRecord({ ML_PORT: "9000" })))
    expect(config).toMatchObject({
      host: "127.0.0.1",
      port: 9000,
      storageDir: "./.ml-data",
      redisUrl: undefined,
      maxUploadBytes: 10 * 1024 ** 3,
      demoteProductionTo: "archived",
      abReweightIntervalSeconds: 300,
      onlineStrategy: "mini-batch",
      onlineBatchSize: 100,
      onlineMaxBuffer: 100_000
    })
  })

  it("names the variable and the rule of a bad value", () => {
    expect(() => loadConfig({ ML_PORT: "eighty" })).toThrow("ML_PORT: must be a whole number, got \"eighty\"")
    expect(() => loadConfig({ ML_DRIFT_THRESHOLD: "1" })).toThrow(
      "ML_DRIFT_THRESHOLD: must be a number strictly between 0 and 1, got \"1\""
    )
    expect(() => loadConfig({ ML_DEMOTE_PRODUCTION_TO: "" })).toThrow(/ML_DEMOTE_PRODUCTION_TO/)
  })
})

describe("background work", () => {
  it("names the instance from Effect's Random", () => {
    const seeded = instanceName(42).pipe(Random.withSeed("instance"))
    const name = Effect.runSync(seeded)
    expect(name).toMatch(/^instance-42-[0-9a-z]{6}$/)
    expect(Effect.runSync(seeded)).toBe(name)
  })

  const experiment = (id: string, mode: string, status: string) => ({ id, mode, status }) as unknown as Experiment
  const fakeAbTests = (calls: Array<string>, failFirstList = false) => {
    let lists = 0
    return Layer.succeed(
      AbTests.AbTests,
      {
        listExperiments: () =>
          Effect.suspend(() =>
            failFirstList && lists++ === 0
              ? Effect.fail(new StorageError({ message: "Redis is down" }))
              : Effect.succeed([
                experiment("bandit-running", "bandit", "running"),
                experiment("bandit-paused", "bandit", "paused"),
                experiment("ab-running", "ab", "running")
              ])
          ),
        reweight: (id: string) => Effect.sync(() => calls.push(id)).pipe(Effect.as(experiment(id, "bandit", "running")))
      } as unknown as AbTests.AbTestsShape
    )
  }

  it("reweights running bandits every interval until its scope closes", async () => {
    const calls: Array<string> = []
    const seen: Array<number> = []
    await Effect.runPromise(
      Effect.gen(function*() {
        const scope = yield* Scope.make()
        yield* Layer.buildWithScope(
          banditReweighting(60, () => undefined).pipe(Layer.provide(fakeAbTests(calls))),
          scope
        )
        yield* TestClock.adjust("59 seconds")
        seen.push(calls.length)
        yield* TestClock.adjust("1 second")
        seen.push(calls.length)
        yield* TestClock.adjust("120 seconds")
        seen.push(calls.length)
        yield* Scope.close(scope, Exit.void)
        yield* TestClock.adjust("1 hour")
        seen.push(calls.length)
      }).pipe(Effect.provide(TestClock.layer()))
    )
    expect(seen).toEqual([0, 1, 3, 3])
    expect(new Set(calls)).toEqual(new Set(["bandit-running"]))
  })

  it("logs a failed pass and runs the next one on time", async () => {
    const calls: Array<string> = []
    const logs: Array<string> = []
    await Effect.runPromise(
      Effect.scoped(Effect.gen(function*() {
        yield* Layer.build(
          banditReweighting(10, (line) => logs.push(line)).pipe(Layer.provide(fakeAbTests(calls, true)))
        )
        yield* TestClock.adjust("20 seconds")
      })).pipe(Effect.provide(TestClock.layer()))
    )
    expect(logs).toEqual(["Bandit reweighting failed: StorageError: Redis is down"])
    expect(calls).toEqual(["bandit-running"])
  })

  it("does nothing when the interval is 0", async () => {
    const calls: Array<string> = []
    await Effect.runPromise(
      Effect.scoped(Effect.gen(function*() {
        yield* Layer.build(banditReweighting(0, () => undefined).pipe(Layer.provide(fakeAbTests(calls))))
        yield* TestClock.adjust("1 day")
      })).pipe(Effect.provide(TestClock.layer()))
    )
    expect(calls).toEqual([])
  })
})
