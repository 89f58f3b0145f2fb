/**
 * What each registry operation writes, as plain functions over plain data: the new model of a
 * registration, the model with its artifact, the audited diff of a metadata update, and the
 * commit of a promotion (with the demotion of the version it replaces). The ModelRegistry use
 * case reads current state, calls one of these, and commits the result with compare-and-set;
 * keeping the decisions here lets them be tested without services.
 */
import { ValidationError } from "../shared/Errors.js"
import type { StoredArtifact } from "./ArtifactStore.js"
import { type Attribution, auditEvent, type FieldChanges } from "./AuditEvent.js"
import type { DemotionTarget } from "./Lifecycle.js"
import {
  MAX_KEY_VALUE_TAGS,
  type Model,
  type ModelStatus,
  type RegisterModelInput,
  type TrainingInfo,
  type UpdateModelInput
} from "./Model.js"
import type { ModelCommit } from "./ModelStore.js"

/** Training metadata with the duration filled in from its start and end when it was not given. */
export const withTrainingDuration = (training: TrainingInfo | undefined): TrainingInfo => {
  const info = { ...training }
  if (info.durationSeconds === undefined && info.startedAt && info.finishedAt) {
    info.durationSeconds = Math.max(0, (Date.parse(info.finishedAt) - Date.parse(info.startedAt)) / 1000)
  }
  return info
}

/**
 * Who a registration records. With an authenticated actor (the server always has one), that is
 * createdBy and the input's own createdBy (deprecated) is only an onBehalfOf annotation; without
 * one (a pipeline inside the process) the input's createdBy stands.
 */
const registrant = (input: RegisterModelInput, { actor, onBehalfOf }: Attribution) => {
  const annotation = input.onBehalfOf ?? (actor !== undefined ? input.createdBy : undefined) ?? onBehalfOf
  return {
    createdBy: actor ?? input.createdBy ?? "anonymous",
    ...(annotation !== undefined ? { onBehalfOf: annotation } : {})
  }
}

/** The draft a registration stores: defaults filled in, tags deduplicated, revision 1. */
export const newModel = (input: RegisterModelInput, id: string, at: string, by: Attribution = {}): Model => ({
  id,
  name: input.name,
  version: input.version,
  algorithm: input.algorithm,
  framework: input.framework,
  description: input.description ?? "",
  status: "draft",
  metrics: input.metrics ?? {},
  parameters: input.parameters ?? {},
  training: withTrainingDuration(input.training),
  tags: [...new Set(input.tags ?? [])],
  ...(input.keyValueTags !== undefined ? { keyValueTags: { ...input.keyValueTags } } : {}),
  artifact: null,
  createdAt: at,
  updatedAt: at,
  ...registrant(input, by),
  parentModelId: input.parentModelId ?? null,
  revision: 1,
  ...(input.signature !== undefined ? { signature: input.signature } : {})
})

/** The commit that attaches a stored artifact to `model` (which must accept one). */
export const artifactCommit = (
  model: Model,
  stored: StoredArtifact,
  at: string,
  by: Attribution,
  allowEmpty = false
): ModelCommit & { readonly put: readonly [Model] } => {
  const updated: Model = {
    ...model,
    artifact: { ...stored, uploadedAt: at, ...(allowEmpty && stored.sizeBytes === 0 ? { allowEmpty: true } : {}) },
    updatedAt: at,
    revision: model.revision + 1
  }
  return {
    expected: [{ id: model.id, revision: model.revision }],
    put: [updated],
    events: [auditEvent(updated, at, "artifact_uploaded", {
      ...by,
      // `from` is an empty artifact being replaced (see Lifecycle.usableArtifact), else null.
      changes: {
        sha256: { from: model.artifact?.sha256 ?? null, to: stored.sha256 },
        sizeBytes: { from: model.artifact?.sizeBytes ?? null, to: stored.sizeBytes }
      }
    })]
  }
}

/**
 * The audit diff of a metadata update: the fields that really change (tags deduplicated, metrics
 * merged into the existing ones) and the model after it, or undefined when nothing changes.
 */
export const metadataChanges = (
  model: Model,
  patch: UpdateModelInput
): { readonly next: Model; readonly changes: FieldChanges } | undefined => {
  const changes: Record<string, { from: unknown; to: unknown }> = {}
  const next: { -readonly [K in keyof Model]: Model[K] } = { ...model }
  if (patch.description !== undefined && patch.description !== model.description) {
    changes.description = { from: model.description, to: patch.description }
    next.description = patch.description
  }
  if (patch.tags !== undefined) {
    const tags = [...new Set(patch.tags)]
    if (tags.join("\u0000") !== model.tags.join("\u0000")) {
      changes.tags = { from: model.tags, to: tags }
      next.tags = tags
    }
  }
  if (patch.keyValueTags !== undefined) {
    const before = model.keyValueTags ?? {}
    const keyValueTags = { ...before, ...patch.keyValueTags }
    if (JSON.stringify(keyValueTags) !== JSON.stringify(before)) {
      changes.keyValueTags = { from: before, to: keyValueTags }
      next.keyValueTags = keyValueTags
    }
  }
  if (patch.metrics !== undefined) {
    const metrics = { ...model.metrics, ...patch.metrics }
    if (JSON.stringify(metrics) !== JSON.stringify(model.metrics)) {
      changes.metrics = { from: model.metrics, to: metrics }
      next.metrics = metrics
    }
  }
  if (patch.signature !== undefined && JSON.stringify(patch.signature) !== JSON.stringify(model.signature)) {
    changes.signature = { from: model.signature ?? null, to: patch.signature }
    next.signature = patch.signature
  }
  return Object.keys(changes).length === 0 ? undefined : { next, changes }
}

/** The 400 of a change that would leave more key-value tags than the bound, or undefined. */
export const keyValueTagsRefusal = (model: Model, field: string): ValidationError | undefined => {
  const count = Object.keys(model.keyValueTags ?? {}).length
  return count <= MAX_KEY_VALUE_TAGS ? undefined : new ValidationError({
    message: `A model version has at most ${MAX_KEY_VALUE_TAGS} key-value tags; this change would leave ${count}`,
    issues: [{ path: [field], message: `must leave at most ${MAX_KEY_VALUE_TAGS} key-value tags (would be ${count})` }]
  })
}

/**
 * Setting (value) or deleting (undefined) one key-value tag, audited as tag_set / tag_deleted with
 * the key's change; undefined when it changes nothing (same value, or deleting an absent key).
 */
export const tagCommit = (
  model: Model,
  key: string,
  value: string | undefined,
  at: string,
  by: Attribution
): (ModelCommit & { readonly put: readonly [Model] }) | undefined => {
  const before = model.keyValueTags ?? {}
  const previous = Object.hasOwn(before, key) ? before[key]! : null
  if ((value ?? null) === previous) return undefined
  // Built from entries, so a key such as "__proto__" stays an own property, never a prototype.
  const kept = Object.entries(before).filter(([k]) => k !== key || value !== undefined)
  const keyValueTags = Object.fromEntries(
    previous === null && value !== undefined
      ? [...kept, [key, value]]
      : kept.map(([k, v]) => [k, k === key ? value! : v])
  )
  const next: Model = { ...model, keyValueTags, updatedAt: at, revision: model.revision + 1 }
  return {
    expected: [{ id: model.id, revision: model.revision }],
    put: [next],
    events: [
      auditEvent(next, at, value === undefined ? "tag_deleted" : "tag_set", {
        ...by,
        changes: { [`keyValueTags.${key}`]: { from: previous, to: value ?? null } }
      })
    ]
  }
}

/** The commit of a metadata update computed by `metadataChanges`. */
export const updateCommit = (
  model: Model,
  update: { readonly next: Model; readonly changes: FieldChanges },
  at: string,
  by: Attribution
): ModelCommit & { readonly put: readonly [Model] } => {
  const next: Model = { ...update.next, updatedAt: at, revision: model.revision + 1 }
  return {
    expected: [{ id: model.id, revision: model.revision }],
    put: [next],
    events: [auditEvent(next, at, "updated", { ...by, changes: update.changes })]
  }
}

export interface PromotionOptions extends Attribution {
  readonly at: string
  readonly reason?: string | undefined
  /** Where the version now in production goes when `model` replaces it. */
  readonly demoteTo: DemotionTarget
}

/** A promotion as one commit, and the status moves it makes (for the promotion counter). */
export interface Promotion {
  readonly commit: ModelCommit
  readonly promoted: Model
  readonly moves: ReadonlyArray<readonly [from: ModelStatus, to: ModelStatus]>
}

/**
 * Moving `model` (already checked by `transitionRefusal`) to `to`. Entering production guards
 * the name's production pointer (`current`: the version there now) and demotes that version;
 * leaving production guards the pointer too, so the commit fails stale if either raced.
 */
export const promotion = (
  model: Model,
  to: ModelStatus,
  current: Model | undefined,
  options: PromotionOptions
): Promotion => {
  const { at, actor, onBehalfOf, reason } = options
  const from = model.status
  const promoted: Model = { ...model, status: to, updatedAt: at, revision: model.revision + 1 }
  const expected = [{ id: model.id, revision: model.revision }]
  const put = [promoted]
  const events = [
    auditEvent(promoted, at, to === "archived" ? "archived" : "promoted", { actor, onBehalfOf, from, to, reason })
  ]
  const moves: Array<readonly [ModelStatus, ModelStatus]> = [[from, to]]
  if (to !== "production") {
    const production = from === "production" ? { name: model.name, expectedId: model.id } : undefined
    return { commit: { expected, put, events, ...(production ? { production } : {}) }, promoted, moves }
  }
  if (current !== undefined && current.id !== model.id) {
    const target = options.demoteTo
    const demoted: Model = { ...current, status: target, updatedAt: at, revision: current.revision + 1 }
    expected.push({ id: current.id, revision: current.revision })
    put.push(demoted)
    events.push(auditEvent(demoted, at, "demoted", {
      actor,
      onBehalfOf,
      from: "production",
      to: target,
      reason: `replaced in production by ${model.name}@${model.version} (${model.id})`
    }))
    moves.push(["production", target])
  }
  const production = { name: model.name, expectedId: current?.id ?? null }
  return { commit: { expected, put, events, production }, promoted, moves }
}
