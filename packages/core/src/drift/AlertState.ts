/**
 * The alert state machine, pure: per monitored feature the last alerted severity and when. A
 * check's new severity becomes an alert when it rises (an "alert" from none, an "escalation"
 * otherwise: at once, whatever the cooldown), a repeat "alert" when it stays at the same level
 * for a whole cooldown, and a "recovery" when it falls back to none. A fall short of none
 * lowers the remembered level without alerting (and keeps the time of the last alert).
 */
import { Schema } from "effect"
import { Instant } from "../registry/Model.js"
import { Severity, severityRank } from "./Severity.js"

export const AlertState = Schema.Struct({ severity: Severity, at: Instant })
export type AlertState = typeof AlertState.Type

export const AlertKind = Schema.Literals(["alert", "escalation", "recovery"])
export type AlertKind = typeof AlertKind.Type

export interface AlertTransition {
  /** The alert to raise, if any. */
  readonly kind: AlertKind | undefined
  readonly previousSeverity: Severity
  /** The state to remember, when it changes. */
  readonly state: AlertState | undefined
}

/** What a feature's new severity at `at` means, given its state (undefined: never alerted). */
export const transition = (
  previous: AlertState | undefined,
  severity: Severity,
  at: string,
  cooldownSeconds: number
): AlertTransition => {
  const previousSeverity = previous?.severity ?? "none"
  let kind: AlertKind | undefined
  if (severity !== "none" && severityRank(severity) > severityRank(previousSeverity)) {
    kind = previousSeverity === "none" ? "alert" : "escalation"
  } else if (
    severity !== "none" && severity === previousSeverity && previous !== undefined &&
    Date.parse(at) - Date.parse(previous.at) >= cooldownSeconds * 1000
  ) {
    kind = "alert"
  } else if (severity === "none" && previousSeverity !== "none") {
    kind = "recovery"
  }
  if (kind !== undefined) return { kind, previousSeverity, state: { severity, at } }
  const lowered = previous !== undefined && severity !== previousSeverity
  return { kind, previousSeverity, state: lowered ? { severity, at: previous.at } : undefined }
}
