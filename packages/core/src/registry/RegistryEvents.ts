/**
 * Registry events: what webhooks subscribed to the registry receive. Each is one audit event of the
 * store's outbox (ModelStore `eventsAfter`) under a public type name, with an id that is the same
 * every time that audit event is sent (`evt_<sequence>_<model id>`: the model id keeps a fresh
 * store's sequences from reusing an earlier store's ids), so receivers deduplicate the repeats of
 * at-least-once delivery by it. Plain data and functions: the delivery is RegistryEventDelivery.ts.
 */
import { Schema } from "effect"
import type { RecordedEvent } from "./ModelStore.js"

/** The event types a webhook can subscribe to, in the order the docs list them. */
export const registryEventTypes = [
  "model_version.created",
  "artifact_uploaded",
  "promoted",
  "archived",
  "alias.set",
  "alias.deleted",
  "tag.set"
] as const
export const RegistryEventType = Schema.Literals(registryEventTypes)
export type RegistryEventType = typeof RegistryEventType.Type

/**
 * The event type of each audit action that is published. Keyed by the action's name (not the
 * AuditAction literal), so actions other modules add later are published once named here. A
 * demotion is a status move like a promotion ("promoted" with from/to), or "archived" when the
 * replaced version goes to the archive; a metadata update ("updated") is not published.
 */
const typeOfAction: Readonly<Record<string, RegistryEventType>> = {
  registered: "model_version.created",
  artifact_uploaded: "artifact_uploaded",
  promoted: "promoted",
  demoted: "promoted",
  archived: "archived",
  alias_set: "alias.set",
  alias_deleted: "alias.deleted",
  tag_set: "tag.set"
}

/** The published type of an audit event, or undefined when that action is not published. */
export const registryEventType = (recorded: RecordedEvent): RegistryEventType | undefined => {
  const { action, to } = recorded.event
  return action === "demoted" && to === "archived" ? "archived" : typeOfAction[action]
}

/** The stable id of a recorded event: its idempotency key, sent in the body and as x-ml-event-id. */
export const registryEventId = (recorded: RecordedEvent): string => `evt_${recorded.sequence}_${recorded.event.modelId}`

/** What a webhook receives as `{ event }`: the audit event (actor, from/to, reason, changes) under its type and id. */
export const RegistryEvent = Schema.Struct({
  id: Schema.String,
  type: RegistryEventType,
  /** The event's place in the store's order: receivers may use it to order events. */
  sequence: Schema.Int,
  at: Schema.String,
  /** The audit action it comes from (e.g. "demoted" for a version replaced in production). */
  action: Schema.String,
  model: Schema.Struct({ id: Schema.String, name: Schema.String, version: Schema.String }),
  actor: Schema.String,
  onBehalfOf: Schema.optionalKey(Schema.String),
  from: Schema.NullOr(Schema.String),
  to: Schema.NullOr(Schema.String),
  reason: Schema.NullOr(Schema.String),
  changes: Schema.optionalKey(Schema.Record(Schema.String, Schema.Struct({ from: Schema.Unknown, to: Schema.Unknown })))
})
export type RegistryEvent = typeof RegistryEvent.Type

/** The published form of a recorded event, or undefined when its action is not published. */
export const registryEvent = (recorded: RecordedEvent): RegistryEvent | undefined => {
  const type = registryEventType(recorded)
  if (type === undefined) return undefined
  const { event } = recorded
  return {
    id: registryEventId(recorded),
    type,
    sequence: recorded.sequence,
    at: event.at,
    action: event.action,
    model: { id: event.modelId, name: event.name, version: event.version },
    actor: event.actor,
    ...(event.onBehalfOf !== undefined ? { onBehalfOf: event.onBehalfOf } : {}),
    from: event.from,
    to: event.to,
    reason: event.reason,
    ...(event.changes !== undefined ? { changes: event.changes } : {})
  }
}
