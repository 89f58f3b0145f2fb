/**
 * The whole contract: every endpoint table and the schemas the document names. The server
 * mounts from these lists, /openapi.json is generated from them, and tests check that the two
 * agree. Pipelines join when they are converted from hand-written routes.
 */
import {
  AssignmentRequest,
  AuditEvent,
  CompleteExperimentInput,
  CreateExperimentInput,
  CreateMonitorInput,
  CreateWebhookInput,
  Delivery,
  DriftAlert,
  DriftReport,
  Experiment,
  ExperimentList,
  ExperimentResults,
  FeatureCheck,
  Model,
  ModelAssignment,
  ModelAssignmentList,
  ModelPage,
  Monitor,
  PromoteModelInput,
  PublicWebhook,
  RecordedCount,
  RecordExposuresInput,
  RecordMetricsInput,
  RegisterModelInput,
  UpdateExperimentInput,
  UpdateModelInput
} from "@org/ml-core"
import type { Schema } from "effect"
import * as Drift from "./Drift.js"
import type { Endpoint } from "./Endpoint.js"
import * as Experiments from "./Experiments.js"
import * as Operations from "./Operations.js"
import * as Registry from "./Registry.js"

export const tables = {
  Registry: Registry.endpoints,
  Experiments: Experiments.endpoints,
  Drift: Drift.endpoints,
  Operations: Operations.endpoints
} as const

export const endpoints: ReadonlyArray<Endpoint> = [
  ...Registry.endpoints,
  ...Experiments.endpoints,
  ...Drift.endpoints,
  ...Operations.endpoints
]

/** Schemas listed by name under components/schemas (referenced, not repeated, wherever they occur). */
export const namedSchemas: Readonly<Record<string, Schema.Top>> = {
  Model,
  RegisterModelInput,
  UpdateModelInput,
  PromoteModelInput,
  AuditEvent,
  ModelPage,
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
  Delivery
}
