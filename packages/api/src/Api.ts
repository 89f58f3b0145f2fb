/**
 * The whole contract: every endpoint table and the schemas the document names. The server
 * mounts from these lists, /openapi.json is generated from them, and tests check that the two
 * agree.
 */
import {
  AddSamplesResult,
  AssignmentRequest,
  AuditEvent,
  CompleteExperimentInput,
  CreateExperimentInput,
  CreateMonitorInput,
  CreatePipelineInput,
  CreateRegisteredModelInput,
  CreateWebhookInput,
  Delivery,
  DriftAlert,
  DriftReport,
  Experiment,
  ExperimentList,
  ExperimentResults,
  FeatureCheck,
  KeyStore,
  Model,
  ModelAssignment,
  ModelAssignmentList,
  ModelPage,
  Monitor,
  Pipeline,
  PipelineStatus,
  PredictRequest,
  PromoteModelInput,
  PublicWebhook,
  RecordedCount,
  RecordExposuresInput,
  RecordMetricsInput,
  RegisteredModel,
  RegisteredModelDetail,
  RegisteredModelPage,
  RegisterModelInput,
  SamplesRequest,
  SetAliasInput,
  UpdateExperimentInput,
  UpdateModelInput,
  UpdateRecord,
  UpdateRegisteredModelInput
} from "@org/ml-core"
import type { Schema } from "effect"
import * as Access from "./Access.js"
import * as Drift from "./Drift.js"
import type { Endpoint } from "./Endpoint.js"
import * as Experiments from "./Experiments.js"
import * as Operations from "./Operations.js"
import * as Pipelines from "./Pipelines.js"
import * as Registry from "./Registry.js"
import * as Sdk from "./Sdk.js"

export const tables = {
  Registry: Registry.endpoints,
  Experiments: Experiments.endpoints,
  Drift: Drift.endpoints,
  Pipelines: Pipelines.endpoints,
  Access: Access.endpoints,
  Operations: Operations.endpoints,
  Sdk: Sdk.endpoints
} as const

export const endpoints: ReadonlyArray<Endpoint> = [
  ...Registry.endpoints,
  ...Experiments.endpoints,
  ...Drift.endpoints,
  ...Pipelines.endpoints,
  ...Access.endpoints,
  ...Operations.endpoints,
  ...Sdk.endpoints
]

/** Schemas listed by name under components/schemas (referenced, not repeated, wherever they occur). */
export const namedSchemas: Readonly<Record<string, Schema.Top>> = {
  Model,
  RegisterModelInput,
  UpdateModelInput,
  PromoteModelInput,
  AuditEvent,
  ModelPage,
  RegisteredModel,
  RegisteredModelDetail,
  RegisteredModelPage,
  CreateRegisteredModelInput,
  UpdateRegisteredModelInput,
  SetAliasInput,
  Experiment,
  ExperimentList,
  CreateExperimentInput,
  UpdateExperimentInput,
  CompleteExperimentInput,
  AssignmentRequest,
  ModelAssignment,
  ModelAssignmentList,
  RecordMetricsInput,
  RecordExposuresInput,
  RecordedCount,
  ExperimentResults,
  CreateMonitorInput,
  Monitor,
  FeatureCheck,
  DriftAlert,
  DriftReport,
  CreateWebhookInput,
  PublicWebhook,
  Delivery,
  CreatePipelineInput,
  Pipeline,
  UpdateRecord,
  PipelineStatus,
  AddSamplesResult,
  SamplesRequest,
  PredictRequest,
  CreateKeyInput: KeyStore.CreateKeyInput,
  ApiKey: KeyStore.ApiKey,
  CreatedKey: KeyStore.CreatedKey
}
