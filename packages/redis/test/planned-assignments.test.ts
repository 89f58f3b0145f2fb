// The A/B use case on Redis takes the one-step path (the store's planned writes); on the memory
// store it takes the stepwise path, the reference behaviour. Given the same experiments and the
// same users, both must answer alike and leave the same counters: assignments (one and batches;
// running, sticky or not, partial coverage, paused, completed with a winner), metrics and
// exposures, and the same refusals.
import { AbTests, ArtifactStore, ExperimentStore, MetricsSink, ModelRegistry, ModelStore } from "@org/ml-core"
import { sampleExperiment } from "@org/ml-core/testing"
import { Effect, Layer } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { RedisClient, RedisExperimentStore } from "../src/index.js"
import { connectOrFail, deleteKeysWithPrefix, redisUrl, uniquePrefix } from "../src/Testing.js"

const admin = await connectOrFail()
const prefix = uniquePrefix("planned")

afterAll(async () => {
  await deleteKeysWithPrefix(admin, prefix)
  await admin.quit()
})

const abTestsOver = (store: Layer.Layer<ExperimentStore.ExperimentStore, unknown>) =>
  AbTests.layer().pipe(
    Layer.provideMerge(
      Layer.mergeAll(
        store,
        ModelRegistry.layer().pipe(
          Layer.provide(Layer.mergeAll(ModelStore.layerMemory, ArtifactStore.layerMemory, MetricsSink.layerMemory))
        ),
        MetricsSink.layerMemory
      )
    )
  )

/** Runs `program` against both stores, each with the experiment inserted first; answers [memory, redis]. */
const onBoth = async <A, E>(
  experiment: ReturnType<typeof sampleExperiment>,
  program: (ab: AbTests.AbTestsShape) => Effect.Effect<A, E>
) => {
  const layers = [
    abTestsOver(ExperimentStore.layerMemory),
    abTestsOver(RedisExperimentStore.layer.pipe(Layer.provide(RedisClient.layer({ url: redisUrl, prefix }))))
  ]
  return Promise.all(layers.map((layer) =>
    Effect.runPromise(
      Effect.gen(function*() {
        const store = yield* ExperimentStore.ExperimentStore
        yield* store.insert(experiment)
        const answer = yield* Effect.result(AbTests.AbTests.use(program))
        return { answer, counters: yield* store.counters(experiment.id, experiment.variants.length) }
      }).pipe(Effect.provide(layer)) as Effect.Effect<unknown>
    )
  ))
}

const users = Array.from({ length: 60 }, (_, i) => `user-${i}`)
const at = new Date().toISOString()

const scenarios: ReadonlyArray<[string, Partial<ReturnType<typeof sampleExperiment>>]> = [
  ["running, sticky", {}],
  ["running, sticky, half coverage", { coverage: 0.5 }],
  ["running, not sticky", { stickyAssignment: false }],
  ["paused", { status: "paused" }],
  ["draft", { status: "draft", startedAt: null }]
]

describe("A/B tests on Redis in one step answer as the stepwise reference does", () => {
  it.each(scenarios)("assigns users of an experiment %s", async (_label, overrides) => {
    const experiment = sampleExperiment(overrides)
    const [memory, redis] = await onBoth(experiment, (ab) =>
      Effect.gen(function*() {
        const batch = yield* ab.getModelAssignments(experiment.id, users.slice(0, 40))
        // Singles: some already assigned in the batch, some new.
        const singles = yield* Effect.forEach(users.slice(30), (u) => ab.getModelAssignment(experiment.id, u))
        return { batch, singles }
      }))
    expect(redis).toEqual(memory)
  })

  it("assigns with the new split after a re-split (the hash ranges kept per definition follow it)", async () => {
    const experiment = sampleExperiment({ stickyAssignment: false })
    const [memory, redis] = await onBoth(experiment, (ab) =>
      Effect.gen(function*() {
        const before = yield* ab.getModelAssignments(experiment.id, users)
        yield* ab.updateExperiment(experiment.id, { trafficPct: [90, 10] })
        const after = yield* ab.getModelAssignments(experiment.id, users)
        const single = yield* ab.getModelAssignment(experiment.id, users[0]!)
        return { before, after, single }
      }))
    expect(redis).toEqual(memory)
    // The split moved users: the comparison above saw the new ranges, not only the old ones.
    type Answers = Record<"before" | "after", ReadonlyArray<{ readonly variant: number }>>
    const { after, before } = (memory as { answer: { success: Answers } }).answer.success
    const inControl = (answers: Answers["after"]) => answers.filter((a) => a.variant === 0).length
    expect(inControl(after)).toBeGreaterThan(inControl(before))
  })

  it("answers the winner to everyone once completed", async () => {
    const base = sampleExperiment()
    const winner = base.variants[1]!.modelId
    const experiment = sampleExperiment({
      status: "completed",
      completedAt: at,
      decision: { outcome: "winner", winnerModelId: winner, reason: "test" }
    })
    const [memory, redis] = await onBoth(
      { ...experiment, variants: base.variants },
      (ab) => ab.getModelAssignments(experiment.id, users)
    )
    expect(redis).toEqual(memory)
    expect((redis as any).answer.success.every((a: { modelId: string }) => a.modelId === winner)).toBe(true)
  })

  it("records metrics and exposures alike, and refuses the same bad entries and states", async () => {
    const running = sampleExperiment()
    const [a, b] = running.variants.map((v) => v.modelId) as [string, string]
    const observations = [
      { modelId: a, metric: "ctr", value: 1 },
      { modelId: b, metric: "ctr", value: 0 },
      { modelId: b, metric: "latency", value: 12.5 },
      // Values whose shortest decimal text differs from %.17g's: the summaries must cross exactly.
      ...[1 / 3, 0.1, 5e-324, -1e120, 123456789.12345679, 2 ** -1074 * 3, 1e120, -0.30000000000000004].map((value) => ({
        modelId: a,
        metric: "awkward",
        value
      }))
    ]
    const recorded = await onBoth(running, (ab) =>
      Effect.gen(function*() {
        yield* ab.recordMetrics(running.id, observations)
        yield* ab.recordExposures(running.id, [{ modelId: a, count: 3 }, { modelId: b, count: 5 }])
      }))
    expect(recorded[1]).toEqual(recorded[0])

    const badEntries = await onBoth(
      sampleExperiment(),
      (ab) => ab.recordMetrics("missing-or-not", [{ modelId: "not-a-variant", metric: "ctr", value: Number.NaN }])
    )
    expect(badEntries[1]).toEqual(badEntries[0])

    const draft = sampleExperiment({ status: "draft", startedAt: null, variants: running.variants })
    const refused = await onBoth(draft, (ab) => ab.recordMetrics(draft.id, observations))
    expect(refused[1]).toEqual(refused[0])
    expect((refused[1] as any).answer.failure._tag).toBe("ExperimentStateError")

    const invalid = sampleExperiment()
    const bad = await onBoth(invalid, (ab) =>
      Effect.all([
        Effect.flip(ab.recordMetrics(invalid.id, [{ modelId: "not-a-variant", metric: "ctr", value: 1 }])),
        Effect.flip(ab.recordExposures(invalid.id, [{ modelId: a, count: -1 }])),
        Effect.flip(ab.getModelAssignment("no-such-experiment", "u1"))
      ]))
    expect(bad[1]).toEqual(bad[0])
  })
})
