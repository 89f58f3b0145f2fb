/**
 * The schemas of the experiments domain: request bodies decode with the server's limits and
 * messages, and what the use case and the store return has exactly the shape of its schema
 * (through JSON, with unknown fields refused).
 */
import { Effect, Layer, Schema } from "effect"
import { describe, expect, it } from "vitest"
import {
  AbTests,
  AssignmentRequest,
  CompleteExperimentInput,
  decodeInput,
  Experiment,
  ExperimentList,
  ExperimentStore,
  ModelAssignment,
  ModelAssignmentList,
  ModelRegistry,
  RecordExposuresInput,
  RecordMetricsInput,
  UpdateExperimentInput
} from "../src/index.js"
import { streamOf } from "../src/testing/index.js"

const issues = (schema: Schema.Decoder<unknown>, what: string, body: unknown) =>
  Effect.runSync(Effect.flip(decodeInput(schema, what)(body))).issues.map((i) => `${i.path.join(".")}: ${i.message}`)
const accepts = (schema: Schema.Decoder<unknown>, body: unknown) => Effect.runSync(decodeInput(schema, "body")(body))

describe("request bodies", () => {
  it("assignment requests: one user or up to 10,000", () => {
    expect(accepts(AssignmentRequest, { userId: "u1" })).toEqual({ userId: "u1" })
    expect(accepts(AssignmentRequest, { userIds: ["u1", "u2"] })).toEqual({ userIds: ["u1", "u2"] })
    expect(issues(AssignmentRequest, "assignment request", { userId: "" })).toContain("userId: must not be empty")
    expect(issues(AssignmentRequest, "assignment request", { userIds: Array(10_001).fill("u") }))
      .toContain("userIds: must hold at most 10000 users")
  })

  it("metrics: one observation or a batch; exposures: non-negative integer counts", () => {
    const observation = { modelId: "01ARZ3NDEKTSV4RRFFQ69G5FAV", metric: "ctr", value: 1 }
    expect(accepts(RecordMetricsInput, observation)).toEqual(observation)
    expect(accepts(RecordMetricsInput, { observations: [observation] })).toEqual({ observations: [observation] })
    expect(issues(RecordExposuresInput, "exposures", { exposures: [{ ...observation, count: -1 }] }))
      .toContain("exposures.0.count: must be an integer from 0 to 1000000000")
  })

  it("updates and completions: optional fields, nothing else", () => {
    expect(accepts(UpdateExperimentInput, { trafficPct: [50, 50], actor: "ops" })).toEqual({
      trafficPct: [50, 50],
      actor: "ops"
    })
    expect(issues(UpdateExperimentInput, "experiment update", { description: "x".repeat(4097) })).toHaveLength(1)
    expect(accepts(CompleteExperimentInput, {})).toEqual({})
    expect(issues(CompleteExperimentInput, "completion", { promote: true })).toEqual(["promote: is not a known field"])
  })
})

const exactly = <S extends Schema.Decoder<unknown>>(schema: S, value: unknown) =>
  expect(Schema.decodeUnknownSync(schema as any)(JSON.parse(JSON.stringify(value)), { onExcessProperty: "error" }))
    .toEqual(value)

describe("what the use case and the store return", () => {
  it("has exactly the shape of the experiment, assignment and counters schemas", async () => {
    const world = AbTests.layer().pipe(
      Layer.provideMerge(ExperimentStore.layerMemory),
      Layer.provideMerge(ModelRegistry.layerMemory())
    )
    const out = await Effect.runPromise(Effect.provide(
      Effect.gen(function*() {
        const registry = yield* ModelRegistry.ModelRegistry
        const ids = yield* Effect.forEach(["1", "2"], (version) =>
          registry.registerModel(
            { name: "schemas", version, algorithm: "a", framework: "f" },
            streamOf([new Uint8Array([1])])
          ).pipe(Effect.tap((m) => registry.promoteModel(m.id, "testing")), Effect.map((m) => m.id)))
        const ab = yield* AbTests.AbTests
        const created = yield* ab.createExperiment({
          name: "schemas",
          targetMetric: "ctr",
          variants: ids.map((modelId, i) => ({ modelId, isControl: i === 0, trafficPct: 50 }))
        })
        const experiment = yield* ab.startExperiment(created.id)
        const one = yield* ab.getModelAssignment(experiment.id, "u1")
        const many = yield* ab.getModelAssignments(experiment.id, ["u1", "u2"])
        yield* ab.recordMetrics(experiment.id, [{ modelId: ids[0]!, metric: "ctr", value: 1 }])
        const store = yield* ExperimentStore.ExperimentStore
        const counters = yield* store.counters(experiment.id, 2)
        return { experiment, one, many, list: yield* ab.listExperiments(), counters }
      }),
      world
    ))
    exactly(Experiment, out.experiment)
    exactly(ModelAssignment, out.one)
    exactly(ModelAssignmentList, { items: out.many })
    exactly(ExperimentList, { items: out.list })
    exactly(ExperimentStore.ExperimentCounters, out.counters)
  })
})
