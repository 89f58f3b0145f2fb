/** The online learners alone (`@org/ml-core/learn`): make, train, predict, save and load. */
export * from "./Learner.js"
export * from "./LearnerState.js"
export * from "./LearnerStateBinary.js"
