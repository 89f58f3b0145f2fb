/**
 * Port: telling people that a guardrail paused an experiment. AbTests uses it when provided (a
 * server provides `layerWebhooks`: the drift webhooks, with their signing, target checks and
 * delivery log); the memory layer keeps what it was told, for tests. Delivery never fails the
 * pause: the pause is committed first and the alert goes out in the background.
 */
import { Context, Effect, Layer } from "effect"
import type { DriftAlert } from "../drift/Alert.js"
import { DriftDetector } from "../drift/DriftDetector.js"
import type { Experiment } from "./Experiment.js"
import type { GuardrailPause } from "./SafeRollout.js"

export interface GuardrailAlertsShape {
  readonly paused: (experiment: Experiment, pause: GuardrailPause) => Effect.Effect<void>
}

export class GuardrailAlerts extends Context.Service<GuardrailAlerts, GuardrailAlertsShape>()(
  "@org/ml-core/GuardrailAlerts"
) {}

/** The feature name guardrail alerts go by in webhook payloads (no feature can have it). */
export const GUARDRAIL_ALERT = "~guardrail"

/**
 * A guardrail pause as a webhook alert: monitor id `experiment:<id>` (a webhook filtered on it
 * gets only that experiment's pauses; one without a filter gets all), severity critical, and the
 * evidence under `guardrail`. The id is fixed per pause, so a receiver can drop duplicates.
 */
export const guardrailAlert = (experiment: Pick<Experiment, "id">, pause: GuardrailPause): DriftAlert => ({
  id: `guardrail-${experiment.id}-${Date.parse(pause.at).toString(36)}`,
  monitorId: `experiment:${experiment.id}`,
  feature: GUARDRAIL_ALERT,
  at: pause.at,
  kind: "alert",
  severity: "critical",
  previousSeverity: "none",
  recommendation: `Experiment ${experiment.id} was paused and serves its control: ${pause.reason}. ` +
    "Investigate the treatment; start the experiment again to resume.",
  guardrail: {
    experimentId: experiment.id,
    metric: pause.metric,
    modelId: pause.modelId,
    difference: pause.difference,
    pValue: pause.pValue,
    level: pause.level
  }
})

/** Guardrail pauses to the drift webhooks, through the detector (DriftDetector.notifyWebhooks). */
export const layerWebhooks: Layer.Layer<GuardrailAlerts, never, DriftDetector> = Layer.effect(
  GuardrailAlerts,
  Effect.gen(function*() {
    const drift = yield* DriftDetector
    return GuardrailAlerts.of({
      paused: (experiment, pause) => drift.notifyWebhooks([guardrailAlert(experiment, pause)])
    })
  })
)

export interface MemoryGuardrailAlerts extends GuardrailAlertsShape {
  readonly sent: () => ReadonlyArray<{ readonly experimentId: string; readonly pause: GuardrailPause }>
}

export const makeMemory = Effect.sync((): MemoryGuardrailAlerts => {
  const sent: Array<{ readonly experimentId: string; readonly pause: GuardrailPause }> = []
  return {
    paused: (experiment, pause) => Effect.sync(() => void sent.push({ experimentId: experiment.id, pause })),
    sent: () => [...sent]
  }
})
