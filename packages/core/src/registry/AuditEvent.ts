/**
 * The audit trail: one event per registration, upload, promotion, demotion, archive and
 * metadata change. Events are written in the same atomic step as the change they describe, so
 * history and state never disagree; "what was in production at T" is answered from them.
 */
import { Schema } from "effect"
import { ModelId, ModelName, ModelStatus, ModelVersion } from "./Model.js"

export const AuditAction = Schema.Literals([
  "registered",
  "artifact_uploaded",
  "promoted",
  "demoted",
  "archived",
  "updated"
])
export type AuditAction = typeof AuditAction.Type

export const AuditEvent = Schema.Struct({
  at: Schema.String,
  modelId: ModelId,
  name: ModelName,
  version: ModelVersion,
  action: AuditAction,
  actor: Schema.String,
  from: Schema.NullOr(ModelStatus),
  to: Schema.NullOr(ModelStatus),
  reason: Schema.NullOr(Schema.String),
  changes: Schema.optionalKey(Schema.Record(Schema.String, Schema.Struct({ from: Schema.Unknown, to: Schema.Unknown })))
})
export type AuditEvent = typeof AuditEvent.Type

/**
 * The id of the version that was in production at `at` (ISO time), or null. Events must be
 * those of one name in the order they were appended.
 */
export const productionAt = (events: ReadonlyArray<AuditEvent>, at: string): string | null => {
  const limit = Date.parse(at)
  let current: string | null = null
  for (const event of events) {
    if (Date.parse(event.at) > limit) break
    if (event.to === "production") current = event.modelId
    else if (event.from === "production" && current === event.modelId) current = null
  }
  return current
}
