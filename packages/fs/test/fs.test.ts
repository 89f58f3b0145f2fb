import {
  ArtifactStore,
  DriftStore,
  ExperimentStore,
  Leases,
  makeUlid,
  MetricsSink,
  ModelRegistry,
  ModelStore,
  PipelineStore,
  summarize,
  summarizePairs
} from "@org/ml-core"
import {
  artifactStoreContract,
  driftStoreContract,
  experimentStoreContract,
  modelRegistryContract,
  modelStoreContract,
  pipelineStoreContract,
  sampleEvent,
  sampleExperiment,
  sampleModel,
  sampleMonitor,
  samplePipeline,
  sampleRegisteredModel
} from "@org/ml-core/testing"
import { Effect, Exit, Layer } from "effect"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { FsArtifactStore, FsDriftStore, FsExperimentStore, FsModelStore, FsPipelineStore } from "../src/index.js"
import { encodeLine } from "../src/JournalFormat.js"

const root = await fs.mkdtemp(path.join(os.tmpdir(), "ml-fs-test-"))
afterAll(() => fs.rm(root, { recursive: true, force: true }))

/**
 * Deletes a journal's manifest and starts its store once: a start without manifest rewrites the
 * journal from the state's snapshot (as compaction does), so the next start replays the snapshot.
 */
const compactByRestart = async (directory: string, journal: string, start: () => Promise<unknown>) => {
  await fs.rm(path.join(directory, `${journal}.manifest.json`))
  await start()
  expect(await fs.readFile(path.join(directory, `${journal}.jsonl`), "utf8")).toMatch(/"epoch":2\}\n/)
}

const storeDir = path.join(root, "store")
modelStoreContract("fs", () => FsModelStore.layer({ directory: storeDir }))

describe("fs registry outbox durability", () => {
  it("keeps every event's sequence and every cursor over a restart from a compacted journal", async () => {
    const directory = path.join(root, "outbox-restart")
    const use = <A, E>(program: Effect.Effect<A, E, ModelStore.ModelStore>) =>
      Effect.runPromise(Effect.provide(program, FsModelStore.layer({ directory })) as Effect.Effect<A, E>)
    // Two names' events interleaved: a snapshot grouped by name would renumber them.
    const a = sampleModel({ name: "outbox-a" })
    const b = sampleModel({ name: "outbox-b" })
    const before = await use(ModelStore.ModelStore.use((s) =>
      Effect.gen(function*() {
        yield* s.insert(a, sampleEvent(a))
        yield* s.insert(b, sampleEvent(b))
        for (const [model, to] of [[a, "testing"], [b, "testing"], [a, "staging"]] as const) {
          const current = (yield* s.get(model.id))!
          const next = { ...current, status: to, revision: current.revision + 1 }
          yield* s.commit({
            expected: [{ id: current.id, revision: current.revision }],
            put: [next],
            events: [sampleEvent(next, { action: "promoted", from: current.status, to })]
          })
        }
        yield* s.advanceEventCursor("webhook:one", 3)
        yield* s.advanceEventCursor("webhook:two", 5)
        return yield* s.eventsAfter(0, 100)
      })
    ))
    expect(before.map((r) => [r.sequence, r.event.name, r.event.to])).toEqual([
      [1, "outbox-a", "draft"],
      [2, "outbox-b", "draft"],
      [3, "outbox-a", "testing"],
      [4, "outbox-b", "testing"],
      [5, "outbox-a", "staging"]
    ])
    await compactByRestart(directory, "registry", () => use(ModelStore.ModelStore.use((s) => s.eventsAfter(0, 1))))
    const after = await use(ModelStore.ModelStore.use((s) =>
      Effect.all({
        events: s.eventsAfter(0, 100),
        one: s.eventCursor("webhook:one"),
        two: s.eventCursor("webhook:two"),
        historyOfA: s.historyOf(a.id)
      })
    ))
    expect(after.events).toEqual(before)
    expect([after.one, after.two]).toEqual([3, 5])
    expect(after.historyOfA.map((e) => e.to)).toEqual(["draft", "testing", "staging"])
  })
})

const artifactDir = path.join(root, "artifacts")
const artifactFiles = async (dir: string): Promise<Array<string>> => {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name))
}
artifactStoreContract("fs", () => FsArtifactStore.layer({ directory: artifactDir }), {
  corrupt: async (modelId, sha256) => {
    const file = path.join(artifactDir, "artifacts", modelId, sha256)
    const bytes = await fs.readFile(file)
    bytes[0] = bytes[0]! ^ 0xff
    await fs.writeFile(file, bytes)
  },
  leftovers: async (modelId) => [
    ...(await artifactFiles(path.join(artifactDir, "artifacts", modelId))),
    ...(await artifactFiles(path.join(artifactDir, "artifacts", ".tmp")))
  ]
})

let registryRun = 0
modelRegistryContract("fs", (settings) => {
  const directory = path.join(root, `registry-${registryRun++}`)
  return ModelRegistry.layer({ ...ModelRegistry.defaultRegistrySettings, ...settings }).pipe(
    Layer.provide(
      Layer.mergeAll(FsModelStore.layer({ directory }), FsArtifactStore.layer({ directory }), MetricsSink.layerMemory)
    )
  )
})

const experimentsDir = path.join(root, "experiments")
experimentStoreContract("fs", () => FsExperimentStore.layer({ directory: experimentsDir }))

const driftDir = path.join(root, "drift")
driftStoreContract("fs", () => Layer.merge(FsDriftStore.layer({ directory: driftDir }), Leases.layerMemory))

describe("fs drift durability", () => {
  it("finds monitors, baselines, reports and windows after a restart from a compacted journal", async () => {
    const directory = path.join(root, "drift-restart")
    const monitor = sampleMonitor()
    const use = <A, E>(program: Effect.Effect<A, E, DriftStore.DriftStore>) =>
      Effect.runPromise(Effect.provide(program, FsDriftStore.layer({ directory })) as Effect.Effect<A, E>)
    await use(DriftStore.DriftStore.use((s) =>
      Effect.all([
        s.insertMonitor(monitor),
        s.addBaseline(monitor.id, "country", {
          type: "categorical",
          version: 1,
          createdAt: monitor.createdAt,
          count: 1,
          missingShare: 0,
          counts: { a: 1 }
        }),
        s.pushWindows(monitor.id, { amount: [1, 2, null] }, 10),
        s.appendReport(
          { id: "r1", monitorId: monitor.id, at: monitor.createdAt, features: [], alerts: [] },
          "2000-01-01T00:00:00Z"
        )
      ], { discard: true })
    ))
    await compactByRestart(directory, "drift", () => use(DriftStore.DriftStore.use((s) => s.listMonitors())))
    const [stored, baselines, window, reports] = await use(
      DriftStore.DriftStore.use((s) =>
        Effect.all([
          s.getMonitor(monitor.id),
          s.baselines(monitor.id, "country"),
          s.window(monitor.id, "amount"),
          s.reports(monitor.id, undefined)
        ])
      )
    )
    expect(stored).toEqual(monitor)
    expect(baselines).toHaveLength(1)
    expect(window).toEqual([1, 2, null])
    expect(reports.map((r) => r.id)).toEqual(["r1"])
  })
})

const pipelinesDir = path.join(root, "pipelines")
pipelineStoreContract("fs", () => FsPipelineStore.layer({ directory: pipelinesDir }))

describe("fs pipelines durability", () => {
  it("keeps pipelines, states, updates, buffers, ids seen, counters over a compacted restart", async () => {
    const directory = path.join(root, "pipelines-restart")
    const pipeline = samplePipeline()
    const sample = (sampleId: string) => ({
      sampleId,
      features: { a: 1 },
      label: 1,
      weight: 1,
      receivedAt: pipeline.createdAt
    })
    const use = <A, E>(program: Effect.Effect<A, E, PipelineStore.PipelineStore>) =>
      Effect.runPromise(Effect.provide(program, FsPipelineStore.layer({ directory })) as Effect.Effect<A, E>)
    await use(PipelineStore.PipelineStore.use((s) =>
      Effect.all([
        s.insert(pipeline),
        s.commit({ ...pipeline, revision: 2, acceptedUpdates: 1 }, 1),
        s.addSamples(pipeline.id, [sample("s1"), sample("s2"), sample("s3")], {
          maxBufferSize: 100,
          dedupWindow: 1000,
          progressiveWindow: 10
        }, [0.9, 0.8, 0.7]),
        s.removeSamples(pipeline.id, ["s1"]),
        s.addProcessed(pipeline.id, 1),
        s.addValidation(pipeline.id, [sample("v1")], 10),
        s.appendUpdate({
          id: "u1",
          pipelineId: pipeline.id,
          at: pipeline.createdAt,
          kind: "update",
          accepted: true,
          reason: "better",
          trigger: "batch",
          samples: 1,
          metricBefore: 0.5,
          metricAfter: 0.4,
          modelId: null,
          previousModelId: null
        })
      ], { discard: true })
    ))
    await compactByRestart(directory, "pipelines", () => use(PipelineStore.PipelineStore.use((s) => s.list())))
    const [stored, buffer, again, counters, progressive, validation, updates] = await use(
      PipelineStore.PipelineStore.use((s) =>
        Effect.all([
          s.get(pipeline.id),
          s.buffer(pipeline.id),
          // s1 was consumed before the restart: a replay of it is still a duplicate.
          Effect.flatMap(
            s.addSamples(
              pipeline.id,
              [sample("s1")],
              { maxBufferSize: 100, dedupWindow: 1000, progressiveWindow: 10 },
              [0.1]
            ),
            () => s.buffer(pipeline.id)
          ),
          s.counters(pipeline.id),
          s.progressive(pipeline.id),
          s.validation(pipeline.id),
          s.updates(pipeline.id)
        ])
      )
    )
    expect(stored).toMatchObject({ revision: 2, acceptedUpdates: 1 })
    expect(buffer.map((x) => x.sampleId)).toEqual(["s2", "s3"])
    expect(again.map((x) => x.sampleId)).toEqual(["s2", "s3"])
    expect(counters).toEqual({ received: 4, duplicates: 1, dropped: 0, processed: 1 })
    expect(progressive.map((e) => e.prediction)).toEqual([0.9, 0.8, 0.7]) // the replay of s1 was not scored again
    expect(validation.map((x) => x.sampleId)).toEqual(["v1"])
    expect(updates.map((u) => u.id)).toEqual(["u1"])
  })
})

describe("fs pipelines decode what they read", () => {
  const start = (directory: string) =>
    Effect.runPromiseExit(
      Effect.provide(PipelineStore.PipelineStore.use((s) => s.list()), FsPipelineStore.layer({ directory }))
    )
  const failure = (exit: Exit.Exit<unknown, unknown>) => (Exit.isFailure(exit) ? String(exit.cause) : "")

  it("stops start-up at a journal line that is JSON but not a valid entry, naming file and line", async () => {
    const directory = path.join(root, "pipelines-damaged-line")
    const pipeline = samplePipeline()
    expect(Exit.isSuccess(await start(directory))).toBe(true)
    await Effect.runPromise(
      Effect.provide(PipelineStore.PipelineStore.use((s) => s.insert(pipeline)), FsPipelineStore.layer({ directory }))
    )
    const damaged = { op: "put", pipeline: { ...pipeline, revision: "2" } }
    // Intact (its checksum matches), but not a valid entry. Line 1 is the header, 2 the insert.
    await fs.appendFile(path.join(directory, "pipelines.jsonl"), encodeLine(JSON.stringify(damaged)))
    expect(failure(await start(directory))).toMatch(/pipelines\.jsonl:3 is not valid: .*revision/)
  })

  it("stops start-up at a saved sample file that does not decode, naming it", async () => {
    const directory = path.join(root, "pipelines-damaged-samples")
    expect(Exit.isSuccess(await start(directory))).toBe(true)
    const saved = {
      p: { buffer: [{ sampleId: "a", features: { x: "1" } }], seen: [], progressive: [], validation: [] }
    }
    await fs.writeFile(path.join(directory, "pipelines-samples.json"), JSON.stringify(saved))
    expect(failure(await start(directory))).toMatch(/pipelines-samples\.json is not valid/)
  })
})

describe("fs experiments durability", () => {
  it("keeps the definition history over a restart and a compaction", async () => {
    const directory = path.join(root, "experiments-history")
    const experiment = sampleExperiment()
    const use = <A, E>(program: Effect.Effect<A, E, ExperimentStore.ExperimentStore>) =>
      Effect.runPromise(Effect.provide(program, FsExperimentStore.layer({ directory })) as Effect.Effect<A, E>)
    const paused = { ...experiment, status: "paused" as const, updatedAt: new Date().toISOString(), revision: 2 }
    const history = await use(ExperimentStore.ExperimentStore.use((s) =>
      Effect.gen(function*() {
        yield* s.insert(experiment)
        yield* s.commit(paused, 1)
        yield* s.commit({ ...paused, status: "running", revision: 3 }, 2)
        return yield* s.definitionHistory(experiment.id)
      })
    ))
    expect(history.map((e) => e.status)).toEqual(["running", "paused", "running"])
    const read = () => use(ExperimentStore.ExperimentStore.use((s) => s.definitionHistory(experiment.id)))
    expect(await read()).toEqual(history)
    await compactByRestart(directory, "experiments", read)
    expect(await read()).toEqual(history)
  })

  it("finds experiments, assignments, exposures, summaries and p-value minima after a compaction", async () => {
    const directory = path.join(root, "experiments-restart")
    const experiment = sampleExperiment()
    const use = <A, E>(program: Effect.Effect<A, E, ExperimentStore.ExperimentStore>) =>
      Effect.runPromise(Effect.provide(program, FsExperimentStore.layer({ directory })) as Effect.Effect<A, E>)
    await use(ExperimentStore.ExperimentStore.use((s) =>
      Effect.all([
        s.insert(experiment),
        s.assignIfAbsent({
          experimentId: experiment.id,
          userId: "u1",
          variant: 1,
          modelId: experiment.variants[1]!.modelId,
          at: experiment.createdAt
        }),
        s.addExposures(experiment.id, [0, 1]),
        s.addExposures(experiment.id, [2, 3], "2030-01-01"),
        s.addExposures(experiment.id, [4, 0], "2030-01-02"),
        s.mergeMetrics(experiment.id, [{ variant: 1, metric: "ctr", summary: summarize([1, 0, 1]) }]),
        s.mergeMetrics(experiment.id, [{
          variant: 0,
          metric: "revenue",
          summary: summarize([2, 4]),
          covariatePairs: summarizePairs([1e9 + 0.125, 1e9], [2, 4]),
          denominatorPairs: summarizePairs([1], [2])
        }]),
        s.lowerSequentialPValues(experiment.id, [{ variant: 1, metric: "ctr", pValue: 0.2 }]),
        s.lowerSequentialPValues(experiment.id, [{ variant: 1, metric: "ctr", pValue: 1 / 30 }]),
        s.lowerSequentialPValues(experiment.id, [{ variant: 1, metric: "ctr", pValue: 0.9 }])
      ], { discard: true })
    ))
    await compactByRestart(directory, "experiments", () => use(ExperimentStore.ExperimentStore.use((s) => s.list())))
    const [stored, assignment, counters, days, minima] = await use(
      ExperimentStore.ExperimentStore.use((s) =>
        Effect.all([
          s.get(experiment.id),
          s.getAssignment(experiment.id, "u1"),
          s.counters(experiment.id, 2),
          s.exposuresByDay(experiment.id, 2),
          s.sequentialPValues(experiment.id)
        ])
      )
    )
    expect(minima).toEqual([{ variant: 1, metric: "ctr", pValue: 1 / 30 }])
    expect(stored).toEqual(experiment)
    expect(assignment?.variant).toBe(1)
    expect(counters.variants.map((v) => v.exposures)).toEqual([6, 4])
    expect(counters.variants[1]).toMatchObject({ metrics: { ctr: { count: 3 } } })
    // Paired summaries (CUPED covariates, ratio denominators) come back exactly.
    expect(counters.variants[0]!.covariatePairs).toEqual({ revenue: summarizePairs([1e9 + 0.125, 1e9], [2, 4]) })
    expect(counters.variants[0]!.denominatorPairs).toEqual({ revenue: summarizePairs([1], [2]) })
    expect(days).toEqual([{ day: "2030-01-01", counts: [2, 3] }, { day: "2030-01-02", counts: [4, 0] }])
  })
})

describe("fs dimension breakdowns durability", () => {
  it("keeps every slice, and the same capped values, over a restart and a compaction", async () => {
    const directory = path.join(root, "experiments-dimensions")
    const experiment = sampleExperiment()
    const use = <A, E>(program: Effect.Effect<A, E, ExperimentStore.ExperimentStore>) =>
      Effect.runPromise(Effect.provide(program, FsExperimentStore.layer({ directory })) as Effect.Effect<A, E>)
    const pages = Array.from({ length: ExperimentStore.MAX_DIMENSION_VALUES + 5 }, (_, i) => `p${i}`)
    await use(ExperimentStore.ExperimentStore.use((s) =>
      Effect.gen(function*() {
        yield* s.insert(experiment)
        // "_other" sent first: it takes no place, so the compaction's replay keeps the same values.
        yield* s.addDimensionExposures(experiment.id, [{ dimension: "page", value: "_other", variant: 1, count: 7 }])
        for (const value of pages) {
          yield* s.addDimensionExposures(experiment.id, [{ dimension: "page", value, variant: 0, count: 1 }])
        }
        yield* s.mergeDimensionMetrics(experiment.id, [
          { dimension: "country", value: "de", variant: 1, metric: "ctr", summary: summarize([1, 0, 1]) }
        ])
      })
    ))
    const read = () =>
      use(
        ExperimentStore.ExperimentStore.use((s) =>
          Effect.all([s.dimensionCounters(experiment.id, "page", 2), s.dimensionCounters(experiment.id, "country", 2)])
        )
      )
    const before = await read()
    expect(before[0].find((x) => x.value === "_other")!.variants.map((v) => v.exposures)).toEqual([5, 7])
    expect(before[1]).toEqual([{
      value: "de",
      variants: [{ exposures: 0, metrics: {} }, {
        exposures: 0,
        metrics: { ctr: summarize([1, 0, 1]) }
      }]
    }])
    expect(await read()).toEqual(before)
    await compactByRestart(directory, "experiments", () => use(ExperimentStore.ExperimentStore.use((s) => s.list())))
    expect(await read()).toEqual(before)
  })
})

describe("fs journal durability", () => {
  const useStore = <A, E>(directory: string, program: Effect.Effect<A, E, ModelStore.ModelStore>) =>
    Effect.runPromise(Effect.provide(program, FsModelStore.layer({ directory })) as Effect.Effect<A, E>)

  it("survives a restart with every model and event", async () => {
    const directory = path.join(root, "restart")
    const model = sampleModel({ name: "restart" })
    await useStore(directory, ModelStore.ModelStore.use((s) => s.insert(model, sampleEvent(model))))
    const [stored, history] = await useStore(
      directory,
      ModelStore.ModelStore.use((s) => Effect.all([s.get(model.id), s.historyOf(model.id)]))
    )
    expect(stored).toEqual(model)
    expect(history).toHaveLength(1)
  })

  it("keeps registered models, alias pointers and alias events over a restart and a compaction", async () => {
    const directory = path.join(root, "aliases")
    const model = sampleModel({ name: "aliased" })
    const registered = sampleRegisteredModel({ name: "aliased" })
    const moved = { ...registered, aliases: { champion: model.id }, revision: 2 }
    await useStore(
      directory,
      ModelStore.ModelStore.use((s) =>
        Effect.gen(function*() {
          yield* s.insert(model, sampleEvent(model))
          yield* s.commit({
            expected: [],
            put: [],
            events: [],
            registered: { expectedRevision: null, put: registered }
          })
          yield* s.commit({
            expected: [],
            put: [],
            events: [sampleEvent(model, { action: "alias_set", alias: "champion", to: null })],
            registered: { expectedRevision: 1, put: moved }
          })
        })
      )
    )
    const read = () =>
      useStore(
        directory,
        ModelStore.ModelStore.use((s) =>
          Effect.all([s.getRegistered("aliased"), s.listRegistered({ limit: 10 }), s.historyOfName("aliased")])
        )
      )
    const [afterRestart, listed, history] = await read()
    expect(afterRestart).toEqual(moved)
    expect(listed).toEqual([moved])
    expect(history.map((e) => e.action)).toEqual(["registered", "alias_set"])
    await compactByRestart(directory, "registry", read)
    expect(await read()).toEqual([moved, [moved], history])
  })

  it("drops a torn final line left by a crash and keeps the rest", async () => {
    const directory = path.join(root, "torn")
    const model = sampleModel({ name: "torn" })
    await useStore(directory, ModelStore.ModelStore.use((s) => s.insert(model, sampleEvent(model))))
    await fs.appendFile(path.join(directory, "registry.jsonl"), "{\"op\":\"insert\",\"model\":{\"id\":\"01")
    const count = await useStore(directory, ModelStore.ModelStore.use((s) => s.list({ limit: 10 })))
    expect(count.map((m) => m.id)).toEqual([model.id])
    const text = await fs.readFile(path.join(directory, "registry.jsonl"), "utf8")
    expect(text.endsWith("\n")).toBe(true)
  })

  it("refuses a data directory held by another live process", async () => {
    const directory = path.join(root, "locked")
    await fs.mkdir(directory, { recursive: true })
    await fs.writeFile(path.join(directory, "registry.lock"), String(process.ppid))
    const exit = await Effect.runPromise(
      Effect.exit(Effect.provide(ModelStore.ModelStore.use((s) => s.ping()), FsModelStore.layer({ directory })))
    )
    expect(Exit.isFailure(exit)).toBe(true)
    expect(JSON.stringify(exit)).toContain("in use by process")
  })

  it("removes partial uploads left by a crash when it starts, and keeps uploads in progress", async () => {
    const directory = path.join(root, "crash")
    const temp = path.join(directory, "artifacts", ".tmp")
    await fs.mkdir(temp, { recursive: true })
    const exitedPid = spawnSync(process.execPath, ["-e", ""]).pid!
    const files = {
      deadProcessHere: FsArtifactStore.tempFileName({ pid: exitedPid }),
      predecessorWithOurPid: FsArtifactStore.tempFileName({ startToken: "previous" }),
      thisProcess: FsArtifactStore.tempFileName(),
      liveProcessHere: FsArtifactStore.tempFileName({ pid: process.ppid }),
      otherHostRecent: FsArtifactStore.tempFileName({ pid: exitedPid, host: "other-host" }),
      otherHostUntouched: FsArtifactStore.tempFileName({ pid: process.ppid, host: "other-host" }),
      liveProcessHereUntouched: FsArtifactStore.tempFileName({ pid: process.ppid })
    }
    for (const name of Object.values(files)) await fs.writeFile(path.join(temp, name), "half an upload")
    const untouchedSince = new Date(Date.now() - FsArtifactStore.staleTempFileAgeMs - 60_000)
    for (const name of [files.otherHostUntouched, files.liveProcessHereUntouched]) {
      await fs.utimes(path.join(temp, name), untouchedSince, untouchedSince)
    }
    await Effect.runPromise(
      Effect.provide(ArtifactStore.ArtifactStore.use((s) => s.ping()), FsArtifactStore.layer({ directory }))
    )
    expect((await artifactFiles(path.join(directory, "artifacts"))).sort()).toEqual(
      [files.thisProcess, files.liveProcessHere, files.otherHostRecent].map((name) => path.join(temp, name)).sort()
    )
  })

  it("lets instances sharing one directory start while others upload", async () => {
    const directory = path.join(root, "shared")
    const upload = (bytes: Uint8Array<ArrayBuffer>) =>
      ArtifactStore.ArtifactStore.use((s) =>
        s.write(makeUlid(Date.now()), new Blob([bytes]).stream(), { maxBytes: 1 << 20 })
      )
    const starts = Array.from(
      { length: 8 },
      (_, i) =>
        Effect.runPromise(Effect.provide(upload(new Uint8Array(1000).fill(i)), FsArtifactStore.layer({ directory })))
    )
    const written = await Promise.all(starts)
    expect(written.map((w) => w.sizeBytes)).toEqual(Array(8).fill(1000))
  })
})
