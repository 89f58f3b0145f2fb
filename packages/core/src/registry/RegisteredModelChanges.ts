/**
 * What registered-model operations write, as plain functions over plain data (like ModelChanges):
 * the record a new name gets, a metadata patch, an alias move or removal with its audit event,
 * and archiving every version of a name in one commit. ModelRegistry reads current state, calls
 * one of these and commits the result with compare-and-set.
 */
import { type Attribution, auditEvent, type FieldChanges } from "./AuditEvent.js"
import { type Model, type ModelStatus, modelStatuses } from "./Model.js"
import type { ModelCommit } from "./ModelStore.js"
import type {
  CreateRegisteredModelInput,
  RegisteredModel,
  ResolvedAlias,
  UpdateRegisteredModelInput
} from "./RegisteredModel.js"
import { productionAlias } from "./RegisteredModel.js"

/**
 * A registered model as the registry sees it: the stored record, or the one a name whose versions
 * were registered before registered models existed implicitly has (`stored` false: its first
 * change creates it, expecting none).
 */
export interface CurrentRegistered {
  readonly record: RegisteredModel
  readonly stored: boolean
}

/** The record a new name gets: the input's fields, or the first registrant as owner. */
export const newRegisteredModel = (
  input: CreateRegisteredModelInput,
  at: string,
  owner: string
): RegisteredModel => ({
  name: input.name,
  description: input.description ?? "",
  owner: input.owner ?? owner,
  tags: { ...input.tags },
  protectedAliases: [...new Set(input.protectedAliases ?? [])],
  aliases: {},
  createdAt: at,
  updatedAt: at,
  revision: 1
})

/** The registered model of versions registered before registered models existed: its oldest version's. */
export const implicitRegisteredModel = (oldest: Model): RegisteredModel =>
  newRegisteredModel({ name: oldest.name }, oldest.createdAt, oldest.createdBy)

/** The registered-model part of a commit that writes `next` over `current`. */
export const registeredWrite = (current: CurrentRegistered, next: RegisteredModel) => ({
  expectedRevision: current.stored ? current.record.revision : null,
  put: { ...next, revision: current.stored ? current.record.revision + 1 : 1 }
})

/** The record after a metadata patch, and the fields that really changed (undefined: nothing does). */
export const registeredPatch = (
  record: RegisteredModel,
  patch: UpdateRegisteredModelInput,
  at: string
): { readonly next: RegisteredModel; readonly changes: FieldChanges } | undefined => {
  const changes: Record<string, { from: unknown; to: unknown }> = {}
  const next: { -readonly [K in keyof RegisteredModel]: RegisteredModel[K] } = { ...record, updatedAt: at }
  if (patch.description !== undefined && patch.description !== record.description) {
    changes.description = { from: record.description, to: patch.description }
    next.description = patch.description
  }
  if (patch.owner !== undefined && patch.owner !== record.owner) {
    changes.owner = { from: record.owner, to: patch.owner }
    next.owner = patch.owner
  }
  if (patch.tags !== undefined && JSON.stringify(patch.tags) !== JSON.stringify(record.tags)) {
    changes.tags = { from: record.tags, to: patch.tags }
    next.tags = { ...patch.tags }
  }
  if (patch.protectedAliases !== undefined) {
    const protectedAliases = [...new Set(patch.protectedAliases)]
    if (protectedAliases.join("\u0000") !== record.protectedAliases.join("\u0000")) {
      changes.protectedAliases = { from: record.protectedAliases, to: protectedAliases }
      next.protectedAliases = protectedAliases
    }
  }
  return Object.keys(changes).length === 0 ? undefined : { next, changes }
}

/** The two sides of an alias move, as an audit event's `changes` (null: the alias was not set / is removed). */
const aliasChanges = (from: Model | undefined, to: Model | undefined): FieldChanges => ({
  modelId: { from: from?.id ?? null, to: to?.id ?? null },
  version: { from: from?.version ?? null, to: to?.version ?? null }
})

/** Pointing `alias` at `target` (a version of the name): the registered model and its alias_set event. */
export const aliasSetCommit = (
  current: CurrentRegistered,
  alias: string,
  target: Model,
  previous: Model | undefined,
  at: string,
  by: Attribution
): ModelCommit => ({
  expected: [],
  put: [],
  registered: registeredWrite(current, {
    ...current.record,
    aliases: { ...current.record.aliases, [alias]: target.id },
    updatedAt: at
  }),
  events: [auditEvent(target, at, "alias_set", { ...by, alias, changes: aliasChanges(previous, target) })]
})

/** Removing `alias`, which points at `previous`: the registered model and its alias_deleted event. */
export const aliasDeleteCommit = (
  current: CurrentRegistered,
  alias: string,
  previous: Model,
  at: string,
  by: Attribution
): ModelCommit => {
  const aliases = { ...current.record.aliases }
  delete aliases[alias]
  return {
    expected: [],
    put: [],
    registered: registeredWrite(current, { ...current.record, aliases, updatedAt: at }),
    events: [auditEvent(previous, at, "alias_deleted", { ...by, alias, changes: aliasChanges(previous, undefined) })]
  }
}

/**
 * Archiving every live version of a name in one commit: each is expected at the revision read, and
 * the production pointer is guarded when one of them is in production, so a promotion or a new
 * version's promotion racing it makes the commit stale rather than half-applied.
 */
export const archiveAllCommit = (
  versions: ReadonlyArray<Model>,
  at: string,
  by: Attribution & { readonly reason?: string | undefined }
): { readonly commit: ModelCommit; readonly moves: ReadonlyArray<readonly [ModelStatus, ModelStatus]> } => {
  const live = versions.filter((m) => m.status !== "archived")
  const inProduction = live.find((m) => m.status === "production")
  const put = live.map((m): Model => ({ ...m, status: "archived", updatedAt: at, revision: m.revision + 1 }))
  return {
    commit: {
      expected: live.map(({ id, revision }) => ({ id, revision })),
      put,
      events: put.map((m, i) =>
        auditEvent(m, at, "archived", {
          actor: by.actor,
          onBehalfOf: by.onBehalfOf,
          from: live[i]!.status,
          to: "archived",
          reason: by.reason ?? "archived with every version of its registered model"
        })
      ),
      ...(inProduction ? { production: { name: inProduction.name, expectedId: inProduction.id } } : {})
    },
    moves: live.map((m) => [m.status, "archived"] as const)
  }
}

/** The newest version (highest id: latest registered) in each status, in lifecycle order. */
export const latestPerStatus = (versions: ReadonlyArray<Model>): ReadonlyArray<Model> => {
  const newest = new Map<ModelStatus, Model>()
  for (const m of versions) {
    const seen = newest.get(m.status)
    if (seen === undefined || m.id > seen.id) newest.set(m.status, m)
  }
  return modelStatuses.flatMap((status) => newest.get(status) ?? [])
}

/** Every alias with its version, `production` (the built-in one) first when there is one. */
export const resolvedAliases = (
  record: RegisteredModel,
  versions: ReadonlyArray<Model>,
  production: Model | undefined
): ReadonlyArray<ResolvedAlias> => {
  const byId = new Map(versions.map((m) => [m.id, m]))
  const stored = Object.entries(record.aliases)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .flatMap(([alias, id]) => {
      const model = byId.get(id)
      return model ? [{ alias, modelId: id, version: model.version }] : []
    })
  return production
    ? [{ alias: productionAlias, modelId: production.id, version: production.version }, ...stored]
    : stored
}
