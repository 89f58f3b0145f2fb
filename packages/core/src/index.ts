/**
 * @org/ml-core: the portable core. Feature folders: shared/ (ids, leases, metrics catalogue,
 * decoding, common errors), registry/, experiments/, drift/, learning/, stats/; contract suites
 * for adapters are in testing/ (exported as @org/ml-core/testing).
 */
export * from "./shared/Errors.js"
export * as Leases from "./shared/Leases.js"
export * as MetricsSink from "./shared/MetricsSink.js"
export * from "./shared/Retry.js"
export { makeUlid, ulidPattern } from "./shared/Ulid.js"
export * from "./shared/Validation.js"

export * as ArtifactStore from "./registry/ArtifactStore.js"
export * from "./registry/AuditEvent.js"
export * from "./registry/Errors.js"
export * from "./registry/Lifecycle.js"
export * from "./registry/Model.js"
export * as ModelRegistry from "./registry/ModelRegistry.js"
export * as ModelStore from "./registry/ModelStore.js"

export * from "./stats/index.js"

export * as AbTests from "./experiments/AbTests.js"
export * from "./experiments/Assignment.js"
export * from "./experiments/Errors.js"
export * from "./experiments/Experiment.js"
export * as ExperimentStore from "./experiments/ExperimentStore.js"

export * from "./drift/Drift.js"
export * as DriftDetector from "./drift/DriftDetector.js"
export * as DriftStore from "./drift/DriftStore.js"
export * from "./drift/Errors.js"

export * from "./learning/Errors.js"
export * as LearningEvaluation from "./learning/Evaluation.js"
export * from "./learning/learners/Learner.js"
export * from "./learning/learners/LearnerState.js"
export * as OnlineLearner from "./learning/OnlineLearner.js"
export * from "./learning/Pipeline.js"
export * as PipelineStore from "./learning/PipelineStore.js"
export * from "./learning/Samples.js"
export * as LearningStrategy from "./learning/Strategy.js"
