/**
 * Behaviour of model signatures over whatever serves the use cases: a version keeps the signature
 * it was registered with (replaceable only while a draft); a monitor created from it without
 * features watches its inputs and outputs, and a pipeline created from it learns its inputs; an
 * observation or sample that contradicts it is refused naming the row, the feature and the limit,
 * and nothing of the refused batch is stored.
 */
import { Effect, Exit, type Layer } from "effect"
import { describe, expect, it } from "vitest"
import { DriftDetector } from "../drift/DriftDetector.js"
import { makeLearner } from "../learning/learners/Learner.js"
import { OnlineLearner } from "../learning/OnlineLearner.js"
import { ModelRegistry } from "../registry/ModelRegistry.js"
import type { Signature } from "../registry/Signature.js"
import { failureTag, runOn, uniqueName } from "./UseCaseFixtures.js"

export const exampleSignature: Signature = {
  inputs: [
    { name: "amount", type: "number", range: [0, 10_000] },
    { name: "items", type: "integer", range: [1, 50] },
    { name: "returning", type: "boolean" },
    { name: "country", type: "category", categories: ["DE", "FR", "US"] }
  ],
  outputs: [{ name: "score", type: "number", range: [0, 1] }]
}

/** A learner over the signature's numeric inputs (a pipeline's samples carry numbers only). */
const numericSignature: Signature = {
  inputs: [
    { name: "amount", type: "number", range: [0, 100] },
    { name: "items", type: "integer" },
    { name: "returning", type: "boolean" }
  ]
}

const bytesOf = (text: string) =>
  new ReadableStream<Uint8Array>({
    start: (controller) => {
      controller.enqueue(new TextEncoder().encode(text))
      controller.close()
    }
  })

/**
 * The issues of a refused call as `path: message` lines, for checks that name fields: a service's
 * ValidationError carries `issues` (paths as arrays), the Promise facade's problem `errors` (dotted).
 */
const issuesOf = (exit: Exit.Exit<unknown, unknown>): Array<string> => {
  if (!Exit.isFailure(exit)) return []
  const error = (exit.cause.reasons.find((r) => r._tag === "Fail") as { error?: unknown } | undefined)?.error as
    | {
      issues?: ReadonlyArray<{ path: ReadonlyArray<string | number>; message: string }>
      errors?: ReadonlyArray<{ path: string; message: string }>
    }
    | undefined
  if (error?.issues !== undefined) return error.issues.map((i) => `${i.path.join(".")}: ${i.message}`)
  return (error?.errors ?? []).map((e) => `${e.path}: ${e.message}`)
}

export const signatureContract = (
  adapter: string,
  makeLayer: () => Layer.Layer<ModelRegistry | DriftDetector | OnlineLearner, unknown>
) => {
  const run = runOn(makeLayer)

  describe(`Model signatures on ${adapter}`, () => {
    it("keeps a version's signature, replaces it while a draft and refuses a change after", async () => {
      const result = await run(Effect.gen(function*() {
        const registry = yield* ModelRegistry
        const model = yield* registry.registerModel(
          { name: uniqueName("signed"), version: "1", algorithm: "a", framework: "f", signature: exampleSignature },
          bytesOf("weights")
        )
        const read = yield* registry.getModel(model.id)
        const replaced = yield* registry.updateModel(model.id, { signature: numericSignature })
        const history = yield* registry.getHistory(model.id)
        yield* registry.promoteModel(model.id, "testing")
        const refused = yield* Effect.exit(registry.updateModel(model.id, { signature: exampleSignature }))
        const after = yield* registry.getModel(model.id)
        return { read, replaced, history, refused, after }
      }))
      expect(result.read.signature).toEqual(exampleSignature)
      expect(result.replaced.signature).toEqual(numericSignature)
      expect(result.history.at(-1)?.changes?.["signature"]).toEqual({ from: exampleSignature, to: numericSignature })
      expect(failureTag(result.refused)).toBe("ValidationError")
      expect(issuesOf(result.refused)).toEqual([
        "signature: can change only while the version is a draft (it is testing)"
      ])
      expect(result.after.signature).toEqual(numericSignature)
    })

    it("gives a monitor created from the model its features and refuses observations that contradict it", async () => {
      const result = await run(Effect.gen(function*() {
        const registry = yield* ModelRegistry
        const drift = yield* DriftDetector
        const model = yield* registry.registerModel({
          name: uniqueName("watched"),
          version: "1",
          algorithm: "a",
          framework: "f",
          signature: exampleSignature
        })
        const monitor = yield* drift.createMonitor({
          id: uniqueName("mon"),
          modelId: model.id,
          settings: { minWindow: 2, windowSize: 10 }
        })
        const good = { amount: 12.5, items: 3, returning: 1, country: "FR", score: 0.4 }
        const baseline = (value: number | string) => Array.from({ length: 20 }, () => value)
        yield* drift.setBaseline(monitor.id, {
          amount: baseline(10),
          items: baseline(3),
          returning: baseline(1),
          country: baseline("FR"),
          score: baseline(0.5)
        })
        yield* drift.recordRows(monitor.id, [good, good])
        const refused = yield* Effect.exit(drift.recordRows(monitor.id, [
          good,
          { ...good, amount: 20_000 },
          { ...good, items: 2.5 },
          { ...good, returning: 2 },
          { ...good, country: "XX" },
          { ...good, score: 1.5 }
        ]))
        const unknown = yield* Effect.exit(drift.recordRows(monitor.id, [{ ...good, colour: "red" }]))
        const columns = yield* Effect.exit(drift.recordBatch(monitor.id, { items: [1, 51] }))
        const report = yield* drift.check(monitor.id)
        const listed = yield* Effect.exit(
          drift.createMonitor({
            id: uniqueName("mon"),
            modelId: model.id,
            features: [{ name: "amount", kind: "feature", type: "categorical" }, {
              name: "other",
              kind: "feature",
              type: "numeric"
            }]
          })
        )
        const noFeatures = yield* Effect.exit(drift.createMonitor({ id: uniqueName("mon") }))
        return { monitor, refused, unknown, columns, report, listed, noFeatures }
      }))
      expect(result.monitor.features).toEqual([
        { name: "amount", kind: "feature", type: "numeric" },
        { name: "items", kind: "feature", type: "numeric" },
        { name: "returning", kind: "feature", type: "numeric" },
        { name: "country", kind: "feature", type: "categorical" },
        { name: "score", kind: "prediction", type: "numeric" }
      ])
      expect(result.monitor.signature).toEqual(exampleSignature)
      expect(issuesOf(result.refused)).toEqual([
        "amount.1: must be within the signature's range [0, 10000], got 20000",
        "items.2: must be an integer (signature type integer), got 2.5",
        "returning.3: must be 0 or 1 (signature type boolean), got 2",
        "country.4: must be one of the signature's categories (\"DE\", \"FR\", \"US\"), got \"XX\"",
        "score.5: must be within the signature's range [0, 1], got 1.5"
      ])
      expect(issuesOf(result.unknown)[0]).toMatch(/^colour: is not a feature of monitor/)
      expect(issuesOf(result.columns)).toEqual(["items.1: must be within the signature's range [1, 50], got 51"])
      // Only the two good rows were kept: the refused batches stored nothing.
      expect(result.report.features.map((f) => [f.feature, f.windowCount])).toEqual([
        ["amount", 2],
        ["items", 2],
        ["returning", 2],
        ["country", 2],
        ["score", 2]
      ])
      expect(issuesOf(result.listed)).toEqual([
        "features.0.type: must be numeric, as the model's signature declares",
        expect.stringMatching(/^features\.1\.name: is not a column of the signature of model /)
      ])
      expect(issuesOf(result.noFeatures)).toEqual([
        "features: is required unless modelId names a model version with a signature"
      ])
    })

    it("keeps the signature on a pipeline created from the model and refuses samples that contradict it", async () => {
      const result = await run(Effect.gen(function*() {
        const registry = yield* ModelRegistry
        const learner = yield* OnlineLearner
        const state = makeLearner({
          kind: "logistic",
          optimizer: { type: "sgd", learningRate: 0.1 },
          features: { type: "schema", names: ["amount", "items", "returning"] }
        }).state()
        const base = yield* registry.registerModel(
          { name: uniqueName("learned"), version: "1", algorithm: "a", framework: "f", signature: numericSignature },
          bytesOf(JSON.stringify(state))
        )
        const pipeline = yield* learner.createPipeline({ name: "p", modelId: base.id, batchSize: 1000 })
        const good = (i: number) => ({ sampleId: `s${i}`, features: { amount: i, items: 2, returning: 0 }, label: 1 })
        const added = yield* learner.addSamples(pipeline.id, [good(1), good(2)])
        const refused = yield* Effect.exit(learner.addSamples(pipeline.id, [
          good(3),
          { ...good(4), features: { amount: 101, items: 2, returning: 0 } },
          { ...good(5), features: { amount: 1, items: 1.5, returning: 0 } },
          { ...good(6), features: { amount: 1, items: 1, returning: 1, colour: 3 } }
        ]))
        const status = yield* learner.getPipelineStatus(pipeline.id)
        const stringInput = yield* registry.registerModel(
          {
            name: uniqueName("learned"),
            version: "1",
            algorithm: "a",
            framework: "f",
            signature: { inputs: [...numericSignature.inputs, { name: "country", type: "category" }] }
          },
          bytesOf(JSON.stringify(state))
        )
        const unlearnable = yield* Effect.exit(learner.createPipeline({ name: "p", modelId: stringInput.id }))
        return { pipeline, added, refused, status, unlearnable }
      }))
      expect(result.pipeline.signature).toEqual(numericSignature)
      expect(result.added.added).toBe(2)
      expect(issuesOf(result.refused)).toEqual([
        "1.features.amount: must be within the signature's range [0, 100], got 101",
        "2.features.items: must be an integer (signature type integer), got 1.5",
        "3.features.colour: is not an input of the model's signature"
      ])
      expect(result.status.counters.received).toBe(2)
      expect(result.status.counters.buffered).toBe(2)
      expect(issuesOf(result.unlearnable)).toEqual([
        "modelId: the model's signature declares category input country; samples carry numbers only"
      ])
    })
  })
}
