/**
 * The whole contract: every endpoint table and the schemas the document names. The server
 * mounts from these lists, /openapi.json is generated from them, and tests check that the two
 * agree. Experiments, drift and pipelines join as they are converted from hand-written routes.
 */
import {
  AssignmentRequest,
  AuditEvent,
  CompleteExperimentInput,
  CreateExperimentInput,
  Experiment,
  ExperimentList,
  ExperimentResults,
  Model,
  ModelAssignment,
  ModelAssignmentList,
  ModelPage,
  PromoteModelInput,
  RecordedCount,
  RecordExposuresInput,
  RecordMetricsInput,
  RegisterModelInput,
  UpdateExperimentInput,
  UpdateModelInput
} from "@org/ml-core"
import type { Schema } from "effect"
import type { Endpoint } from "./Endpoint.js"
import * as Experiments from "./Experiments.js"
import * as Operations from "./Operations.js"
import * as Registry from "./Registry.js"

export const tables = {
  Registry: Registry.endpoints,
  Experiments: Experiments.endpoints,
  Operations: Operations.endpoints
} as const

export const endpoints: ReadonlyArray<Endpoint> = [
  ...Registry.endpoints,
  ...Experiments.endpoints,
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
  ExperimentResults
}
