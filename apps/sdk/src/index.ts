export type {
  AuditEvent,
  CreateExperimentInput,
  CreateMonitorInput,
  DriftAlert,
  DriftReport,
  Experiment,
  ListModelsQuery,
  Model,
  ModelPage,
  ModelStatus,
  Monitor,
  RegisterModelInput,
  UpdateModelInput
} from "@org/ml-core"
export type { RecorderOptions } from "./Batcher.js"
export {
  type ArtifactBody,
  type ClientOptions,
  createClient,
  type DownloadedArtifact,
  type MlClient,
  type UploadOptions
} from "./Client.js"
export { onAlert, verifyWebhookSignature } from "./Drift.js"
export type {
  CreateWebhookInput,
  DriftReportsQuery,
  DriftWebhook,
  FeatureCheck,
  FeatureSpec,
  FrozenBaselines,
  MonitorSettings,
  Severity,
  WebhookDelivery
} from "./Drift.js"
export * from "./Errors.js"
export { type LocalAssignment, LocalEvaluator, type LocalEvaluatorOptions } from "./LocalEvaluator.js"
export { Sha256 } from "./Sha256.js"
