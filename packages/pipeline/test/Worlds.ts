/**
 * The storage modes the pipeline's tests run in: memory, and the real Redis through a client the
 * test owns (as a host service would), under a unique prefix whose keys are deleted afterwards.
 */
import { connectOrFail, deleteKeysWithPrefix, uniquePrefix } from "@org/ml-adapter-redis/testing"
import { AbTests, DriftDetector, ModelRegistry, OnlineLearner } from "@org/ml-core"
import { streamOf } from "@org/ml-core/testing"
import { MlApiError } from "@org/ml-sdk"
import { Context, Effect, Layer } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { createMlPipeline, type MlPipelineConfig, type MlPipelineInstance } from "../src/index.js"

export const hostRedis = await connectOrFail()
const prefixes: Array<string> = []
const directories: Array<string> = []

export const freshPrefix = (label: string) => {
  const prefix = uniquePrefix(`pipeline-${label}`)
  prefixes.push(prefix)
  return prefix
}

export const freshDirectory = async () => {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), "ml-pipeline-test-"))
  directories.push(directory)
  return directory
}

/** Deletes this file's keys and directories; the host client is closed last, by the test file. */
export const cleanUp = async () => {
  for (const prefix of prefixes) await deleteKeysWithPrefix(hostRedis, prefix)
  for (const directory of directories) await fs.rm(directory, { recursive: true, force: true })
}

export interface Mode {
  readonly name: string
  /** A configuration on fresh storage (Redis: a fresh prefix on the host's client, artifacts in a fresh directory). */
  readonly config: (settings?: MlPipelineConfig["settings"]) => Promise<MlPipelineConfig>
}

export const modes: ReadonlyArray<Mode> = [
  { name: "memory", config: async (settings) => ({ memory: true, settings }) },
  {
    name: "Redis (host client)",
    config: async (settings) => ({
      redis: hostRedis,
      redisPrefix: freshPrefix("facade"),
      storageDir: await freshDirectory(),
      settings
    })
  }
]

/** Registers n models with artifacts, in testing, through the Promise API; returns their ids. */
export const testingModels = async (ml: MlPipelineInstance, n: number) => {
  const name = `m-${Math.random().toString(36).slice(2, 8)}`
  const ids: Array<string> = []
  for (let i = 0; i < n; i++) {
    const model = await ml.registry.registerModel(
      { name, version: String(i), algorithm: "a", framework: "f" },
      streamOf([new Uint8Array([i])])
    )
    await ml.registry.promoteModel(model.id, "testing")
    ids.push(model.id)
  }
  return ids
}

/**
 * A Promise-API use case seen as the Effect service again, so the core's behaviour suites (written
 * against the services) check the facade: a thrown SDK error becomes a failure with its tag
 * (`code`) and problem fields, as the service's typed error had them. `internals` stand in for the
 * methods the facade runs itself.
 */
export const serviceOverFacade = <Shape>(facade: object, internals: Record<string, () => Promise<unknown>> = {}) => {
  const back = <A>(call: () => Promise<A>) =>
    Effect.tryPromise({
      try: call,
      catch: (error) => error instanceof MlApiError ? { ...error.problem, _tag: error.code } : error
    })
  const methods = Object.entries({ ...facade, ...internals }).map(([name, method]) => [
    name,
    (...args: ReadonlyArray<unknown>) =>
      back(() => (method as (...a: ReadonlyArray<unknown>) => Promise<unknown>)(...args))
  ])
  return Object.fromEntries(methods) as Shape
}

/** The four use-case services served by one fresh Promise facade, closed with the layer. */
export const facadeLayer = (config: Promise<MlPipelineConfig>) =>
  Layer.effectContext(
    Effect.acquireRelease(
      Effect.promise(async () => createMlPipeline(await config)),
      (ml) => Effect.promise(() => ml.close())
    ).pipe(Effect.map((ml) =>
      Context.make(
        ModelRegistry.ModelRegistry,
        serviceOverFacade<ModelRegistry.ModelRegistryShape>(ml.registry, {
          refreshGauges: () => ml.refreshMetrics(),
          ping: () => ml.ping()
        })
      ).pipe(
        Context.add(
          AbTests.AbTests,
          serviceOverFacade<AbTests.AbTestsShape>(ml.experiments, { refreshGauges: () => ml.refreshMetrics() })
        ),
        Context.add(DriftDetector.DriftDetector, serviceOverFacade<DriftDetector.DriftDetectorShape>(ml.drift)),
        Context.add(
          OnlineLearner.OnlineLearner,
          serviceOverFacade<OnlineLearner.OnlineLearnerShape>(ml.learning, { refreshGauges: () => ml.refreshMetrics() })
        )
      )
    ))
  )
