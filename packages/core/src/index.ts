/**
 * @org/ml-core: the portable core. Feature folders: shared/ (ids, leases, metrics catalogue,
 * decoding, common errors), registry/, experiments/, drift/, learning/, stats/; contract suites
 * for adapters are in testing/ (exported as @org/ml-core/testing).
 */
export * from "./shared/Errors.js"
export * as Leases from "./shared/Leases.js"
export * as MetricsSink from "./shared/MetricsSink.js"
export * from "./shared/Retry.js"
export { makeUlid, makeUlidGenerator, makeUlidSequence, ulidPattern, type UlidSequence } from "./shared/Ulid.js"
export * from "./shared/Validation.js"

export * as ArtifactStore from "./registry/ArtifactStore.js"
export * from "./registry/AuditEvent.js"
export * from "./registry/Errors.js"
export * from "./registry/Lifecycle.js"
export * from "./registry/Model.js"
export * from "./registry/ModelChanges.js"
export * as ModelRegistry from "./registry/ModelRegistry.js"
export * as ModelStore from "./registry/ModelStore.js"

export * from "./stats/index.js"

export * as AbTests from "./experiments/AbTests.js"
export * from "./experiments/Assignment.js"
export * from "./experiments/Errors.js"
export * from "./experiments/Experiment.js"
export * as ExperimentStore from "./experiments/ExperimentStore.js"

export * from "./drift/Alert.js"
export * as AlertNotifier from "./drift/AlertNotifier.js"
export * from "./drift/AlertState.js"
export * from "./drift/Baseline.js"
export * from "./drift/Check.js"
export * as DriftAlerts from "./drift/DriftAlerts.js"
export * as DriftDetector from "./drift/DriftDetector.js"
export * as DriftStore from "./drift/DriftStore.js"
export * from "./drift/Errors.js"
export * from "./drift/Monitor.js"
export * from "./drift/Observations.js"
export * from "./drift/Report.js"
export * from "./drift/Severity.js"
export * from "./drift/tests/DriftTest.js"
export * from "./drift/tests/registry.js"
export * from "./drift/ValueArrays.js"
export * from "./drift/Webhook.js"
export * as WebhookNotifier from "./drift/WebhookNotifier.js"

export * from "./learning/Errors.js"
export * from "./learning/learners/Learner.js"
export * as OnlineLearner from "./learning/OnlineLearner.js"
export * from "./learning/Pipeline.js"
export * as PipelineStore from "./learning/PipelineStore.js"
