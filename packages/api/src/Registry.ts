/**
 * The model registry's endpoints: registration, listing, metadata updates, artifact upload and
 * download, lifecycle promotion, audit history and "what was in production at T". Bodies and
 * answers are the core's registry schemas; the path and query schemas here are the decoders the
 * routes used to write inline.
 */
import {
  AliasName,
  AuditEvent,
  CreateRegisteredModelInput,
  Instant,
  ListModelsQuery,
  ListRegisteredModelsQuery,
  Model,
  ModelId,
  ModelName,
  ModelPage,
  OnBehalfOf,
  PromoteModelInput,
  RegisteredModel,
  RegisteredModelDetail,
  RegisteredModelPage,
  RegisterModelInput,
  SafeText,
  SearchModelsQuery,
  SearchPage,
  SetAliasInput,
  Sha256Hex,
  TagKey,
  TagValue,
  UpdateModelInput,
  UpdateRegisteredModelInput
} from "@org/ml-core"
import { Schema, SchemaTransformation } from "effect"
import { endpoint } from "./Endpoint.js"

export const ModelIdParams = Schema.Struct({ id: ModelId })
export const ModelNameParams = Schema.Struct({ name: ModelName })
export const ModelTagParams = Schema.Struct({ id: ModelId, key: TagKey })
export const SetTagInput = Schema.Struct({ value: TagValue })
export const AliasParams = Schema.Struct({ name: ModelName, alias: AliasName })

/** The registry's instant rule, documented as an RFC 3339 date-time. */
const DateTime = Schema.String.annotate({ format: "date-time" }).check(...Instant.ast.checks!)
export const ProductionQuery = Schema.Struct({ at: Schema.optionalKey(DateTime) })

/** `?allowEmpty=true`: the upload may be empty (0 bytes), which is refused otherwise. */
export const UploadQuery = Schema.Struct({
  allowEmpty: Schema.optionalKey(
    Schema.Literals(["true", "false"]).pipe(
      Schema.decodeTo(
        Schema.Boolean,
        SchemaTransformation.transform({ decode: (raw) => raw === "true", encode: (flag) => String(flag) as "true" })
      )
    ).annotate({ description: "Accept an empty (0-byte) artifact; without it an empty upload answers 400" })
  )
})

const limitMessage = "must be an integer from 1 to 500"
/** Query values arrive as strings: `limit` must be digits, decoded to the core's bounded integer. */
const LimitFromDigits = Schema.String.check(Schema.isPattern(/^\d+$/u, { message: limitMessage })).pipe(
  Schema.decodeTo(
    ListModelsQuery.fields.limit.schema,
    SchemaTransformation.transform({ decode: Number, encode: String })
  )
)
/** The core's registered-model list query as it arrives in a URL. */
export const ListRegisteredModelsParams = Schema.Struct({
  ...ListRegisteredModelsQuery.fields,
  limit: Schema.optionalKey(LimitFromDigits)
})

/** Why every version of a registered model is archived; the actor is the authenticated principal. */
export const ArchiveRegisteredModelInput = Schema.Struct({
  reason: Schema.optionalKey(SafeText(1024)),
  onBehalfOf: Schema.optionalKey(OnBehalfOf)
})

/** The core's list query as it arrives in a URL. */
export const ListModelsParams = Schema.Struct({
  ...ListModelsQuery.fields,
  limit: Schema.optionalKey(LimitFromDigits)
})

/** The search as it arrives in a URL. */
export const SearchModelsParams = Schema.Struct({
  ...SearchModelsQuery.fields,
  limit: Schema.optionalKey(LimitFromDigits)
})

const exampleId = "01J9Z8K2W4X6Y8A0B2C4D6E8FG"
const exampleSha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

const exampleRegistration: typeof RegisterModelInput.Encoded = {
  name: "fraud-detector",
  version: "1.4.0",
  algorithm: "gradient_boosting",
  framework: "xgboost",
  description: "Card-not-present fraud scores",
  metrics: { auc: 0.93 },
  parameters: { max_depth: 6, eta: 0.1 },
  training: { dataset: "s3://data/fraud/2025-05", sampleCount: 1200000 },
  tags: ["payments"]
}

const exampleModel: Model = {
  id: exampleId,
  name: "fraud-detector",
  version: "1.4.0",
  algorithm: "gradient_boosting",
  framework: "xgboost",
  description: "Card-not-present fraud scores",
  status: "staging",
  metrics: { auc: 0.93 },
  parameters: { max_depth: 6, eta: 0.1 },
  training: { dataset: "s3://data/fraud/2025-05", sampleCount: 1200000 },
  tags: ["payments"],
  artifact: { sizeBytes: 48213, sha256: exampleSha256, uploadedAt: "2025-06-01T10:02:11.120Z" },
  createdAt: "2025-06-01T10:00:00.000Z",
  updatedAt: "2025-06-02T08:30:00.000Z",
  createdBy: "alice",
  parentModelId: null,
  revision: 4
}

const exampleEvent: AuditEvent = {
  at: "2025-06-02T08:30:00.000Z",
  modelId: exampleId,
  name: "fraud-detector",
  version: "1.4.0",
  action: "promoted",
  actor: "alice",
  from: "testing",
  to: "staging",
  reason: "offline evaluation passed"
}

const artifactDigestHeaders = [
  {
    name: "x-artifact-sha256",
    description: "Expected SHA-256 (hex); a mismatch stores nothing.",
    schema: Sha256Hex
  },
  {
    name: "content-digest",
    description: "RFC 9530 form of the expected digest: sha-256=:base64:",
    schema: Schema.String
  }
] as const

export const registerModel = endpoint({
  operationId: "registerModel",
  method: "POST",
  path: "/v1/models",
  resource: "Models",
  summary: "Register a model version (status draft)",
  permission: "models:write",
  body: { schema: RegisterModelInput, description: "model metadata", example: exampleRegistration },
  success: {
    status: 201,
    description: "Registered",
    schema: Model,
    example: { ...exampleModel, status: "draft", artifact: null, revision: 1 },
    headers: [{ name: "location", description: "Path of the new version: /v1/models/{id}", schema: Schema.String }]
  },
  errors: ["ModelConflictError", "ModelNotFoundError", "StorageError"]
})

export const listModels = endpoint({
  operationId: "listModels",
  method: "GET",
  path: "/v1/models",
  resource: "Models",
  summary: "List and search models (ascending by id, cursor pagination)",
  permission: "models:read",
  query: ListModelsParams,
  success: {
    status: 200,
    description: "A page of models",
    schema: ModelPage,
    example: { items: [exampleModel], nextCursor: exampleId }
  },
  errors: ["StorageError"]
})

export const searchModels = endpoint({
  operationId: "searchModels",
  method: "GET",
  path: "/v1/models/search",
  resource: "Models",
  summary: "Search model versions with a filter and an order (cursor pagination)",
  description: "`filter`: comparisons joined by AND, e.g. `name = 'churn' AND tags.team = 'risk' AND " +
    "metrics.auc > 0.9 AND status IN ('staging', 'production')`. Fields: name, version, status, algorithm, " +
    "framework, created_at, metrics.<key>, params.<key>, tags.<key> (key-value tags), labels (plain tags). " +
    "Operators: =, !=, <, <=, >, >=, LIKE, ILIKE, IN (...). Strings in single quotes ('' for a quote), odd keys in " +
    "backticks. `orderBy`: a field and ASC or DESC (missing values last). A syntax error answers 400 naming the " +
    "token and its position.",
  permission: "models:read",
  query: SearchModelsParams,
  success: {
    status: 200,
    description: "A page of matching models",
    schema: SearchPage,
    example: { items: [exampleModel], nextCursor: null }
  },
  errors: ["StorageError"]
})

export const setModelTag = endpoint({
  operationId: "setModelTag",
  method: "PUT",
  path: "/v1/models/{id}/tags/{key}",
  resource: "Models",
  summary: "Set one key-value tag of a version (audited as tag_set)",
  permission: "models:write",
  params: ModelTagParams,
  body: { schema: SetTagInput, description: "tag value", example: { value: "risk" } },
  success: {
    status: 200,
    description: "The model with the tag set",
    schema: Model,
    example: { ...exampleModel, keyValueTags: { team: "risk" } }
  },
  errors: ["ModelNotFoundError", "StorageError"]
})

export const deleteModelTag = endpoint({
  operationId: "deleteModelTag",
  method: "DELETE",
  path: "/v1/models/{id}/tags/{key}",
  resource: "Models",
  summary: "Remove one key-value tag of a version (audited as tag_deleted; absent keys change nothing)",
  permission: "models:write",
  params: ModelTagParams,
  success: { status: 200, description: "The model without the tag", schema: Model, example: exampleModel },
  errors: ["ModelNotFoundError", "StorageError"]
})

export const getModel = endpoint({
  operationId: "getModel",
  method: "GET",
  path: "/v1/models/{id}",
  resource: "Models",
  summary: "Get a model",
  permission: "models:read",
  params: ModelIdParams,
  success: { status: 200, description: "The model", schema: Model, example: exampleModel },
  errors: ["ModelNotFoundError", "StorageError"]
})

export const updateModel = endpoint({
  operationId: "updateModel",
  method: "PATCH",
  path: "/v1/models/{id}",
  resource: "Models",
  summary: "Update description, tags, metrics or (while draft) the signature (audited; identity fields are immutable)",
  permission: "models:write",
  params: ModelIdParams,
  body: {
    schema: UpdateModelInput,
    description: "model update",
    example: { description: "Calibrated scores", tags: ["payments", "eu"] }
  },
  success: { status: 200, description: "Updated", schema: Model, example: exampleModel },
  errors: ["ModelNotFoundError", "StorageError"]
})

export const uploadArtifact = endpoint({
  operationId: "uploadArtifact",
  method: "PUT",
  path: "/v1/models/{id}/artifact",
  resource: "Models",
  summary: "Upload the artifact (raw bytes, streamed; once per model)",
  description: "An empty (0-byte) body is refused with 400 unless `allowEmpty=true`; a draft whose upload failed " +
    "or was refused may upload again.",
  permission: "models:write",
  params: ModelIdParams,
  query: UploadQuery,
  headers: artifactDigestHeaders,
  rawBody: { contentType: "application/octet-stream", description: "The artifact's bytes" },
  success: { status: 200, description: "Stored", schema: Model, example: exampleModel },
  errors: ["ModelNotFoundError", "ArtifactStateError", "ArtifactTooLargeError", "IntegrityError", "StorageError"]
})

export const downloadArtifact = endpoint({
  operationId: "downloadArtifact",
  method: "GET",
  path: "/v1/models/{id}/artifact",
  resource: "Models",
  summary: "Download the artifact (re-verified against its SHA-256 before serving)",
  permission: "models:read",
  params: ModelIdParams,
  success: {
    status: 200,
    description: "Artifact bytes",
    contentType: "application/octet-stream",
    headers: [
      ...artifactDigestHeaders,
      { name: "content-length", description: "Size in bytes", schema: Schema.String },
      { name: "etag", description: "The quoted SHA-256", schema: Schema.String }
    ]
  },
  errors: ["ModelNotFoundError", "ArtifactStateError", "IntegrityError", "StorageError"]
})

export const promoteModel = endpoint({
  operationId: "promoteModel",
  method: "POST",
  path: "/v1/models/{id}/promote",
  resource: "Models",
  summary: "Move a model through its lifecycle",
  permission: "models:promote",
  params: ModelIdParams,
  body: {
    schema: PromoteModelInput,
    description: "promotion",
    example: { status: "production", reason: "canary ok" }
  },
  success: {
    status: 200,
    description: "Promoted",
    schema: Model,
    example: { ...exampleModel, status: "production", revision: 5 }
  },
  errors: ["ModelNotFoundError", "InvalidTransitionError", "ArtifactStateError", "StorageError"]
})

export const getHistory = endpoint({
  operationId: "getHistory",
  method: "GET",
  path: "/v1/models/{id}/history",
  resource: "Models",
  summary: "Audit trail of a model",
  permission: "models:read",
  params: ModelIdParams,
  success: {
    status: 200,
    description: "Events, oldest first",
    schema: Schema.Array(AuditEvent),
    example: [exampleEvent]
  },
  errors: ["ModelNotFoundError", "StorageError"]
})

export const getProduction = endpoint({
  operationId: "getProduction",
  method: "GET",
  path: "/v1/registry/{name}/production",
  resource: "Models",
  summary: "The production version of a name, now or at a past instant",
  permission: "models:read",
  params: ModelNameParams,
  query: ProductionQuery,
  success: {
    status: 200,
    description: "The model",
    schema: Model,
    example: { ...exampleModel, status: "production" }
  },
  errors: ["NotFound", "StorageError"]
})

const exampleRegisteredModel: RegisteredModel = {
  name: "fraud-detector",
  description: "Card-not-present fraud scores",
  owner: "risk-team",
  tags: { domain: "payments" },
  protectedAliases: ["champion"],
  aliases: { champion: exampleId },
  createdAt: "2025-06-01T10:00:00.000Z",
  updatedAt: "2025-06-02T08:30:00.000Z",
  revision: 3
}

export const listRegisteredModels = endpoint({
  operationId: "listRegisteredModels",
  method: "GET",
  path: "/v1/registered-models",
  resource: "Models",
  summary: "List registered models (ascending by name, cursor pagination)",
  permission: "models:read",
  query: ListRegisteredModelsParams,
  success: {
    status: 200,
    description: "A page of registered models",
    schema: RegisteredModelPage,
    example: { items: [exampleRegisteredModel], nextCursor: null }
  },
  errors: ["StorageError"]
})

export const createRegisteredModel = endpoint({
  operationId: "createRegisteredModel",
  method: "POST",
  path: "/v1/registered-models",
  resource: "Models",
  summary: "Create a registered model (registering a version of a new name creates one implicitly)",
  description: "Setting `protectedAliases` needs `models:protected-aliases` (admin).",
  permission: "models:write",
  body: {
    schema: CreateRegisteredModelInput,
    description: "registered model",
    example: { name: "fraud-detector", description: "Card-not-present fraud scores", tags: { domain: "payments" } }
  },
  success: {
    status: 201,
    description: "Created",
    schema: RegisteredModel,
    example: { ...exampleRegisteredModel, aliases: {}, revision: 1 },
    headers: [{ name: "location", description: "/v1/registered-models/{name}", schema: Schema.String }]
  },
  errors: ["RegisteredModelConflictError", "StorageError"]
})

export const getRegisteredModel = endpoint({
  operationId: "getRegisteredModel",
  method: "GET",
  path: "/v1/registered-models/{name}",
  resource: "Models",
  summary: "A registered model with its newest version per status and its aliases resolved",
  permission: "models:read",
  params: ModelNameParams,
  success: {
    status: 200,
    description: "The registered model",
    schema: RegisteredModelDetail,
    example: {
      ...exampleRegisteredModel,
      latestVersions: [{ ...exampleModel, status: "production" }],
      resolvedAliases: [{ alias: "production", modelId: exampleId, version: "1.4.0" }, {
        alias: "champion",
        modelId: exampleId,
        version: "1.4.0"
      }]
    }
  },
  errors: ["RegisteredModelNotFoundError", "StorageError"]
})

export const updateRegisteredModel = endpoint({
  operationId: "updateRegisteredModel",
  method: "PATCH",
  path: "/v1/registered-models/{name}",
  resource: "Models",
  summary: "Update a registered model's description, owner, tags or protected aliases",
  description: "Tags replace the stored ones. Changing `protectedAliases` needs `models:protected-aliases` (admin).",
  permission: "models:write",
  params: ModelNameParams,
  body: {
    schema: UpdateRegisteredModelInput,
    description: "registered model update",
    example: { owner: "risk-team", tags: { domain: "payments", tier: "1" } }
  },
  success: { status: 200, description: "Updated", schema: RegisteredModel, example: exampleRegisteredModel },
  errors: ["RegisteredModelNotFoundError", "StorageError"]
})

export const getRegisteredModelHistory = endpoint({
  operationId: "getRegisteredModelHistory",
  method: "GET",
  path: "/v1/registered-models/{name}/history",
  resource: "Models",
  summary: "Audit trail of every version of a registered model, alias moves included",
  permission: "models:read",
  params: ModelNameParams,
  success: {
    status: 200,
    description: "Events, oldest first",
    schema: Schema.Array(AuditEvent),
    example: [exampleEvent, {
      ...exampleEvent,
      action: "alias_set",
      alias: "champion",
      from: null,
      to: null,
      reason: null,
      changes: { modelId: { from: null, to: exampleId }, version: { from: null, to: "1.4.0" } }
    }]
  },
  errors: ["RegisteredModelNotFoundError", "StorageError"]
})

export const archiveRegisteredModel = endpoint({
  operationId: "archiveRegisteredModel",
  method: "POST",
  path: "/v1/registered-models/{name}/archive",
  resource: "Models",
  summary: "Archive every version of a registered model in one audited step",
  permission: "models:promote-production",
  params: ModelNameParams,
  body: {
    schema: ArchiveRegisteredModelInput,
    description: "archive",
    example: { reason: "replaced by fraud-detector-v2" },
    optional: true
  },
  success: {
    status: 200,
    description: "Every version archived",
    schema: RegisteredModelDetail,
    example: {
      ...exampleRegisteredModel,
      latestVersions: [{ ...exampleModel, status: "archived" }],
      resolvedAliases: [{ alias: "champion", modelId: exampleId, version: "1.4.0" }]
    }
  },
  errors: ["RegisteredModelNotFoundError", "StorageError"]
})

export const setAlias = endpoint({
  operationId: "setAlias",
  method: "PUT",
  path: "/v1/registered-models/{name}/aliases/{alias}",
  resource: "Models",
  summary: "Point an alias at a version (audited alias_set)",
  description: "The body names the version by `version` or by `modelId` (exactly one). `production` is built in " +
    "and moves only with promotions (409); a protected alias needs `models:protected-aliases` (admin).",
  permission: "models:promote",
  params: AliasParams,
  body: { schema: SetAliasInput, description: "alias target", example: { version: "1.4.0" } },
  success: { status: 200, description: "The version the alias now points at", schema: Model, example: exampleModel },
  errors: [
    "RegisteredModelNotFoundError",
    "ModelNotFoundError",
    "ReservedAliasError",
    "ProtectedAliasError",
    "StorageError"
  ]
})

export const deleteAlias = endpoint({
  operationId: "deleteAlias",
  method: "DELETE",
  path: "/v1/registered-models/{name}/aliases/{alias}",
  resource: "Models",
  summary: "Remove an alias (audited alias_deleted)",
  permission: "models:promote",
  params: AliasParams,
  success: { status: 204, description: "Removed" },
  errors: [
    "RegisteredModelNotFoundError",
    "AliasNotFoundError",
    "ReservedAliasError",
    "ProtectedAliasError",
    "StorageError"
  ]
})

export const getAlias = endpoint({
  operationId: "getAlias",
  method: "GET",
  path: "/v1/registered-models/{name}/aliases/{alias}",
  resource: "Models",
  summary: "The version an alias points at, now or at a past instant (`production`: the production version)",
  permission: "models:read",
  params: AliasParams,
  query: ProductionQuery,
  success: { status: 200, description: "The version", schema: Model, example: exampleModel },
  errors: ["RegisteredModelNotFoundError", "AliasNotFoundError", "StorageError"]
})

/** Every registry endpoint, in the order the docs list them. */
export const endpoints = [
  registerModel,
  listModels,
  searchModels,
  getModel,
  updateModel,
  setModelTag,
  deleteModelTag,
  uploadArtifact,
  downloadArtifact,
  promoteModel,
  getHistory,
  getProduction,
  listRegisteredModels,
  createRegisteredModel,
  getRegisteredModel,
  updateRegisteredModel,
  getRegisteredModelHistory,
  archiveRegisteredModel,
  setAlias,
  deleteAlias,
  getAlias
] as const
