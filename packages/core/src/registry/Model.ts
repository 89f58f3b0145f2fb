/**
 * Domain schemas of the model registry. Every value that crosses a boundary (HTTP, storage,
 * SDK) is decoded with these schemas, and the OpenAPI document is generated from them, so the
 * rules for names, ids and metadata live here once.
 */
import { Schema } from "effect"
import { OnBehalfOf, SafeLabel, SafeText } from "../shared/SafeText.js"
import { ulidPattern } from "../shared/Ulid.js"
import { MAX_FILTER_LENGTH, MAX_ORDER_BY_LENGTH } from "./ModelSearch.js"
import { Signature } from "./Signature.js"

export const ModelStatus = Schema.Literals(["draft", "testing", "staging", "production", "archived"])
export type ModelStatus = typeof ModelStatus.Type
export const modelStatuses: ReadonlyArray<ModelStatus> = ModelStatus.literals

export const ModelId = Schema.String.check(
  Schema.isPattern(ulidPattern, { message: "must be a model id (26-character ULID)" })
)
export type ModelId = typeof ModelId.Type

// The u flag makes Effect export patterns to JSON Schema (OpenAPI), whose regexes are Unicode-mode.
const identifierPattern = /^[A-Za-z0-9][A-Za-z0-9._-]*$/u
export const identifier = (maxLength: number) =>
  Schema.String.check(
    Schema.isMinLength(1, { message: "must not be empty" }),
    Schema.isMaxLength(maxLength, { message: `must be at most ${maxLength} characters` }),
    Schema.isPattern(identifierPattern, {
      message: "must start with a letter or digit and contain only letters, digits, '.', '_' or '-'"
    })
  )

/** Model names and versions become storage keys and paths, so they admit no separators. */
export const ModelName = identifier(128)
export const ModelVersion = identifier(64)

const Label = Schema.String.check(
  Schema.isMinLength(1, { message: "must not be empty" }),
  Schema.isMaxLength(128, { message: "must be at most 128 characters" })
)
const Text = (max: number) =>
  Schema.String.check(Schema.isMaxLength(max, { message: `must be at most ${max} characters` }))

/**
 * What requests may send: the same limits, with control and bidi characters refused. Stored records
 * keep the lenient Label and Text above, so data written by older releases still decodes.
 */
export const MAX_LABEL_LENGTH = 128
export const MAX_TAGS = 64
export const MAX_DESCRIPTION_LENGTH = 4096
export const MAX_REASON_LENGTH = 1024
/** A string parameter value (a hyper-parameter such as an objective or a path). */
export const MAX_PARAMETER_VALUE_LENGTH = 1024
export const MAX_DATASET_LENGTH = 512
const InputLabel = SafeLabel(MAX_LABEL_LENGTH, { minLength: 1 })

export const Instant = Schema.String.check(
  Schema.makeFilter((s: string) => !Number.isNaN(Date.parse(s)) || "must be an ISO 8601 date-time")
)

export const Sha256Hex = Schema.String.check(
  Schema.isPattern(/^[0-9a-f]{64}$/u, { message: "must be a lowercase hex SHA-256 digest" })
)

export const Metrics = Schema.Record(Schema.String, Schema.Finite).check(Schema.isPropertyNames(Label))
export type Metrics = typeof Metrics.Type
export const Parameters = Schema.Record(Schema.String, Schema.Union([Schema.String, Schema.Finite, Schema.Boolean]))
  .check(
    Schema.isPropertyNames(Label)
  )
export const Tags = Schema.Array(Label).check(Schema.isMaxLength(64, { message: "must have at most 64 tags" }))
const InputMetrics = Schema.Record(Schema.String, Schema.Finite).check(Schema.isPropertyNames(InputLabel))
const InputParameters = Schema.Record(
  Schema.String,
  Schema.Union([SafeLabel(MAX_PARAMETER_VALUE_LENGTH), Schema.Finite, Schema.Boolean])
).check(Schema.isPropertyNames(InputLabel))
const InputTags = Schema.Array(InputLabel).check(
  Schema.isMaxLength(MAX_TAGS, { message: `must have at most ${MAX_TAGS} tags` })
)

/** Key-value tags (`team: risk`): keys follow the label rules, values are one line of text. */
export const MAX_KEY_VALUE_TAGS = 64
export const MAX_TAG_VALUE_LENGTH = 1024
export const KeyValueTags = Schema.Record(Schema.String, Text(MAX_TAG_VALUE_LENGTH)).check(
  Schema.isPropertyNames(Label)
)
export type KeyValueTags = typeof KeyValueTags.Type
export const TagKey = InputLabel
export const TagValue = SafeLabel(MAX_TAG_VALUE_LENGTH)
/** Key-value tags as requests may send them (versions and registered models alike). */
export const InputKeyValueTags = Schema.Record(Schema.String, TagValue).check(
  Schema.isPropertyNames(TagKey),
  Schema.isMaxProperties(MAX_KEY_VALUE_TAGS, { message: `must have at most ${MAX_KEY_VALUE_TAGS} keys` })
)

export const TrainingInfo = Schema.Struct({
  dataset: Schema.optionalKey(Text(512)),
  sampleCount: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))),
  startedAt: Schema.optionalKey(Instant),
  finishedAt: Schema.optionalKey(Instant),
  durationSeconds: Schema.optionalKey(Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0)))
})
export type TrainingInfo = typeof TrainingInfo.Type
const InputTrainingInfo = Schema.Struct({
  ...TrainingInfo.fields,
  dataset: Schema.optionalKey(SafeLabel(MAX_DATASET_LENGTH))
})

export const ArtifactInfo = Schema.Struct({
  sizeBytes: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
  sha256: Sha256Hex,
  uploadedAt: Instant,
  /** Set on an empty (0-byte) artifact whose upload asked for `allowEmpty`; see Lifecycle.usableArtifact. */
  allowEmpty: Schema.optionalKey(Schema.Literal(true))
})
export type ArtifactInfo = typeof ArtifactInfo.Type

export const Model = Schema.Struct({
  id: ModelId,
  name: ModelName,
  version: ModelVersion,
  algorithm: Label,
  framework: Label,
  description: Text(4096),
  status: ModelStatus,
  metrics: Metrics,
  parameters: Parameters,
  training: TrainingInfo,
  tags: Tags,
  /** Absent on versions that never had one (and on records written before key-value tags existed). */
  keyValueTags: Schema.optionalKey(KeyValueTags),
  artifact: Schema.NullOr(ArtifactInfo),
  createdAt: Instant,
  updatedAt: Instant,
  /** The authenticated principal that registered it. */
  createdBy: Label,
  /** Who the registering caller said it acted for; an annotation beside createdBy, never instead of it. */
  onBehalfOf: Schema.optionalKey(Schema.String),
  parentModelId: Schema.NullOr(ModelId),
  /** Optimistic-concurrency counter: every stored change increments it. */
  revision: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
  /** The inputs the version expects and the outputs it produces (Signature.ts); absent: undeclared. */
  signature: Schema.optionalKey(Signature)
})
export type Model = typeof Model.Type

export const RegisterModelInput = Schema.Struct({
  name: ModelName,
  version: ModelVersion,
  algorithm: InputLabel,
  framework: InputLabel,
  description: Schema.optionalKey(SafeText(MAX_DESCRIPTION_LENGTH)),
  metrics: Schema.optionalKey(InputMetrics),
  parameters: Schema.optionalKey(InputParameters),
  training: Schema.optionalKey(InputTrainingInfo),
  tags: Schema.optionalKey(InputTags),
  keyValueTags: Schema.optionalKey(InputKeyValueTags),
  /** Deprecated alias of onBehalfOf: the server records the authenticated principal as createdBy. */
  createdBy: Schema.optionalKey(OnBehalfOf),
  onBehalfOf: Schema.optionalKey(OnBehalfOf),
  parentModelId: Schema.optionalKey(Schema.NullOr(ModelId)),
  signature: Schema.optionalKey(Signature)
})
export type RegisterModelInput = typeof RegisterModelInput.Type

/** Only descriptive fields change after registration; identity (name, version, artifact) never does. */
export const UpdateModelInput = Schema.Struct({
  description: Schema.optionalKey(SafeText(MAX_DESCRIPTION_LENGTH)),
  tags: Schema.optionalKey(InputTags),
  /** Merged into the existing key-value tags (like metrics); a key is removed with DELETE .../tags/{key}. */
  keyValueTags: Schema.optionalKey(InputKeyValueTags),
  metrics: Schema.optionalKey(InputMetrics),
  /** Deprecated alias of onBehalfOf: the actor is the authenticated principal. */
  actor: Schema.optionalKey(OnBehalfOf),
  onBehalfOf: Schema.optionalKey(OnBehalfOf),
  /** Replaces the signature; only while the version is a draft (monitors and pipelines rely on it after). */
  signature: Schema.optionalKey(Signature)
})
export type UpdateModelInput = typeof UpdateModelInput.Type
export const immutableModelFields = [
  "id",
  "name",
  "version",
  "artifact",
  "status",
  "createdAt",
  "createdBy",
  "parentModelId",
  "algorithm",
  "framework",
  "parameters",
  "training",
  "revision",
  "updatedAt"
] as const

export const PromoteModelInput = Schema.Struct({
  status: ModelStatus,
  reason: Schema.optionalKey(SafeText(MAX_REASON_LENGTH)),
  /** Deprecated alias of onBehalfOf: the actor is the authenticated principal. */
  actor: Schema.optionalKey(OnBehalfOf),
  onBehalfOf: Schema.optionalKey(OnBehalfOf)
})
export type PromoteModelInput = typeof PromoteModelInput.Type

export const ListModelsQuery = Schema.Struct({
  name: Schema.optionalKey(ModelName),
  /** Names starting with this (search as you type); the same characters as a name. */
  namePrefix: Schema.optionalKey(ModelName),
  /** Direct children of this version (lineage: online-learning updates, retrains). */
  parentModelId: Schema.optionalKey(ModelId),
  status: Schema.optionalKey(ModelStatus),
  framework: Schema.optionalKey(InputLabel),
  tag: Schema.optionalKey(InputLabel),
  cursor: Schema.optionalKey(ModelId),
  limit: Schema.optionalKey(
    Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 500 }, { message: "must be an integer from 1 to 500" }))
  )
})
export type ListModelsQuery = typeof ListModelsQuery.Type

/** A search (see ModelSearch.ts for the language); the bounds are the language's. */
export const SearchModelsQuery = Schema.Struct({
  /** e.g. `name = 'churn' AND tags.team = 'risk' AND metrics.auc > 0.9`; empty: every model. */
  filter: Schema.optionalKey(SafeText(MAX_FILTER_LENGTH)),
  /** e.g. `metrics.auc DESC`; empty: ascending by id (creation). */
  orderBy: Schema.optionalKey(SafeLabel(MAX_ORDER_BY_LENGTH)),
  /** `nextCursor` of the previous page of the same filter and order. */
  cursor: Schema.optionalKey(SafeLabel(1024, { minLength: 1 })),
  limit: Schema.optionalKey(
    Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 500 }, { message: "must be an integer from 1 to 500" }))
  )
})
export type SearchModelsQuery = typeof SearchModelsQuery.Type

/** A page of search results; `nextCursor` is opaque and belongs to the search's order. */
export const SearchPage = Schema.Struct({
  items: Schema.Array(Model),
  nextCursor: Schema.NullOr(Schema.String)
})
export type SearchPage = typeof SearchPage.Type

export const ModelPage = Schema.Struct({
  items: Schema.Array(Model),
  nextCursor: Schema.NullOr(ModelId)
})
export type ModelPage = typeof ModelPage.Type

/** True when a stored model matches every filter given; the stores share this one definition. */
export const matchesQuery = (model: Model, query: ListModelsQuery): boolean =>
  (query.name === undefined || model.name === query.name) &&
  (query.namePrefix === undefined || model.name.startsWith(query.namePrefix)) &&
  (query.parentModelId === undefined || model.parentModelId === query.parentModelId) &&
  (query.status === undefined || model.status === query.status) &&
  (query.framework === undefined || model.framework === query.framework) &&
  (query.tag === undefined || model.tags.includes(query.tag))
