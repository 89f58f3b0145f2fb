/**
 * The audit trail: one event per registration, upload, promotion, demotion, archive and
 * metadata change. Events are written in the same atomic step as the change they describe, so
 * history and state never disagree; "what was in production at T" is answered from them.
 */
import { Schema } from "effect"
import { Instant, type Model, ModelId, ModelName, ModelStatus, ModelVersion } from "./Model.js"

export const AuditAction = Schema.Literals([
  "registered",
  "artifact_uploaded",
  "promoted",
  "demoted",
  "archived",
  "updated",
  /** One key-value tag set (PUT /v1/models/{id}/tags/{key}); `changes` names the key. */
  "tag_set",
  "tag_deleted",
  /** An alias of the name now points at this event's version (`changes` holds the version it left). */
  "alias_set",
  /** An alias of the name was removed; the event's version is the one it pointed at. */
  "alias_deleted"
])
export type AuditAction = typeof AuditAction.Type

/** What a metadata change did to each field it touched. */
export const FieldChanges = Schema.Record(Schema.String, Schema.Struct({ from: Schema.Unknown, to: Schema.Unknown }))
export type FieldChanges = typeof FieldChanges.Type

export const AuditEvent = Schema.Struct({
  at: Instant,
  modelId: ModelId,
  name: ModelName,
  version: ModelVersion,
  action: AuditAction,
  /** The authenticated principal that made the change (stored events of older releases keep theirs). */
  actor: Schema.String,
  /** Who the caller said it acted for (a body `actor`, the x-actor header): an annotation, not the actor. */
  onBehalfOf: Schema.optionalKey(Schema.String),
  from: Schema.NullOr(ModelStatus),
  to: Schema.NullOr(ModelStatus),
  reason: Schema.NullOr(Schema.String),
  changes: Schema.optionalKey(FieldChanges),
  /** The alias an alias_set or alias_deleted event moved. */
  alias: Schema.optionalKey(Schema.String)
})
export type AuditEvent = typeof AuditEvent.Type

/** Who made a change: the authenticated actor, and who it said it acted for. */
export interface Attribution {
  readonly actor?: string | undefined
  readonly onBehalfOf?: string | undefined
}

/** Only the attribution of options that carry more (an upload's checksum, a patch's fields). */
export const attribution = (by: Attribution): Attribution => ({ actor: by.actor, onBehalfOf: by.onBehalfOf })

/** Who did it when no actor is given (the registry itself, e.g. a demotion's bookkeeping). */
export const systemActor = "system"

/** The audit event describing `action` on `model` at `at`; absent fields are null, the actor "system". */
export const auditEvent = (
  model: Model,
  at: string,
  action: AuditAction,
  fields: {
    readonly actor?: string | undefined
    readonly onBehalfOf?: string | undefined
    readonly from?: ModelStatus | null
    readonly to?: ModelStatus | null
    readonly reason?: string | undefined
    readonly changes?: FieldChanges | undefined
    readonly alias?: string | undefined
  } = {}
): AuditEvent => ({
  at,
  modelId: model.id,
  name: model.name,
  version: model.version,
  action,
  actor: fields.actor ?? systemActor,
  ...(fields.onBehalfOf !== undefined ? { onBehalfOf: fields.onBehalfOf } : {}),
  from: fields.from ?? null,
  to: fields.to ?? null,
  reason: fields.reason ?? null,
  ...(fields.changes ? { changes: fields.changes } : {}),
  ...(fields.alias !== undefined ? { alias: fields.alias } : {})
})

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

/**
 * The id of the version `alias` pointed at at `at` (ISO time), or null; like `productionAt`, from
 * the events of one name in append order.
 */
export const aliasAt = (events: ReadonlyArray<AuditEvent>, alias: string, at: string): string | null => {
  const limit = Date.parse(at)
  let current: string | null = null
  for (const event of events) {
    if (Date.parse(event.at) > limit) break
    if (event.alias !== alias) continue
    if (event.action === "alias_set") current = event.modelId
    else if (event.action === "alias_deleted") current = null
  }
  return current
}
