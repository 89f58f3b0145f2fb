// The verification of `ml-server migrate`, in process on data directories: sticky assignments
// stream page by page (more than one page here), and a target that stores something differently
// (one assignment per page lost, one remembered sample id lost, a summary off in its last digit,
// a running minimum of an always-valid p-value not lowered)
// fails the migration naming the experiment or pipeline and what differs.
import { type Assignment, ExperimentStore, ModelStore, PipelineStore } from "@org/ml-core"
import { sampleEvent, sampleExperiment, sampleModel, samplePipeline, sampleRegisteredModel } from "@org/ml-core/testing"
import { Effect, ManagedRuntime } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { loadConfig } from "../src/Config.js"
import { migrateStores, type Stores, storesOf } from "../src/Migrate.js"
import { assignmentPageSize } from "../src/MigrateRecords.js"
import { makeStorageLayer } from "../src/Server.js"

const work = await fs.mkdtemp(path.join(os.tmpdir(), "ml-migrate-verify-"))
const runtimes: Array<ManagedRuntime.ManagedRuntime<unknown, unknown>> = []
afterAll(async () => {
  await Promise.allSettled(runtimes.map((r) => r.dispose()))
  await fs.rm(work, { recursive: true, force: true })
})

const storesIn = async (name: string): Promise<Stores> => {
  const runtime = ManagedRuntime.make(makeStorageLayer(loadConfig({ ML_MODEL_STORAGE_DIR: path.join(work, name) })))
  runtimes.push(runtime as ManagedRuntime.ManagedRuntime<unknown, unknown>)
  return runtime.runPromise(storesOf)
}

const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)
const experiment = sampleExperiment()
const pipeline = samplePipeline()
const users = 2 * assignmentPageSize + 500
const aliased = sampleModel({ name: "aliased" })
const registered = sampleRegisteredModel({
  name: "aliased",
  protectedAliases: ["champion"],
  aliases: { champion: aliased.id }
})
let source: Stores

beforeAll(async () => {
  source = await storesIn("source")
  await run(source.experiments.insert(experiment))
  const assignments = Array.from({ length: users }, (_, i): Assignment => ({
    experimentId: experiment.id,
    userId: `user-${i}`,
    variant: i % 2,
    modelId: experiment.variants[i % 2]!.modelId,
    at: "2030-01-01T00:00:00.000Z"
  }))
  expect(await run(source.experiments.importAssignments(assignments))).toBe(users)
  await run(source.experiments.addExposures(experiment.id, [700, 650], "2030-01-01"))
  await run(source.experiments.mergeMetrics(experiment.id, [
    {
      variant: 0,
      metric: "ctr",
      summary: { count: 3, mean: 0.2, m2: 0.02, min: 0.1, max: 0.3, shift: 0.1, shiftedMean: 0.1 }
    }
  ]))
  await run(source.experiments.lowerSequentialPValues(experiment.id, [
    { variant: 1, metric: "ctr", pValue: 0.0123 },
    { variant: 1, metric: "latency", pValue: 0.5 }
  ]))
  await run(source.pipelines.insert(pipeline))
  const sample = (i: number) => ({
    sampleId: `s${i}`,
    features: { a: i },
    label: i % 2,
    weight: 1,
    receivedAt: "2030-01-01T00:00:00.000Z"
  })
  const limits = { maxBufferSize: 100, dedupWindow: 1000, progressiveWindow: 100 }
  await run(source.pipelines.addSamples(pipeline.id, Array.from({ length: 10 }, (_, i) => sample(i)), limits))
  await run(source.pipelines.removeSamples(pipeline.id, ["s0", "s1"]))
  // A registered model whose alias points at its version, moved in the audit trail.
  await run(source.models.insert(aliased, sampleEvent(aliased)))
  await run(source.models.commit({
    expected: [],
    put: [],
    events: [sampleEvent(aliased, { action: "alias_set", alias: "champion", to: null })],
    registered: { expectedRevision: null, put: registered }
  }))
}, 60_000)

const options = { modelsOnly: false, log: () => {} }

describe("ml-server migrate verification", () => {
  it("copies every sticky assignment across pages and verifies the copy", async () => {
    const summary = await migrateStores(source, await storesIn("honest"), options)
    expect(summary.records).toMatchObject({ experiments: 1, assignments: users, pipelines: 1, samples: 8 })
  })

  it("names the experiment whose target lost an assignment", async () => {
    const target = await storesIn("lossy-assignments")
    const lossy: ExperimentStore.ExperimentStoreShape = {
      ...target.experiments,
      importAssignments: (page) => target.experiments.importAssignments(page.slice(0, -1))
    }
    await expect(migrateStores(source, { ...target, experiments: lossy }, options)).rejects.toThrow(
      `experiment ${experiment.id} has ${users - 3} sticky assignments in the target, ${users} copied`
    )
  })

  it("names the experiment whose summary is off in its last digit", async () => {
    const target = await storesIn("inexact-summaries")
    const inexact: ExperimentStore.ExperimentStoreShape = {
      ...target.experiments,
      mergeMetrics: (id, updates) =>
        target.experiments.mergeMetrics(
          id,
          updates.map((u) => ({ ...u, summary: { ...u.summary, m2: u.summary.m2 * (1 + Number.EPSILON) } }))
        )
    }
    await expect(migrateStores(source, { ...target, experiments: inexact }, options)).rejects.toThrow(
      `experiment ${experiment.id} counters differs in the target`
    )
  })

  it("copies registered models with their alias pointers, and refuses a target that drops a pointer", async () => {
    const target = await storesIn("registered")
    const summary = await migrateStores(source, target, options)
    expect(summary.registeredModels).toBe(1)
    expect(await run(target.models.getRegistered("aliased"))).toEqual(registered)
    const lossyTarget = await storesIn("lossy-registered")
    const lossy: ModelStore.ModelStoreShape = {
      ...lossyTarget.models,
      commit: (change) =>
        lossyTarget.models.commit(
          change.registered
            ? { ...change, registered: { ...change.registered, put: { ...change.registered.put, aliases: {} } } }
            : change
        )
    }
    await expect(migrateStores(source, { ...lossyTarget, models: lossy }, options)).rejects.toThrow(
      "registered models or their aliases differ in the target"
    )
  })

  it("copies the running minima of the always-valid p-values", async () => {
    const target = await storesIn("minima")
    await migrateStores(source, target, options)
    expect(await run(target.experiments.sequentialPValues(experiment.id))).toEqual([
      { variant: 1, metric: "ctr", pValue: 0.0123 },
      { variant: 1, metric: "latency", pValue: 0.5 }
    ])
  })

  it("names the experiment whose target did not keep a p-value minimum", async () => {
    const target = await storesIn("forgetful-minima")
    const forgetful: ExperimentStore.ExperimentStoreShape = {
      ...target.experiments,
      lowerSequentialPValues: (id, looks) => target.experiments.lowerSequentialPValues(id, looks.slice(1))
    }
    await expect(migrateStores(source, { ...target, experiments: forgetful }, options)).rejects.toThrow(
      `experiment ${experiment.id} always-valid p-value minima differs in the target`
    )
  })

  it("names the pipeline whose target forgot a remembered sample id", async () => {
    const target = await storesIn("forgetful-pipelines")
    const forgetful: PipelineStore.PipelineStoreShape = {
      ...target.pipelines,
      importSampleData: (id, data) => target.pipelines.importSampleData(id, { ...data, seen: data.seen.slice(1) })
    }
    await expect(migrateStores(source, { ...target, pipelines: forgetful }, options)).rejects.toThrow(
      `pipeline ${pipeline.id} sample buffer, ids seen, counters and windows differs in the target`
    )
  })
})
