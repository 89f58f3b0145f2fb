/**
 * `ml-server migrate --from-env FILE --to-env FILE`: copies a whole deployment from one store to
 * another, each side described by an environment file exactly like the server's configuration
 * (ML_MODEL_STORAGE_DIR, ML_REDIS_URL, ML_DATABASE_URL, ML_ARTIFACT_URL, ...): models, their audit
 * history and artifacts, API keys, and (MigrateRecords.ts) experiments, drift monitoring and
 * pipelines, and (MigrateSdkConnections.ts) SDK connections with their client and encryption
 * keys. Everything goes through the ports, so any pair of compositions works. The target must
 * be empty; the source is only read (its servers stopped). `--models-only` copies the models,
 * artifacts and keys alone. At the end everything is read back from both stores and compared; the
 * first difference is named.
 */
import {
  ArtifactStore,
  type AuditEvent,
  DriftStore,
  ExperimentStore,
  KeyStore,
  type Model,
  ModelStore,
  PipelineStore,
  type RegisteredModel,
  RegistryEventDelivery,
  SdkConnections
} from "@org/ml-core"
import { Effect, ManagedRuntime } from "effect"
import * as fs from "node:fs"
import { ConfigError, describeStorage, loadConfig, type ServerConfig } from "./Config.js"
import {
  copyDrift,
  copyExperiments,
  copyPipelines,
  recordsHeld,
  run,
  same,
  verifyDrift,
  verifyExperiments,
  verifyPipelines
} from "./MigrateRecords.js"
import { copySdkConnections, sdkConnectionsHeld, verifySdkConnections } from "./MigrateSdkConnections.js"
import { makeStorageLayer } from "./Server.js"

const usage = "Usage: ml-server migrate --from-env FILE --to-env FILE [--models-only]"

class UsageError extends Error {}

export interface MigrateArgs {
  readonly fromEnv: string
  readonly toEnv: string
  readonly modelsOnly: boolean
}

export const parseMigrateArgs = (args: ReadonlyArray<string>): MigrateArgs => {
  let fromEnv: string | undefined
  let toEnv: string | undefined
  let modelsOnly = false
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    const [flag, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [
      arg,
      undefined
    ]
    if (flag === "--models-only" && inline === undefined) modelsOnly = true
    else if (flag === "--from-env" || flag === "--to-env") {
      const value = inline ?? args[++i]
      if (value === undefined || value === "") throw new UsageError(`${flag} needs a file. ${usage}`)
      if (flag === "--from-env") fromEnv = value
      else toEnv = value
    } else throw new UsageError(`Unknown option ${arg}. ${usage}`)
  }
  if (fromEnv === undefined || toEnv === undefined) throw new UsageError(usage)
  return { fromEnv, toEnv, modelsOnly }
}

/** KEY=VALUE lines; blank lines and `#` comments skipped; one pair of surrounding quotes removed. */
export const parseEnvFile = (text: string, file: string): Record<string, string> => {
  const env: Record<string, string> = {}
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim()
    if (line === "" || line.startsWith("#")) return
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line)
    if (match === null) throw new UsageError(`${file} line ${index + 1}: expected KEY=VALUE`)
    const value = match[2]!
    env[match[1]!] = /^(["']).*\1$/.test(value) ? value.slice(1, -1) : value
  })
  return env
}

const configFrom = (file: string): ServerConfig => {
  let text: string
  try {
    text = fs.readFileSync(file, "utf8")
  } catch (error) {
    throw new UsageError(`Cannot read ${file}: ${(error as Error).message}`)
  }
  try {
    return loadConfig(parseEnvFile(text, file))
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(`Invalid configuration in ${file}: ${error.message}`)
    throw error
  }
}

export const storesOf = Effect.gen(function*() {
  return {
    models: yield* ModelStore.ModelStore,
    artifacts: yield* ArtifactStore.ArtifactStore,
    keys: yield* KeyStore.KeyStore,
    experiments: yield* ExperimentStore.ExperimentStore,
    drift: yield* DriftStore.DriftStore,
    pipelines: yield* PipelineStore.PipelineStore,
    sdkConnections: yield* SdkConnections.SdkConnectionStore
  }
})
export type Stores = Effect.Success<typeof storesOf>

/** Every record of a listing read in pages of 500 after a cursor (the last record's key). */
const allPages = async <A>(
  read: (page: { readonly limit: number; readonly cursor?: string }) => Effect.Effect<ReadonlyArray<A>, unknown>,
  keyOf: (record: A) => string
): Promise<ReadonlyArray<A>> => {
  const records: Array<A> = []
  for (;;) {
    const last = records.at(-1)
    const page = await run(read(last === undefined ? { limit: 500 } : { limit: 500, cursor: keyOf(last) }))
    records.push(...page)
    if (page.length < 500) return records
  }
}

const allModels = (store: ModelStore.ModelStoreShape): Promise<ReadonlyArray<Model>> =>
  allPages((page) => store.list(page), (m) => m.id)

const allRegisteredModels = (store: ModelStore.ModelStoreShape): Promise<ReadonlyArray<RegisteredModel>> =>
  allPages((page) => store.listRegistered(page), (r) => r.name)

const otherRecords = async (stores: Stores) => [
  ...await recordsHeld(stores.experiments, stores.drift, stores.pipelines),
  ...await sdkConnectionsHeld(stores.sdkConnections)
]

const sha256OfStream = async (stream: ReadableStream<Uint8Array>): Promise<{ sha256: string; sizeBytes: number }> => {
  const { createHash } = await import("node:crypto")
  const hash = createHash("sha256")
  let sizeBytes = 0
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
    hash.update(chunk)
    sizeBytes += chunk.byteLength
  }
  return { sha256: hash.digest("hex"), sizeBytes }
}

export interface RecordsCopied {
  readonly experiments: number
  readonly assignments: number
  readonly monitors: number
  readonly reports: number
  readonly webhooks: number
  readonly deliveries: number
  readonly pipelines: number
  readonly samples: number
  readonly updates: number
  readonly sdkConnections: number
}

export interface MigrationSummary {
  readonly models: number
  /** Registered models, with their alias pointers. */
  readonly registeredModels: number
  readonly events: number
  readonly artifacts: number
  readonly artifactBytes: number
  readonly keys: number
  /** Undefined with --models-only. */
  readonly records: RecordsCopied | undefined
  readonly leftBehind: ReadonlyArray<string>
}

/**
 * Keys are recreated with their token hashes, and revoked ones revoked again, all in the order of
 * their timestamps: the target records the same creation and revocation events in the same order.
 */
const copyKeys = async (source: KeyStore.KeyStoreShape, target: KeyStore.KeyStoreShape): Promise<number> => {
  const records = await run(source.exportRecords())
  const steps = records.flatMap(({ key, tokenHash }) => {
    const { revokedAt, revokedBy, ...active } = key
    const create = { at: key.createdAt, order: 0, run: () => run(target.create(active, tokenHash)) }
    if (revokedAt === undefined) return [create]
    const revoke = { at: revokedAt, order: 1, run: () => run(target.revoke(key.id, revokedBy ?? "unknown", revokedAt)) }
    return [create, revoke]
  }).sort((a, b) => a.at.localeCompare(b.at) || a.order - b.order)
  for (const step of steps) await step.run()
  return records.length
}

/**
 * Copies models, history, artifacts and keys, then (unless modelsOnly) experiments, drift and
 * pipelines from `source` to the empty `target`, then verifies everything.
 */
/**
 * Each webhook's registry-event cursor, at the same event in the target (whose sequences differ:
 * copied in order into an empty store), so a webhook is not sent what it already received.
 */
const copyEventCursors = async (source: Stores, target: Stores, sourceSequences: ReadonlyArray<number>) => {
  const targetSequences: Array<number> = []
  for (let after = 0;;) {
    const page = await run(target.models.eventsAfter(after, ModelStore.MAX_EVENTS_PER_READ))
    for (const { sequence } of page) targetSequences.push(sequence)
    if (page.length < ModelStore.MAX_EVENTS_PER_READ) break
    after = page[page.length - 1]!.sequence
  }
  if (targetSequences.length !== sourceSequences.length) {
    throw new Error(`target has ${targetSequences.length} audit events, source ${sourceSequences.length}`)
  }
  let moved = 0
  for (const webhook of await run(source.drift.listWebhooks())) {
    const consumer = RegistryEventDelivery.cursorName(webhook.id)
    const cursor = await run(source.models.eventCursor(consumer))
    // The last event at or before the cursor (sequences ascend): binary search.
    let [low, high] = [0, sourceSequences.length]
    while (low < high) {
      const middle = (low + high) >> 1
      if (sourceSequences[middle]! <= cursor) low = middle + 1
      else high = middle
    }
    if (low === 0) continue
    await run(target.models.advanceEventCursor(consumer, targetSequences[low - 1]!))
    moved++
  }
  return moved
}

export const migrateStores = async (
  source: Stores,
  target: Stores,
  options: { readonly modelsOnly: boolean; readonly log: (line: string) => void }
): Promise<MigrationSummary> => {
  const inTarget = [
    ...((await run(target.models.list({ limit: 1 }))).length > 0 ? ["models"] : []),
    ...((await run(target.models.listRegistered({ limit: 1 }))).length > 0 ? ["registered models"] : []),
    ...((await run(target.keys.list())).length > 0 ? ["keys"] : []),
    ...await otherRecords(target)
  ]
  if (inTarget.length > 0) throw new Error(`the target is not empty: it holds ${inTarget.join(", ")}`)
  const leftBehind = options.modelsOnly ? await otherRecords(source) : []
  const models = await allModels(source.models)
  const byId = new Map(models.map((m) => [m.id, m]))
  const names = [...new Set(models.map((m) => m.name))]
  // Replayed in the outbox's order (the order webhooks receive events): a model is inserted (in its
  // current state) with its first event, and the events between insertions follow in one commit, so
  // every history keeps its order and each source sequence has its counterpart in the target.
  const sourceSequences: Array<number> = []
  const inserted = new Set<string>()
  let pending: Array<AuditEvent> = []
  const flush = async () => {
    if (pending.length > 0) await run(target.models.commit({ expected: [], put: [], events: pending }))
    pending = []
  }
  for (let after = 0;;) {
    const page = await run(source.models.eventsAfter(after, ModelStore.MAX_EVENTS_PER_READ))
    for (const { event, sequence } of page) {
      const model = byId.get(event.modelId)
      if (model !== undefined && !inserted.has(model.id)) {
        await flush()
        await run(target.models.insert(model, event))
        inserted.add(model.id)
      } else pending.push(event)
      sourceSequences.push(sequence)
    }
    if (page.length < ModelStore.MAX_EVENTS_PER_READ) break
    after = page[page.length - 1]!.sequence
  }
  await flush()
  const events = sourceSequences.length
  const missing = models.filter((m) => !inserted.has(m.id))
  if (missing.length > 0) throw new Error(`model ${missing[0]!.id} (${missing[0]!.name}) has no audit history to copy`)
  options.log(`Copied ${models.length} models and ${events} audit events`)
  // Each registered model as it is, alias pointers included (their moves are in the events above).
  const registeredModels = await allRegisteredModels(source.models)
  for (const registered of registeredModels) {
    await run(
      target.models.commit({
        expected: [],
        put: [],
        events: [],
        registered: { expectedRevision: null, put: registered }
      })
    )
  }
  options.log(`Copied ${registeredModels.length} registered models with their aliases`)
  let artifacts = 0
  let artifactBytes = 0
  for (const model of models) {
    if (model.artifact === null) continue
    const stream = await run(source.artifacts.open(model.id, model.artifact))
    await run(target.artifacts.write(model.id, stream, {
      maxBytes: model.artifact.sizeBytes,
      expectedSha256: model.artifact.sha256
    }))
    artifacts++
    artifactBytes += model.artifact.sizeBytes
  }
  options.log(`Copied ${artifacts} artifacts (${artifactBytes} bytes), each verified by SHA-256`)
  const keys = await copyKeys(source.keys, target.keys)
  options.log(`Copied ${keys} API keys (their token hashes: the old tokens keep working)`)
  let records: RecordsCopied | undefined
  let experimentsCopied: Awaited<ReturnType<typeof copyExperiments>> | undefined
  if (!options.modelsOnly) {
    experimentsCopied = await copyExperiments(source.experiments, target.experiments)
    const { experiments, assignments } = experimentsCopied
    options.log(
      `Copied ${experiments} experiments with ${assignments} sticky assignments, exposures and metric summaries`
    )
    const drift = await copyDrift(source.drift, target.drift)
    options.log(
      `Copied ${drift.monitors} drift monitors (baselines, windows, alert states, ${drift.reports} reports), ` +
        `${drift.webhooks} webhooks and ${drift.deliveries} deliveries`
    )
    const cursors = await copyEventCursors(source, target, sourceSequences)
    if (cursors > 0) options.log(`Moved ${cursors} webhooks' registry-event cursors to the same events`)
    const pipelines = await copyPipelines(source.pipelines, target.pipelines)
    options.log(
      `Copied ${pipelines.pipelines} pipelines ` +
        `(${pipelines.samples} buffered samples, ${pipelines.updates} update records)`
    )
    const sdkConnections = await copySdkConnections(source.sdkConnections, target.sdkConnections)
    options.log(`Copied ${sdkConnections} SDK connections (their client keys and encryption keys: SDKs keep working)`)
    records = { experiments, assignments, ...drift, ...pipelines, sdkConnections }
  }
  // Verification: everything read back from the target as a server would.
  const copied = await allModels(target.models)
  if (copied.length !== models.length) throw new Error(`target has ${copied.length} models, source ${models.length}`)
  for (const model of models) {
    const twin = await run(target.models.get(model.id))
    if (!same(twin, model)) throw new Error(`model ${model.id} differs in the target`)
    if (!same(await run(target.models.historyOf(model.id)), await run(source.models.historyOf(model.id)))) {
      throw new Error(`audit history of model ${model.id} differs in the target`)
    }
    if (model.artifact !== null) {
      const read = await sha256OfStream(await run(target.artifacts.open(model.id, model.artifact)))
      if (read.sha256 !== model.artifact.sha256 || read.sizeBytes !== model.artifact.sizeBytes) {
        throw new Error(`artifact of model ${model.id} reads back as ${read.sha256} (${read.sizeBytes} bytes)`)
      }
    }
  }
  for (const name of names) {
    const [from, to] = [await run(source.models.productionOf(name)), await run(target.models.productionOf(name))]
    if (from?.id !== to?.id) throw new Error(`production version of ${name} differs: ${from?.id} vs ${to?.id}`)
    if (!same(await run(source.models.historyOfName(name)), await run(target.models.historyOfName(name)))) {
      throw new Error(`audit history of ${name} differs in the target`)
    }
  }
  if (!same(await allRegisteredModels(target.models), registeredModels)) {
    throw new Error("registered models or their aliases differ in the target")
  }
  if (!same(await run(source.models.countByStatus()), await run(target.models.countByStatus()))) {
    throw new Error("model counts by status differ")
  }
  const byHash = (records: ReadonlyArray<KeyStore.KeyRecord>) =>
    [...records].sort((a, b) => a.tokenHash.localeCompare(b.tokenHash))
  if (!same(byHash(await run(source.keys.exportRecords())), byHash(await run(target.keys.exportRecords())))) {
    throw new Error("API keys differ in the target")
  }
  if (experimentsCopied !== undefined) {
    await verifyExperiments(source.experiments, target.experiments, experimentsCopied)
    await verifyDrift(source.drift, target.drift)
    await verifyPipelines(source.pipelines, target.pipelines)
    await verifySdkConnections(source.sdkConnections, target.sdkConnections)
  }
  return {
    models: models.length,
    registeredModels: registeredModels.length,
    events,
    artifacts,
    artifactBytes,
    keys,
    records,
    leftBehind
  }
}

/** Runs the subcommand; resolves to the exit code (0 copied and verified, 1 refused or failed, 2 bad usage). */
export const runMigrate = async (
  args: ReadonlyArray<string>,
  out: (line: string) => void = console.log,
  err: (line: string) => void = console.error
): Promise<number> => {
  let parsed: MigrateArgs
  let from: ServerConfig
  let to: ServerConfig
  try {
    parsed = parseMigrateArgs(args)
    from = configFrom(parsed.fromEnv)
    to = configFrom(parsed.toEnv)
  } catch (error) {
    if (error instanceof UsageError) {
      err(error.message)
      return 2
    }
    throw error
  }
  const source = ManagedRuntime.make(makeStorageLayer(from))
  const target = ManagedRuntime.make(makeStorageLayer(to))
  try {
    out(`Migrating from ${describeStorage(from)}`)
    out(`          to   ${describeStorage(to)}`)
    const summary = await migrateStores(await source.runPromise(storesOf), await target.runPromise(storesOf), {
      modelsOnly: parsed.modelsOnly,
      log: out
    })
    out(
      `Verified: ${summary.models} models, ${summary.events} audit events, production pointers and ` +
        `${summary.artifacts} artifacts (${summary.artifactBytes} bytes) and ${summary.keys} API keys match the source`
    )
    out(`Verified: ${summary.registeredModels} registered models with their aliases match the source`)
    const { records } = summary
    if (records !== undefined) {
      out(
        `Verified: ${records.experiments} experiments (${records.assignments} sticky assignments, counters, ` +
          `summaries), ${records.monitors} drift monitors (${records.reports} reports, windows, baselines), ` +
          `${records.webhooks} webhooks (${records.deliveries} deliveries) and ${records.pipelines} pipelines ` +
          `(${records.samples} buffered samples, ${records.updates} updates) and ${records.sdkConnections} SDK ` +
          "connections (with their audit trail) match the source"
      )
    }
    if (summary.leftBehind.length > 0) out(`Not copied (--models-only): ${summary.leftBehind.join(", ")}`)
    return 0
  } catch (error) {
    err(`Migration refused or failed: ${error instanceof Error ? error.message : String(error)}`)
    return 1
  } finally {
    await Promise.allSettled([source.dispose(), target.dispose()])
  }
}
