/**
 * Drift alerts inside the process: the detector publishes every alert of a check, and any part
 * of the application subscribes (the server lets alerts mark the pipelines watching a monitor).
 * An Effect PubSub, so publishers and subscribers do not know each other and a subscriber's
 * failure cannot fail a check. Publishing never waits: past 4,096 alerts a slow subscriber has
 * not taken, the oldest are dropped for it (each alert is in its report either way).
 */
import { Context, Effect, Layer, PubSub, type Scope } from "effect"
import type { DriftAlert } from "./Alert.js"

const capacity = 4096

export interface DriftAlertsShape {
  readonly publish: (alerts: ReadonlyArray<DriftAlert>) => Effect.Effect<void>
  /** Receives every alert published after it returns, until its scope closes. */
  readonly subscribe: Effect.Effect<PubSub.Subscription<DriftAlert>, never, Scope.Scope>
}

export class DriftAlerts extends Context.Service<DriftAlerts, DriftAlertsShape>()("@org/ml-core/DriftAlerts") {}

export const make = Effect.gen(function*() {
  const pubsub = yield* PubSub.sliding<DriftAlert>(capacity)
  yield* Effect.addFinalizer(() => PubSub.shutdown(pubsub))
  return DriftAlerts.of({
    publish: (alerts) => alerts.length === 0 ? Effect.void : PubSub.publishAll(pubsub, alerts).pipe(Effect.asVoid),
    subscribe: PubSub.subscribe(pubsub)
  })
})

export const layer: Layer.Layer<DriftAlerts> = Layer.effect(DriftAlerts, make)
