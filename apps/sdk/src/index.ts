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
  Signature,
  SignatureColumn,
  SignatureType,
  UpdateModelInput
} from "@org/ml-core"
/** The experiments domain's records and requests (its results, as JSON carries them, come from Client.ts). */
export type {
  CompleteExperimentInput,
  Decision,
  ExperimentMode,
  ExperimentStatus,
  ExposureCount,
  MetricCap,
  MetricGoal,
  MetricObservation,
  ModelAssignment,
  UpdateExperimentInput,
  Variant
} from "@org/ml-core"
export type { RecorderOptions } from "./Batcher.js"
export {
  type AliasTarget,
  type ApiKey,
  type ArtifactBody,
  type BayesianComparison,
  type ClientOptions,
  type Comparison,
  type CovariateAdjustedComparison,
  createClient,
  type CreatedKey,
  type CreateKeyInput,
  type CreateSdkConnectionInput,
  type DimensionResults,
  type DownloadedArtifact,
  type DownloadOptions,
  type ExperimentResults,
  type KeyEvent,
  type MetricSummaryView,
  type MlClient,
  type ProgressListener,
  type RatioComparison,
  type RegisteredModel,
  type RegisteredModelDetail,
  type SdkConnection,
  type SearchModelsQuery,
  type SearchPage,
  type ServedModel,
  type ServedQuery,
  type UploadOptions,
  type VariantResults,
  type WhoAmI
} from "./Client.js"
export {
  onAlert,
  onRegistryEvent,
  type RegistryEvent,
  type VerifyOptions,
  verifyStandardWebhook,
  verifyWebhook,
  verifyWebhookSignature
} from "./Drift.js"
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
export { readEventStream, type ServerSentEvent } from "./EventStream.js"
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
export {
  type LocalAssignment,
  LocalEvaluator,
  type LocalEvaluatorOptions,
  type TrackedExperiment,
  type TrackedResult
} from "./LocalEvaluator.js"
export { Sha256 } from "./Sha256.js"
export {
  localStorageStickyStore,
  memoryStickyStore,
  type StickyAssignment,
  type StickyStore,
  type StorageLike
} from "./StickyStore.js"
