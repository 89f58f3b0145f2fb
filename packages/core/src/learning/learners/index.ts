/**
 * The online learners alone (`@org/ml-core/learn`): make, train, predict, save and load, without
 * Effect. The schemas of configurations and states (for APIs) are in the main entry.
 */
export * from "./Learner.js"
export * from "./LearnerChecks.js"
export type {
  FeatureMapSpec,
  LearnerConfig,
  LearnerKind,
  LearnerPrecision,
  LearnerState,
  Optimizer
} from "./LearnerState.js"
export * from "./LearnerStateBinary.js"
export { LearnerStateFormatError } from "./LearnerStateFormatError.js"
