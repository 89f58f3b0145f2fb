/**
 * The background work as layers, shared by the server's runtime and the library entry's
 * `start()`: the drift scheduler, the learning scheduler, the reweighting of bandit experiments
 * and the safe-rollout checks each run as one fiber in the layer's scope. Building the layer starts them and
 * releasing it interrupts them, so there is one start and one shutdown path. Leases tell
 * instances apart by the instance name, drawn from Effect's Random.
 */
import { AbTests, DriftDetector, Leases, OnlineLearner, RegistryEventDelivery } from "@org/ml-core"
import { Cause, Context, Effect, Layer, Random, Schedule } from "effect"

/** This process (a server, or a service embedding the library) among the instances that share storage. */
export class ServerInstance extends Context.Service<ServerInstance, { readonly name: string }>()(
  "@org/ml-server/ServerInstance"
) {}

/** `instance-<pid>-<6 base-36 digits>`: unique enough among instances, readable in lease records. */
export const instanceName = (pid: number) =>
  Effect.map(
    Random.nextIntBetween(0, 36 ** 6, { halfOpen: true }),
    (n) => `instance-${pid}-${n.toString(36).padStart(6, "0")}`
  )

export const serverInstanceLayer: Layer.Layer<ServerInstance> = Layer.effect(
  ServerInstance,
  Effect.map(instanceName(process.pid), (name) => ({ name }))
)

/** Every monitor checked once per its interval; leases make each check happen on one instance. */
export const driftScheduler = (tickMillis: number) =>
  Layer.effectDiscard(Effect.gen(function*() {
    const { name } = yield* ServerInstance
    const drift = yield* DriftDetector.DriftDetector
    yield* Effect.forkScoped(drift.monitorAllFeatures(name, tickMillis))
  }))

/** Periodic and adaptive pipelines and retries; leases make each pipeline update on one instance. */
export const learningScheduler = Layer.effectDiscard(Effect.gen(function*() {
  const { name } = yield* ServerInstance
  const learner = yield* OnlineLearner.OnlineLearner
  yield* Effect.forkScoped(learner.runScheduler(name))
}))

/** One pass: every running bandit experiment gets new weights (one that fails is skipped). */
export const reweightRunningBandits = (ab: AbTests.AbTestsShape) =>
  ab.listExperiments().pipe(Effect.flatMap((all) =>
    Effect.forEach(
      all.filter((e) => e.mode === "bandit" && e.status === "running"),
      (e) => Effect.ignore(ab.reweight(e.id)),
      { discard: true }
    )
  ))

/**
 * Bandit experiments reweighted every `intervalSeconds` (also on demand through the API; 0: only
 * then). A failed pass is logged and the next one runs on time.
 */
export const banditReweighting = (intervalSeconds: number, log: (line: string) => void) =>
  intervalSeconds <= 0 ? Layer.empty : Layer.effectDiscard(Effect.gen(function*() {
    const ab = yield* AbTests.AbTests
    const pass = reweightRunningBandits(ab).pipe(
      Effect.catchCause((cause) => Effect.sync(() => log(`Bandit reweighting failed: ${String(Cause.squash(cause))}`)))
    )
    yield* Effect.forkScoped(Effect.schedule(pass, Schedule.fixed(`${intervalSeconds} seconds`)))
  }))

/** The lease of one safe-rollout pass: one instance per interval looks at every guarded experiment. */
export const SAFE_ROLLOUT_LEASE = "ab-safe-rollouts"

/**
 * Guardrails and ramps of running experiments checked every `intervalSeconds` (0: only at results
 * looks), under a lease of the interval, so one instance does each pass and another takes over
 * when it dies. A failed pass is logged and the next one runs on time.
 */
export const safeRolloutChecks = (intervalSeconds: number, log: (line: string) => void) =>
  intervalSeconds <= 0 ? Layer.empty : Layer.effectDiscard(Effect.gen(function*() {
    const { name } = yield* ServerInstance
    const ab = yield* AbTests.AbTests
    const leases = yield* Leases.Leases
    const pass = leases.acquire(SAFE_ROLLOUT_LEASE, name, intervalSeconds * 1000).pipe(
      Effect.flatMap((mine) => (mine ? Effect.asVoid(ab.checkSafeRollouts()) : Effect.void)),
      Effect.catchCause((cause) => Effect.sync(() => log(`Safe-rollout check failed: ${String(Cause.squash(cause))}`)))
    )
    yield* Effect.forkScoped(Effect.schedule(pass, Schedule.fixed(`${intervalSeconds} seconds`)))
  }))

/** The lease of one registry-event delivery pass: one instance at a time reads the outbox for every webhook. */
export const REGISTRY_EVENTS_LEASE = "registry-events"

/**
 * How long a delivery pass may hold the lease, and so how soon another instance takes over from
 * one that died mid-pass. A pass that outlives it (a receiver slow on every retry) may overlap
 * the next instance's, which then repeats events under the same ids (at-least-once).
 */
const registryEventsLeaseMillis = 15_000

/**
 * Registry events delivered from the outbox every `tickMillis` (0: not by this instance), under a
 * lease released after each pass, so one instance delivers at a time and another takes over when
 * it dies. A failed pass is logged (a repeat of the same failure is not) and the next one runs on time.
 */
export const registryEventDelivery = (tickMillis: number, log: (line: string) => void) =>
  tickMillis <= 0 ? Layer.empty : Layer.effectDiscard(Effect.gen(function*() {
    const { name } = yield* ServerInstance
    const delivery = yield* RegistryEventDelivery.RegistryEventDelivery
    const leases = yield* Leases.Leases
    // Passes run every tick: a failure that repeats (storage down) is logged once, not every tick.
    let lastFailure: string | undefined
    const pass = leases.acquire(REGISTRY_EVENTS_LEASE, name, registryEventsLeaseMillis).pipe(
      Effect.flatMap((mine) =>
        mine
          ? delivery.deliverPending().pipe(
            Effect.ensuring(Effect.ignore(leases.release(REGISTRY_EVENTS_LEASE, name)))
          )
          : Effect.void
      ),
      Effect.tap(() => Effect.sync(() => (lastFailure = undefined))),
      Effect.catchCause((cause) =>
        Effect.sync(() => {
          const failure = `Registry event delivery failed: ${String(Cause.squash(cause))}`
          if (failure !== lastFailure) log(failure)
          lastFailure = failure
        })
      )
    )
    yield* Effect.forkScoped(Effect.schedule(pass, Schedule.spaced(`${tickMillis} millis`)))
  }))

export interface BackgroundWorkSettings {
  readonly driftTickMillis: number
  readonly abReweightIntervalSeconds: number
  readonly abSafeRolloutIntervalSeconds: number
  /** Milliseconds between registry-event delivery passes (0: this instance does not deliver). */
  readonly registryEventsTickMillis: number
}

/** All of it, under one instance name. */
export const backgroundWork = (
  settings: BackgroundWorkSettings,
  log: (line: string) => void
): Layer.Layer<
  never,
  never,
  | DriftDetector.DriftDetector
  | OnlineLearner.OnlineLearner
  | AbTests.AbTests
  | RegistryEventDelivery.RegistryEventDelivery
  | Leases.Leases
> =>
  Layer.mergeAll(
    driftScheduler(settings.driftTickMillis),
    learningScheduler,
    banditReweighting(settings.abReweightIntervalSeconds, log),
    safeRolloutChecks(settings.abSafeRolloutIntervalSeconds, log),
    registryEventDelivery(settings.registryEventsTickMillis, log)
  ).pipe(Layer.provide(serverInstanceLayer))
