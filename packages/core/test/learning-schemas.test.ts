/**
 * The learning domain's schemas (Pipeline.ts, Samples.ts, learners/LearnerState.ts): records
 * decode what the use case makes, big values decode at the cost of their plain checks, request
 * bodies decode their envelope only and document every field, and newPipeline and sampleIssues
 * apply the creation and sample rules.
 */
import { Effect, Layer, Result, Schema } from "effect"
import { describe, expect, it } from "vitest"
import {
  AddSamplesResult,
  decodeInput,
  FeatureValues,
  LearnerState,
  Leases,
  makeLearner,
  ModelRegistry,
  newPipeline,
  OnlineLearner,
  Pipeline,
  PipelineStatus,
  PipelineStore,
  PredictRequest,
  sampleIssues,
  SamplesRequest,
  StoredSample
} from "../src/index.js"
import { samplePipeline } from "../src/testing/index.js"

const decode = <S extends Schema.Decoder<unknown>>(schema: S) => (value: unknown) =>
  Schema.decodeUnknownResult(schema as Schema.Decoder<unknown>)(value) as Result.Result<S["Type"], Error>
const stateOf = (bits: number) =>
  makeLearner({
    kind: "logistic",
    optimizer: { type: "adagrad", learningRate: 0.1 },
    features: { type: "hashing", bits }
  }).state()

describe("records", () => {
  it("decode what the use case returns: pipeline, ingestion result and status", async () => {
    const { added, status } = await Effect.runPromise(Effect.provide(
      Effect.gen(function*() {
        const registry = yield* ModelRegistry.ModelRegistry
        const base = yield* registry.registerModel(
          { name: "schemas", version: "1.0.0", algorithm: "logistic_regression", framework: "ml-pipeline" },
          new Blob([JSON.stringify(stateOf(8))]).stream()
        )
        const ol = yield* OnlineLearner.OnlineLearner
        const p = yield* ol.createPipeline({ name: "p", modelId: base.id, strategy: "mini-batch", batchSize: 4 })
        const samples = Array.from({ length: 4 }, (_, i) => ({ sampleId: `s${i}`, features: { a: i }, label: i % 2 }))
        const added = yield* ol.addSamples(p.id, samples)
        return { added, status: yield* ol.getPipelineStatus(p.id) }
      }),
      OnlineLearner.layer().pipe(
        Layer.provideMerge(
          Layer.mergeAll(PipelineStore.layerMemory, Leases.layerMemory, ModelRegistry.layerMemory())
        )
      )
    ))
    expect(added.update).not.toBeNull()
    expect(decode(AddSamplesResult)(added)).toEqual(Result.succeed(added))
    expect(decode(PipelineStatus)(status)).toEqual(Result.succeed(status))
  })

  it("refuse a damaged pipeline record, naming the field", () => {
    const damaged = { ...samplePipeline(), strategy: "weekly" }
    const result = decode(Pipeline)(damaged)
    expect(Result.isFailure(result) && result.failure.message).toMatch(/strategy/)
  })

  it("decode stored samples with one plain pass over their features", () => {
    const sample = {
      sampleId: "a",
      features: { x: 1, y: 2.5 },
      label: 1,
      weight: 1,
      receivedAt: "2030-01-01T00:00:00Z"
    }
    expect(decode(StoredSample)(sample)).toEqual(Result.succeed(sample))
    const bad = decode(StoredSample)({ ...sample, features: { x: "1" } })
    expect(Result.isFailure(bad) && bad.failure.message).toMatch(/must be an object of numbers/)
    expect(Result.isFailure(decode(FeatureValues)([1, 2]))).toBe(true)
  })
})

describe("learner state", () => {
  it("decodes a stored state without walking its arrays (the same arrays come back)", () => {
    const state = stateOf(20)
    const decoded = decode(LearnerState)(state)
    expect(Result.isSuccess(decoded) && decoded.success.weights).toBe(state.weights)
  })

  it("refuses what loadLearner refuses, with its message", () => {
    const format = decode(LearnerState)({ ...stateOf(4), formatVersion: 2 })
    expect(Result.isFailure(format) && format.failure.message).toMatch(
      /state\.formatVersion: unsupported learner format 2/
    )
    const state = stateOf(4)
    const config = decode(LearnerState)({
      ...state,
      config: { ...state.config, features: { type: "hashing", bits: 30 } }
    })
    expect(Result.isFailure(config) && config.failure.message).toMatch(
      /features\.bits: must be an integer from 1 to 24/
    )
    expect(Result.isFailure(decode(LearnerState)({ ...state, config: {} }))).toBe(true)
    expect(Result.isFailure(decode(LearnerState)("state"))).toBe(true)
  })
})

describe("request bodies", () => {
  const decodeSamples = decodeInput(SamplesRequest, "samples")

  it("check the samples envelope only: values are the use case's to check, naming the field", async () => {
    const body = { samples: [{ sampleId: "a", features: { x: "1" }, label: 7 }] }
    const decoded = await Effect.runPromise(decodeSamples(body))
    expect(sampleIssues("logistic", decoded.samples).map((i) => [i.path.join("."), i.message])).toEqual([
      ["0.label", "must be 0 or 1 for a classifier, got 7"],
      ["0.features.x", "must be a finite number from -1e+120 to 1e+120, got \"1\""]
    ])
    expect(sampleIssues("linear", [{ sampleId: "b", features: { x: 1 }, label: 7 }])).toEqual([])
  })

  it("bound batches and refuse unknown fields, naming them", async () => {
    const tooMany = { samples: Array.from({ length: 100_001 }, () => ({ sampleId: "a", features: {}, label: 1 })) }
    const error = await Effect.runPromise(Effect.flip(decodeSamples(tooMany)))
    expect(error.message).toBe("Invalid samples: samples: must hold at most 100000 samples")
    const unknown = await Effect.runPromise(Effect.flip(decodeSamples({ samples: [], extra: 1 })))
    expect(unknown.issues).toEqual([{ path: ["extra"], message: "is not a known field" }])
    const rows = await Effect.runPromise(
      Effect.flip(
        decodeInput(PredictRequest, "prediction request")({ rows: Array.from({ length: 100_001 }, () => ({})) })
      )
    )
    expect(rows.message).toContain("must hold at most 100000 rows")
  })

  it("document every field and its type in JSON Schema", () => {
    const sample = (Schema.toJsonSchemaDocument(SamplesRequest).schema as any).properties.samples.items
    expect(sample.required).toEqual(["sampleId", "features", "label"])
    expect(sample.properties.features).toEqual({
      type: "object",
      additionalProperties: { type: "number", minimum: -1e120, maximum: 1e120 },
      maxProperties: 1000
    })
    expect(sample.properties.label.type).toBe("number")
  })
})

describe("newPipeline", () => {
  const defaults = { strategy: "mini-batch" as const, batchSize: 100, maxBufferSize: 1000 }
  const at = "2030-01-01T00:00:00.000Z"

  it("fills in the defaults for the base model's kind", () => {
    const made = newPipeline({ name: "p", modelId: "01ARZ3NDEKTSV4RRFFQ69G5FAV" }, defaults, "linear", at, "pipe-1")
    expect(Result.isSuccess(made) && made.success).toMatchObject({
      id: "pipe-1",
      strategy: "mini-batch",
      batchSize: 100,
      minSamples: 10,
      validationMetric: "rmse",
      adaptive: { batchSize: 100, learningRateScale: 1, referenceMetric: null },
      revision: 1
    })
    expect(Result.isSuccess(made) && Result.isSuccess(decode(Pipeline)(made.success))).toBe(true)
  })

  it("refuses batch and minimum sizes beyond the buffer", () => {
    const made = newPipeline(
      { name: "p", modelId: "m", batchSize: 2000, minSamples: 1500 },
      defaults,
      "logistic",
      at,
      "pipe-1"
    )
    expect(Result.isFailure(made) && made.failure.map((i) => i.path[0])).toEqual(["batchSize", "minSamples"])
  })
})
