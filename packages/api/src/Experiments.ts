/**
 * The A/B test and bandit endpoints: creating experiments between registry models, moving them
 * through their lifecycle (start, pause, complete, bandit reweighting), assigning users,
 * recording metrics and exposures, and reading the results with the decision. Bodies and
 * answers are the core's experiment schemas; only the path schema is declared here.
 */
import {
  AliasName,
  AssignmentRequest,
  AssignmentUserId,
  Attributes,
  CompleteExperimentInput,
  CreateExperimentInput,
  DimensionName,
  DimensionResults,
  Experiment,
  ExperimentId,
  ExperimentList,
  ExperimentResults,
  Instant,
  isAssignmentBodyAsIs,
  isMetricBodyAsIs,
  type ModelAssignment,
  ModelAssignmentAnswer,
  ModelName,
  RecordedCount,
  RecordExposuresInput,
  RecordMetricsInput,
  ServedModel,
  UpdateExperimentInput
} from "@org/ml-core"
import { Schema } from "effect"
import { endpoint } from "./Endpoint.js"

export const ExperimentIdParams = Schema.Struct({ id: ExperimentId })

const controlId = "01J9Z8K2W4X6Y8A0B2C4D6E8FG"
const treatmentId = "01J9Z8M5P7R9T1V3X5Z7B9D1FH"
const exampleExperimentId = "checkout-ranker-2025-06"

const exampleCreation: typeof CreateExperimentInput.Encoded = {
  id: exampleExperimentId,
  name: "checkout ranker",
  description: "The new ranker against the current one",
  targetMetric: "conversion",
  metricGoals: { latency_ms: { direction: "minimize", guardrail: true } },
  variants: [
    { modelId: controlId, isControl: true, trafficPct: 50 },
    { modelId: treatmentId, isControl: false, trafficPct: 50 }
  ],
  minSamplesPerVariant: 1000
}

const exampleExperiment: Experiment = {
  id: exampleExperimentId,
  name: "checkout ranker",
  description: "The new ranker against the current one",
  targetMetric: "conversion",
  metricGoals: { conversion: { direction: "maximize" }, latency_ms: { direction: "minimize", guardrail: true } },
  variants: exampleCreation.variants,
  stickyAssignment: true,
  coverage: 1,
  minSamplesPerVariant: 1000,
  alpha: 0.05,
  seed: exampleExperimentId,
  mode: "ab",
  sequential: false,
  status: "running",
  createdAt: "2025-06-01T10:00:00.000Z",
  updatedAt: "2025-06-02T08:30:00.000Z",
  startedAt: "2025-06-02T08:30:00.000Z",
  completedAt: null,
  decision: null,
  trafficHistory: [{ at: "2025-06-01T10:00:00.000Z", actor: "alice", trafficPct: [50, 50] }],
  banditHistory: [],
  revision: 2
}

const exampleCompleted: Experiment = {
  ...exampleExperiment,
  status: "completed",
  completedAt: "2025-06-20T09:00:00.000Z",
  updatedAt: "2025-06-20T09:00:00.000Z",
  decision: {
    outcome: "winner",
    winnerModelId: treatmentId,
    reason: `${treatmentId} is better on conversion (adjusted p = 1.20e-3 < 0.05)`
  },
  revision: 3
}

const exampleAssignment: ModelAssignment = {
  experimentId: exampleExperimentId,
  userId: "user-42",
  variant: 1,
  modelId: treatmentId,
  inExperiment: true,
  sticky: true
}

const exampleResults: ExperimentResults = {
  experimentId: exampleExperimentId,
  status: "running",
  targetMetric: "conversion",
  variants: [
    {
      modelId: controlId,
      isControl: true,
      trafficPct: 50,
      weight: 0.5,
      exposures: 10210,
      metrics: { conversion: { n: 10180, mean: 0.112, sd: 0.315, interval: { lower: 0.106, upper: 0.118 } } }
    },
    {
      modelId: treatmentId,
      isControl: false,
      trafficPct: 50,
      weight: 0.5,
      exposures: 10187,
      metrics: { conversion: { n: 10155, mean: 0.121, sd: 0.326, interval: { lower: 0.115, upper: 0.127 } } }
    }
  ],
  comparisons: [{
    modelId: treatmentId,
    metric: "conversion",
    difference: 0.009,
    differenceInterval: { lower: 0.0002, upper: 0.0178 },
    relativeLift: 0.0804,
    relativeLiftInterval: { lower: 0.002, upper: 0.159 },
    pValue: 0.0449,
    adjustedPValue: 0.0449,
    sequentialPValue: null,
    bayesian: {
      chanceToBeatControl: 0.973,
      expectedLift: 0.0804,
      liftCredibleInterval: { lower: -0.0014, upper: 0.1621 },
      riskOfChoosingTreatment: 0.0004,
      riskOfChoosingControl: 0.0808
    },
    significantlyBetter: true,
    significantlyWorse: false
  }],
  guardrails: [],
  srm: { pValue: 0.87, detected: false },
  banditHistory: [],
  exposuresByDay: [
    { day: "2025-06-02", counts: [4890, 4874] },
    { day: "2025-06-03", counts: [5320, 5313] }
  ],
  decision: {
    outcome: "winner",
    winnerModelId: treatmentId,
    reason: `${treatmentId} is better on conversion (adjusted p = 4.49e-2 < 0.05)`
  },
  covariateAdjusted: [{
    modelId: treatmentId,
    metric: "conversion",
    treatmentCount: 10155,
    controlCount: 10180,
    theta: 0.41,
    difference: 0.0087,
    differenceInterval: { lower: 0.0012, upper: 0.0162 },
    relativeLift: 0.0777,
    relativeLiftInterval: { lower: 0.0105, upper: 0.1449 },
    pValue: 0.0232,
    adjustedPValue: 0.0232,
    unadjustedDifference: 0.009,
    varianceReduction: 0.29,
    significantlyBetter: true,
    significantlyWorse: false
  }],
  ratioMetrics: [{
    modelId: treatmentId,
    metric: "clicks_per_session",
    treatmentCount: 10155,
    controlCount: 10180,
    treatmentRatio: 0.208,
    treatmentStandardError: 0.0021,
    controlRatio: 0.205,
    controlStandardError: 0.0021,
    difference: 0.003,
    differenceInterval: { lower: -0.0028, upper: 0.0088 },
    relativeLift: 0.0146,
    relativeLiftInterval: { lower: -0.0138, upper: 0.043 },
    pValue: 0.31,
    adjustedPValue: 0.31,
    significantlyBetter: false,
    significantlyWorse: false
  }],
  metricCaps: { revenue: { upper: 500, lower: 0 } }
}

export const createExperiment = endpoint({
  operationId: "createExperiment",
  method: "POST",
  path: "/v1/experiments",
  resource: "Experiments",
  summary: "Create an A/B test (or bandit) between registry models (status draft)",
  permission: "experiments:write",
  body: { schema: CreateExperimentInput, description: "experiment", example: exampleCreation },
  success: {
    status: 201,
    description: "Created",
    schema: Experiment,
    example: { ...exampleExperiment, status: "draft", startedAt: null, revision: 1 },
    headers: [{ name: "location", description: "Path of the new experiment", schema: Schema.String }]
  },
  errors: ["ExperimentConflictError", "StorageError"]
})

export const listExperiments = endpoint({
  operationId: "listExperiments",
  method: "GET",
  path: "/v1/experiments",
  resource: "Experiments",
  summary: "List experiments",
  permission: "experiments:read",
  success: {
    status: 200,
    description: "Every experiment",
    schema: ExperimentList,
    example: { items: [exampleExperiment] }
  },
  errors: ["StorageError"]
})

export const getExperiment = endpoint({
  operationId: "getExperiment",
  method: "GET",
  path: "/v1/experiments/{id}",
  resource: "Experiments",
  summary: "Get an experiment",
  permission: "experiments:read",
  params: ExperimentIdParams,
  success: { status: 200, description: "The experiment", schema: Experiment, example: exampleExperiment },
  errors: ["ExperimentNotFoundError", "StorageError"]
})

export const updateExperiment = endpoint({
  operationId: "updateExperiment",
  method: "PATCH",
  path: "/v1/experiments/{id}",
  resource: "Experiments",
  summary: "Re-split traffic (recorded; sticky users keep their model), change the description or the feature key, " +
    "or replace the targeting condition or metric caps (recorded in settingChanges)",
  permission: "experiments:write",
  params: ExperimentIdParams,
  body: {
    schema: UpdateExperimentInput,
    description: "experiment update",
    example: { trafficPct: [80, 20], description: "Ramp down the treatment" }
  },
  success: {
    status: 200,
    description: "Updated",
    schema: Experiment,
    example: {
      ...exampleExperiment,
      variants: [{ ...exampleExperiment.variants[0]!, trafficPct: 80 }, {
        ...exampleExperiment.variants[1]!,
        trafficPct: 20
      }],
      description: "Ramp down the treatment",
      trafficHistory: [...exampleExperiment.trafficHistory, {
        at: "2025-06-03T12:00:00.000Z",
        actor: "alice",
        trafficPct: [80, 20]
      }],
      revision: 3
    }
  },
  errors: ["ExperimentNotFoundError", "ExperimentStateError", "ExperimentConflictError", "StorageError"]
})

export const startExperiment = endpoint({
  operationId: "startExperiment",
  method: "POST",
  path: "/v1/experiments/{id}/start",
  resource: "Experiments",
  summary: "Start (or resume) an experiment",
  permission: "experiments:write",
  params: ExperimentIdParams,
  success: { status: 200, description: "Running", schema: Experiment, example: exampleExperiment },
  errors: ["ExperimentNotFoundError", "ExperimentStateError", "StorageError"]
})

export const pauseExperiment = endpoint({
  operationId: "pauseExperiment",
  method: "POST",
  path: "/v1/experiments/{id}/pause",
  resource: "Experiments",
  summary: "Pause: everyone gets the control",
  permission: "experiments:write",
  params: ExperimentIdParams,
  success: {
    status: 200,
    description: "Paused",
    schema: Experiment,
    example: { ...exampleExperiment, status: "paused", revision: 3 }
  },
  errors: ["ExperimentNotFoundError", "ExperimentStateError", "StorageError"]
})

export const completeExperiment = endpoint({
  operationId: "completeExperiment",
  method: "POST",
  path: "/v1/experiments/{id}/complete",
  resource: "Experiments",
  summary: "Complete, recording the decision; promoteWinner: true promotes the winner to production",
  permission: "experiments:complete",
  params: ExperimentIdParams,
  body: {
    schema: CompleteExperimentInput,
    description: "completion",
    example: { promoteWinner: true },
    optional: true
  },
  success: { status: 200, description: "Completed", schema: Experiment, example: exampleCompleted },
  errors: ["ExperimentNotFoundError", "ExperimentStateError", "ModelNotFoundError", "StorageError"]
})

export const reweightExperiment = endpoint({
  operationId: "reweightExperiment",
  method: "POST",
  path: "/v1/experiments/{id}/reweight",
  resource: "Experiments",
  summary: "Recompute bandit weights now (Thompson sampling; no change during burn-in)",
  permission: "experiments:write",
  params: ExperimentIdParams,
  success: {
    status: 200,
    description: "The experiment with its banditHistory",
    schema: Experiment,
    example: {
      ...exampleExperiment,
      mode: "bandit",
      banditHistory: [{ at: "2025-06-03T12:00:00.000Z", weights: [0.38, 0.62] }],
      revision: 3
    }
  },
  errors: ["ExperimentNotFoundError", "ExperimentStateError", "StorageError"]
})

export const getModelAssignments = endpoint({
  operationId: "getModelAssignments",
  method: "POST",
  path: "/v1/experiments/{id}/assignments",
  resource: "Experiments",
  summary: "Assign a user (userId) or many (userIds) to a model",
  description: "Sticky experiments store the first assignment of each user; an exposure is counted once per user. " +
    "attributes (attributesByUser for userIds) are read by the experiment's targeting condition and hash " +
    "attribute; a user the targeting leaves out (condition, holdout, namespace, missing hash attribute) gets the " +
    "control with inExperiment false and no exposure.",
  permission: "experiments:record",
  params: ExperimentIdParams,
  body: {
    schema: AssignmentRequest,
    acceptsAsIs: isAssignmentBodyAsIs,
    description: "assignment request",
    example: { userId: "user-42", attributes: { country: "DE", appVersion: "2.4.1" } }
  },
  success: {
    status: 200,
    description: "The assignment for userId, or { items } for userIds",
    schema: ModelAssignmentAnswer,
    example: exampleAssignment
  },
  errors: ["ExperimentNotFoundError", "StorageError"]
})

export const recordMetrics = endpoint({
  operationId: "recordMetrics",
  method: "POST",
  path: "/v1/experiments/{id}/metrics",
  resource: "Experiments",
  summary: "Record one observation ({ modelId, metric, value, covariate?, denominator? }) or many ({ observations })",
  permission: "experiments:record",
  params: ExperimentIdParams,
  body: {
    schema: RecordMetricsInput,
    acceptsAsIs: isMetricBodyAsIs,
    description: "metrics",
    example: {
      observations: [
        { modelId: treatmentId, metric: "conversion", value: 1, covariate: 0 },
        { modelId: treatmentId, metric: "clicks_per_session", value: 3, denominator: 14 }
      ]
    }
  },
  success: { status: 202, description: "Accepted", schema: RecordedCount, example: { recorded: 1 } },
  errors: ["ExperimentNotFoundError", "ExperimentStateError", "StorageError"]
})

export const recordExposures = endpoint({
  operationId: "recordExposures",
  method: "POST",
  path: "/v1/experiments/{id}/exposures",
  resource: "Experiments",
  summary: "Report exposures counted client-side (the SDK's local evaluation)",
  permission: "experiments:record",
  params: ExperimentIdParams,
  body: {
    schema: RecordExposuresInput,
    description: "exposures",
    example: { exposures: [{ modelId: controlId, count: 120 }, { modelId: treatmentId, count: 118 }] }
  },
  success: { status: 202, description: "Accepted", schema: RecordedCount, example: { recorded: 2 } },
  errors: ["ExperimentNotFoundError", "StorageError"]
})

export const getExperimentResults = endpoint({
  operationId: "getExperimentResults",
  method: "GET",
  path: "/v1/experiments/{id}/results",
  resource: "Experiments",
  summary: "Per-variant statistics, comparisons with the control, SRM check and decision",
  permission: "experiments:read",
  params: ExperimentIdParams,
  success: { status: 200, description: "Results", schema: ExperimentResults, example: exampleResults },
  errors: ["ExperimentNotFoundError", "StorageError"]
})

/**
 * Optional in the schema only so that a key confined to other models is refused (403) before the
 * query is judged; the route answers a missing dimension with a 400 naming it.
 */
export const DimensionQuery = Schema.Struct({ dimension: Schema.optionalKey(DimensionName) })

export const getDimensionResults = endpoint({
  operationId: "getDimensionResults",
  method: "GET",
  path: "/v1/experiments/{id}/results/breakdown",
  resource: "Experiments",
  summary: "Results per value of a dimension, p-values adjusted across the breakdown (Benjamini-Hochberg)",
  permission: "experiments:read",
  params: ExperimentIdParams,
  query: DimensionQuery,
  success: {
    status: 200,
    description: "Results per value",
    schema: DimensionResults,
    example: {
      experimentId: "exp-ranker",
      dimension: "country",
      correction: "benjamini-hochberg",
      tests: 0,
      values: []
    }
  },
  errors: ["ExperimentNotFoundError", "StorageError"]
})

/**
 * "What served user U at time T": `experimentId` (the experiment's definition then, the user's
 * sticky assignment if stored by then, `attributes` when targeting reads them) or `model` with
 * `alias` (default production: the version the registry's audit trail says it pointed to).
 */
export const ServedQuery = Schema.Struct({
  userId: AssignmentUserId,
  at: Schema.String.annotate({ format: "date-time" }).check(...Instant.ast.checks!),
  experimentId: Schema.optionalKey(ExperimentId),
  model: Schema.optionalKey(ModelName),
  alias: Schema.optionalKey(AliasName),
  /** The user's attributes as a JSON object, as sent with their assignment requests. */
  attributes: Schema.optionalKey(Schema.fromJsonString(Attributes))
})

export const getServed = endpoint({
  operationId: "getServed",
  method: "GET",
  path: "/v1/served",
  resource: "Experiments",
  summary: "Which model version served a user at an instant, through an experiment or an alias, and why",
  description: "Give experimentId, or model (with alias, default production). Needs models:read as well. " +
    "An instant before the oldest kept definition change is refused (400 naming at).",
  permission: "experiments:read",
  query: ServedQuery,
  success: {
    status: 200,
    description: "The model version and why",
    schema: ServedModel,
    example: {
      userId: "user-42",
      at: "2025-06-10T12:00:00.000Z",
      modelId: treatmentId,
      name: "ranker",
      version: "2.0.0",
      source: "sticky",
      experimentId: exampleExperimentId,
      variant: 1,
      definitionRevision: 2,
      explanation: "sticky assignment stored at 2025-06-03T09:12:44.120Z; definition in force: revision 2 " +
        "(started at 2025-06-02T08:30:00.000Z)"
    }
  },
  errors: ["ExperimentNotFoundError", "ModelNotFoundError", "StorageError"]
})

/** Every experiment endpoint, in the order the docs list them. */
export const endpoints = [
  createExperiment,
  listExperiments,
  getExperiment,
  updateExperiment,
  startExperiment,
  pauseExperiment,
  completeExperiment,
  reweightExperiment,
  getModelAssignments,
  recordMetrics,
  recordExposures,
  getExperimentResults,
  getDimensionResults,
  getServed
] as const
