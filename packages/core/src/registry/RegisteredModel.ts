/**
 * Registered models: the named entity every version of a name belongs to (as in MLflow), with its
 * description, owner, key-value tags and creation time, and the aliases that point at its
 * versions. Alias pointers live in the registered model's record, so moving one is a
 * compare-and-set of that record committed with its audit event (ModelStore's `registered`).
 * `production` is the built-in alias: it is the lifecycle's production version and moves only with
 * promotions, so it is never stored here.
 */
import { Schema } from "effect"
import { SafeLabel, SafeText } from "../shared/SafeText.js"
import {
  identifier,
  InputKeyValueTags,
  Instant,
  KeyValueTags,
  MAX_DESCRIPTION_LENGTH,
  MAX_LABEL_LENGTH,
  Model,
  ModelId,
  ModelName,
  ModelVersion
} from "./Model.js"

/** Alias names follow the identifier rules of versions: letters, digits, '.', '_', '-', at most 64. */
export const AliasName = identifier(64)
export type AliasName = typeof AliasName.Type

/** The built-in alias: resolves to the production version, moved only by promotions. */
export const productionAlias = "production"

export const MAX_ALIASES = 64

const Text = (max: number) =>
  Schema.String.check(Schema.isMaxLength(max, { message: `must be at most ${max} characters` }))

const ProtectedAliases = Schema.Array(AliasName).check(
  Schema.isMaxLength(MAX_ALIASES, { message: `must have at most ${MAX_ALIASES} aliases` })
)

export const RegisteredModel = Schema.Struct({
  name: ModelName,
  description: Text(4096),
  /** Who answers for the model: the first registrant unless set. */
  owner: Schema.String,
  tags: KeyValueTags,
  /** Aliases only principals allowed to move protected aliases (admins) may set or delete. */
  protectedAliases: Schema.Array(AliasName),
  /** Alias -> id of the version of this name it points at (never `production`). */
  aliases: Schema.Record(Schema.String, ModelId),
  createdAt: Instant,
  updatedAt: Instant,
  /** Optimistic-concurrency counter: every stored change (an alias move too) increments it. */
  revision: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))
})
export type RegisteredModel = typeof RegisteredModel.Type

export const CreateRegisteredModelInput = Schema.Struct({
  name: ModelName,
  description: Schema.optionalKey(SafeText(MAX_DESCRIPTION_LENGTH)),
  owner: Schema.optionalKey(SafeLabel(MAX_LABEL_LENGTH, { minLength: 1 })),
  tags: Schema.optionalKey(InputKeyValueTags),
  protectedAliases: Schema.optionalKey(ProtectedAliases)
})
export type CreateRegisteredModelInput = typeof CreateRegisteredModelInput.Type

/** Tags replace the stored ones as a whole; the name never changes. */
export const UpdateRegisteredModelInput = Schema.Struct({
  description: Schema.optionalKey(SafeText(MAX_DESCRIPTION_LENGTH)),
  owner: Schema.optionalKey(SafeLabel(MAX_LABEL_LENGTH, { minLength: 1 })),
  tags: Schema.optionalKey(InputKeyValueTags),
  protectedAliases: Schema.optionalKey(ProtectedAliases)
})
export type UpdateRegisteredModelInput = typeof UpdateRegisteredModelInput.Type

/** What an alias is set to: a version of the registered model, by version or by model id (exactly one). */
export const SetAliasInput = Schema.Struct({
  version: Schema.optionalKey(ModelVersion),
  modelId: Schema.optionalKey(ModelId)
})
export type SetAliasInput = typeof SetAliasInput.Type

export const ListRegisteredModelsQuery = Schema.Struct({
  namePrefix: Schema.optionalKey(ModelName),
  /** The last name of the previous page. */
  cursor: Schema.optionalKey(ModelName),
  limit: Schema.optionalKey(
    Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 500 }, { message: "must be an integer from 1 to 500" }))
  )
})
export type ListRegisteredModelsQuery = typeof ListRegisteredModelsQuery.Type

export const RegisteredModelPage = Schema.Struct({
  items: Schema.Array(RegisteredModel),
  nextCursor: Schema.NullOr(ModelName)
})
export type RegisteredModelPage = typeof RegisteredModelPage.Type

/** One alias with the version it points at now. */
export const ResolvedAlias = Schema.Struct({ alias: AliasName, modelId: ModelId, version: ModelVersion })
export type ResolvedAlias = typeof ResolvedAlias.Type

/** A registered model with the newest version in each status and every alias resolved (production included). */
export const RegisteredModelDetail = Schema.Struct({
  ...RegisteredModel.fields,
  latestVersions: Schema.Array(Model),
  resolvedAliases: Schema.Array(ResolvedAlias)
})
export type RegisteredModelDetail = typeof RegisteredModelDetail.Type

/** True when a registered model's name is after `cursor` and starts with `namePrefix`; shared by the stores. */
export const matchesRegisteredQuery = (
  registered: RegisteredModel,
  query: { readonly cursor?: string | undefined; readonly namePrefix?: string | undefined }
): boolean =>
  (query.cursor === undefined || registered.name > query.cursor) &&
  (query.namePrefix === undefined || registered.name.startsWith(query.namePrefix))
