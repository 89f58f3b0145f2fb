/** A status as a labelled, coloured badge (colour is never the only signal: the text says it). */
const tones: Record<string, string> = {
  production: "good",
  running: "good",
  active: "good",
  accepted: "good",
  none: "good",
  ok: "good",
  staging: "info",
  draft: "muted",
  paused: "warn",
  warning: "warn",
  low: "warn",
  medium: "warn",
  archived: "muted",
  completed: "muted",
  rejected: "bad",
  critical: "bad",
  high: "bad",
  drifted: "bad",
  alerting: "bad",
  failed: "bad"
}

export const Badge = ({ value }: { readonly value: string }) => (
  <span class={`badge ${tones[value] ?? "muted"}`}>{value}</span>
)
