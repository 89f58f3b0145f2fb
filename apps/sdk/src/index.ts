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
/** The experiments domain's records and requests (its results, as JSON carries them, come from Client.ts). */
export type {
  CompleteExperimentInput,
  Decision,
  ExperimentMode,
  ExperimentStatus,
  ExposureCount,
  MetricGoal,
  MetricObservation,
  ModelAssignment,
  UpdateExperimentInput,
  Variant
} from "@org/ml-core"
export type { RecorderOptions } from "./Batcher.js"
export {
  type ApiKey,
  type ArtifactBody,
  type BayesianComparison,
  type ClientOptions,
  type Comparison,
  createClient,
  type CreatedKey,
  type CreateKeyInput,
  type DimensionResults,
  type DownloadedArtifact,
  type DownloadOptions,
  type ExperimentResults,
  type KeyEvent,
  type MetricSummaryView,
  type MlClient,
  type ProgressListener,
  type UploadOptions,
  type VariantResults,
  type WhoAmI
} from "./Client.js"
export { onAlert, type VerifyOptions, verifyStandardWebhook, verifyWebhook, verifyWebhookSignature } from "./Drift.js"
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
export type {
  AddSamplesResult,
  CreatePipelineInput,
  Pipeline,
  PipelineStatus,
  PipelineStrategy,
  ProgressiveMetrics,
  PublishPrecision,
  Sample,
  UpdateRecord
} from "./Learner.js"
export { type LocalAssignment, LocalEvaluator, type LocalEvaluatorOptions } from "./LocalEvaluator.js"
export { Sha256 } from "./Sha256.js"
