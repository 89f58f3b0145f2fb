/**
 * What `ml-server migrate` copies besides models, artifacts and keys: experiments (record, definition
 * history, sticky assignments, exposure totals and days, metric summaries,
 * dimension breakdowns), drift (monitors, baseline versions,
 * current windows, alert states, reports, webhooks and their deliveries) and pipelines (record,
 * live learner state, sample side, update records). Each kind has a copy into an empty target
 * and a verification that reads both stores back through the ports as a server would and names
 * the first difference. Sticky assignments stream a page at a time in both steps: they are
 * compared by count and an order-independent digest, never held all at once. Leases and rate
 * limits are transient and not copied.
 */
import {
  type Assignment,
  baselineRowsWindow,
  DriftStore,
  ExperimentStore,
  type Monitor,
  multivariateFeatures,
  type Pipeline,
  PipelineStore
} from "@org/ml-core"
import { Effect } from "effect"
import { createHash } from "node:crypto"
import { isDeepStrictEqual } from "node:util"

export const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(effect)

/** Deep equality regardless of key order (PostgreSQL's jsonb does not keep it). */
export const same = (a: unknown, b: unknown) => isDeepStrictEqual(a, b)

const differs = (what: string): never => {
  throw new Error(`${what} differs in the target`)
}

const expectSame = (what: string, source: unknown, target: unknown) => {
  if (!same(source, target)) differs(what)
}

/** The source's records of one kind, once the target holds as many. */
const sameCount = async <A>(kind: string, source: Effect.Effect<ReadonlyArray<A>, unknown>, target: typeof source) => {
  const [from, to] = [await run(source), await run(target)]
  if (to.length !== from.length) throw new Error(`target has ${to.length} ${kind}, source ${from.length}`)
  return from
}

/** Assignments read per page; an import writes one page at a time. */
export const assignmentPageSize = 1000

/**
 * Count and order-independent digest of a set of assignments (the sum of each one's SHA-256
 * prefix, mod 2^64): two stores hold the same assignments when both agree, whatever order
 * their pages come in.
 */
interface AssignmentTally {
  count: number
  digest: bigint
}

const tallyOf = (assignments: ReadonlyArray<Assignment>, tally: AssignmentTally) => {
  for (const a of assignments) {
    const text = [a.experimentId, a.userId, String(a.variant), a.modelId, a.at].join("\u0000")
    tally.digest = (tally.digest + createHash("sha256").update(text).digest().readBigUInt64BE(0)) & 0xffffffffffffffffn
    tally.count++
  }
}

/** Every page of the experiment's assignments, each passed to `onPage` before the next is read. */
const eachAssignmentPage = async (
  store: ExperimentStore.ExperimentStoreShape,
  experimentId: string,
  onPage: (assignments: ReadonlyArray<Assignment>) => Promise<void>
) => {
  let cursor: string | undefined
  do {
    const page = await run(store.exportAssignments(experimentId, cursor, assignmentPageSize))
    if (page.assignments.length > 0) await onPage(page.assignments)
    cursor = page.next
  } while (cursor !== undefined)
}

const tallyAssignments = async (store: ExperimentStore.ExperimentStoreShape, experimentId: string) => {
  const tally: AssignmentTally = { count: 0, digest: 0n }
  await eachAssignmentPage(store, experimentId, async (page) => tallyOf(page, tally))
  return tally
}

export interface ExperimentsCopied {
  readonly experiments: number
  readonly assignments: number
  /** Per experiment, the tally of what was copied, for the verification. */
  readonly tallies: ReadonlyMap<string, AssignmentTally>
}

export const copyExperiments = async (
  source: ExperimentStore.ExperimentStoreShape,
  target: ExperimentStore.ExperimentStoreShape
): Promise<ExperimentsCopied> => {
  const tallies = new Map<string, AssignmentTally>()
  let assignments = 0
  const experiments = await run(source.list())
  for (const experiment of experiments) {
    await run(target.insert(experiment))
    await run(
      ExperimentStore.importCounters(
        target,
        experiment.id,
        await run(ExperimentStore.exportCounters(source, experiment))
      )
    )
    await run(
      ExperimentStore.importDimensions(
        target,
        experiment.id,
        await run(ExperimentStore.exportDimensions(source, experiment))
      )
    )
    const tally: AssignmentTally = { count: 0, digest: 0n }
    await eachAssignmentPage(source, experiment.id, async (page) => {
      await run(target.importAssignments(page))
      tallyOf(page, tally)
    })
    // The same record committed again: a completed experiment's assignments get the target's
    // retention (Redis TTL, PostgreSQL expiry), counted from now, so they still expire there.
    if (experiment.status === "completed") await run(target.commit(experiment, experiment.revision))
    // Last, so it replaces the entries the insert and that commit appended with the source's history.
    await run(target.importDefinitionHistory(experiment.id, await run(source.definitionHistory(experiment.id))))
    tallies.set(experiment.id, tally)
    assignments += tally.count
  }
  return { experiments: experiments.length, assignments, tallies }
}

/**
 * The experiment record, its counters and days (hence its results and bandit weights), the running
 * minima of its always-valid p-values, its dimension breakdowns, and its assignments.
 */
export const verifyExperiments = async (
  source: ExperimentStore.ExperimentStoreShape,
  target: ExperimentStore.ExperimentStoreShape,
  copied: ExperimentsCopied
) => {
  for (const experiment of await sameCount("experiments", source.list(), target.list())) {
    const what = `experiment ${experiment.id}`
    expectSame(what, experiment, await run(target.get(experiment.id)))
    expectSame(
      `${what} definition history`,
      await run(source.definitionHistory(experiment.id)),
      await run(target.definitionHistory(experiment.id))
    )
    const n = experiment.variants.length
    expectSame(
      `${what} counters`,
      await run(source.counters(experiment.id, n)),
      await run(target.counters(experiment.id, n))
    )
    expectSame(
      `${what} exposures by day`,
      await run(source.exposuresByDay(experiment.id, n)),
      await run(target.exposuresByDay(experiment.id, n))
    )
    expectSame(
      `${what} always-valid p-value minima`,
      await run(source.sequentialPValues(experiment.id)),
      await run(target.sequentialPValues(experiment.id))
    )
    expectSame(
      `${what} dimension breakdowns`,
      await run(ExperimentStore.exportDimensions(source, experiment)),
      await run(ExperimentStore.exportDimensions(target, experiment))
    )
    const expected = copied.tallies.get(experiment.id) ?? { count: 0, digest: 0n }
    const found = await tallyAssignments(target, experiment.id)
    if (found.count !== expected.count) {
      throw new Error(`${what} has ${found.count} sticky assignments in the target, ${expected.count} copied`)
    }
    if (found.digest !== expected.digest) differs(`${what} sticky assignments`)
  }
}

/** The reserved windows holding a multivariate monitor's baseline rows (none without multivariate settings). */
const baselineRowWindows = (monitor: Monitor): ReadonlyArray<string> =>
  monitor.settings.multivariate === undefined
    ? []
    : multivariateFeatures(monitor.features).map((f) => baselineRowsWindow(f.name))

/** One monitor's baselines, windows, alert states and reports, as the detector reads them. */
const monitorState = async (store: DriftStore.DriftStoreShape, monitor: Monitor) => ({
  baselines: await Promise.all(monitor.features.map((f) => run(store.baselines(monitor.id, f.name)))),
  windows: await Promise.all(monitor.features.map((f) => run(store.window(monitor.id, f.name)))),
  baselineRows: await Promise.all(baselineRowWindows(monitor).map((name) => run(store.window(monitor.id, name)))),
  alertStates: await run(store.alertStates(monitor.id)),
  reports: await run(store.reports(monitor.id, undefined))
})

const webhooksById = async (store: DriftStore.DriftStoreShape) =>
  [...await run(store.listWebhooks())].sort((a, b) => a.id.localeCompare(b.id))

export const copyDrift = async (source: DriftStore.DriftStoreShape, target: DriftStore.DriftStoreShape) => {
  const monitors = await run(source.listMonitors())
  let reports = 0
  for (const monitor of monitors) {
    await run(target.insertMonitor(monitor))
    const state = await monitorState(source, monitor)
    for (const [i, feature] of monitor.features.entries()) {
      for (const baseline of state.baselines[i]!) await run(target.addBaseline(monitor.id, feature.name, baseline))
      const window = state.windows[i]!
      if (window.length > 0) {
        const keep = Math.max(window.length, monitor.settings.windowSize)
        await run(target.pushWindows(monitor.id, { [feature.name]: window }, keep))
      }
    }
    for (const [i, name] of baselineRowWindows(monitor).entries()) {
      const rows = state.baselineRows[i]!
      if (rows.length > 0) await run(target.pushWindows(monitor.id, { [name]: rows }, rows.length))
    }
    for (const [feature, alertState] of Object.entries(state.alertStates)) {
      await run(target.setAlertState(monitor.id, feature, alertState))
    }
    // Retained since the oldest: nothing copied is pruned again on the way.
    for (const report of state.reports) await run(target.appendReport(report, state.reports[0]!.at))
    reports += state.reports.length
  }
  const webhooks = await run(source.listWebhooks())
  for (const webhook of webhooks) await run(target.putWebhook(webhook))
  const deliveries = await run(source.deliveries(undefined))
  for (const delivery of deliveries) await run(target.appendDelivery(delivery))
  return { monitors: monitors.length, reports, webhooks: webhooks.length, deliveries: deliveries.length }
}

export const verifyDrift = async (source: DriftStore.DriftStoreShape, target: DriftStore.DriftStoreShape) => {
  for (const monitor of await sameCount("drift monitors", source.listMonitors(), target.listMonitors())) {
    const what = `drift monitor ${monitor.id}`
    expectSame(what, monitor, await run(target.getMonitor(monitor.id)))
    const [a, b] = [await monitorState(source, monitor), await monitorState(target, monitor)]
    expectSame(`${what} baselines`, a.baselines, b.baselines)
    expectSame(`${what} windows`, a.windows, b.windows)
    expectSame(`${what} baseline rows`, a.baselineRows, b.baselineRows)
    expectSame(`${what} alert states`, a.alertStates, b.alertStates)
    expectSame(`${what} reports`, a.reports, b.reports)
  }
  expectSame("drift webhooks", await webhooksById(source), await webhooksById(target))
  expectSame("webhook deliveries", await run(source.deliveries(undefined)), await run(target.deliveries(undefined)))
}

/** One pipeline's live learner state, sample side and update records. */
const pipelineState = async (store: PipelineStore.PipelineStoreShape, pipeline: Pipeline) => ({
  liveState: await run(store.liveState(pipeline.id)),
  samples: await run(store.exportSampleData(pipeline.id)),
  updates: await run(store.updates(pipeline.id))
})

export const copyPipelines = async (
  source: PipelineStore.PipelineStoreShape,
  target: PipelineStore.PipelineStoreShape
) => {
  const pipelines = await run(source.list())
  let samples = 0
  let updates = 0
  for (const pipeline of pipelines) {
    await run(target.insert(pipeline))
    const state = await pipelineState(source, pipeline)
    if (state.liveState !== undefined) await run(target.setLiveState(pipeline.id, state.liveState))
    await run(target.importSampleData(pipeline.id, state.samples))
    for (const record of state.updates) await run(target.appendUpdate(record))
    samples += state.samples.buffer.length
    updates += state.updates.length
  }
  return { pipelines: pipelines.length, samples, updates }
}

export const verifyPipelines = async (
  source: PipelineStore.PipelineStoreShape,
  target: PipelineStore.PipelineStoreShape
) => {
  for (const pipeline of await sameCount("pipelines", source.list(), target.list())) {
    const what = `pipeline ${pipeline.id}`
    expectSame(what, pipeline, await run(target.get(pipeline.id)))
    const [a, b] = [await pipelineState(source, pipeline), await pipelineState(target, pipeline)]
    expectSame(`${what} live learner state`, a.liveState, b.liveState)
    expectSame(`${what} sample buffer, ids seen, counters and windows`, a.samples, b.samples)
    expectSame(`${what} update records`, a.updates, b.updates)
  }
}

/** What a store holds of these kinds, named and counted (for the empty-target rule). */
export const recordsHeld = async (
  experiments: ExperimentStore.ExperimentStoreShape,
  drift: DriftStore.DriftStoreShape,
  pipelines: PipelineStore.PipelineStoreShape
): Promise<ReadonlyArray<string>> => {
  const counts: Array<[string, number]> = [
    ["experiments", (await run(experiments.list())).length],
    ["drift monitors", (await run(drift.listMonitors())).length],
    ["drift webhooks", (await run(drift.listWebhooks())).length],
    ["pipelines", (await run(pipelines.list())).length]
  ]
  return counts.filter(([, n]) => n > 0).map(([what, n]) => `${n} ${what}`)
}
