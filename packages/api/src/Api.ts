/**
 * The whole contract: every endpoint table and the schemas the document names. The server
 * mounts from these lists, /openapi.json is generated from them, and tests check that the two
 * agree. Experiments, drift and pipelines join as they are converted from hand-written routes.
 */
import { AuditEvent, Model, ModelPage, PromoteModelInput, RegisterModelInput, UpdateModelInput } from "@org/ml-core"
import {
  CreateMonitorInput,
  CreateWebhookInput,
  Delivery,
  DriftAlert,
  DriftReport,
  FeatureCheck,
  Monitor,
  PublicWebhook
} from "@org/ml-core"
import type { Schema } from "effect"
import * as Drift from "./Drift.js"
import type { Endpoint } from "./Endpoint.js"
import * as Operations from "./Operations.js"
import * as Registry from "./Registry.js"

export const tables = {
  Registry: Registry.endpoints,
  Operations: Operations.endpoints,
  Drift: Drift.endpoints
} as const

export const endpoints: ReadonlyArray<Endpoint> = [
  ...Registry.endpoints,
  ...Operations.endpoints,
  ...Drift.endpoints
]

/** Schemas listed by name under components/schemas (referenced, not repeated, wherever they occur). */
export const namedSchemas: Readonly<Record<string, Schema.Top>> = {
  Model,
  RegisterModelInput,
  UpdateModelInput,
  PromoteModelInput,
  AuditEvent,
  ModelPage,
  CreateMonitorInput,
  Monitor,
  FeatureCheck,
  DriftAlert,
  DriftReport,
  CreateWebhookInput,
  PublicWebhook,
  Delivery
}
