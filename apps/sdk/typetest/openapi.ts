/**
 * Type-level agreement between a client generated from /openapi.json (openapi-typescript, into
 * generated/ by test/openapi-types.test.ts) and the SDK's own types: each pair must be
 * assignable both ways, or tsc fails. Not part of the package's build.
 */
import type { ApiErrorTag } from "@org/ml-api"
import type { errorClasses, MlClient, ProblemDetails } from "../src/index.js"
import type { components, operations } from "./generated/openapi.js"

/** Compiles only when A and B are assignable to each other. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
const same = <T extends true>(): T | undefined => undefined

type Registry = MlClient["registry"]
type Answer<M extends keyof Registry> = Registry[M] extends (...args: any) => Promise<infer A> ? A : never
type Drift = MlClient["drift"]
type DriftAnswer<M extends keyof Drift> = Drift[M] extends (...args: any) => Promise<infer A> ? A : never
type Webhooks = Drift["webhooks"]
type Json<Op extends keyof operations, Status extends keyof operations[Op]["responses"]> =
  operations[Op]["responses"][Status] extends { content: { "application/json": infer A } } ? A : never
type Body<Op extends keyof operations> = operations[Op]["requestBody"] extends
  { content: { "application/json": infer A } } | undefined ? A : never

// Answers
same<Same<Json<"getModel", 200>, Answer<"getModel">>>()
same<Same<Json<"registerModel", 201>, Answer<"registerModel">>>()
same<Same<Json<"updateModel", 200>, Answer<"updateModel">>>()
same<Same<Json<"uploadArtifact", 200>, Answer<"uploadArtifact">>>()
same<Same<Json<"promoteModel", 200>, Answer<"promoteModel">>>()
same<Same<Json<"listModels", 200>, Answer<"listModelsPage">>>()
same<Same<Json<"getHistory", 200>, Answer<"getHistory">>>()
same<Same<Json<"getProduction", 200>, Answer<"getProduction">>>()
same<Same<Json<"health", 200>, Awaited<ReturnType<MlClient["health"]>>>>()
same<Same<Json<"ready", 200>, Awaited<ReturnType<MlClient["ready"]>>>>()
same<Same<Json<"createMonitor", 201>, DriftAnswer<"createMonitor">>>()
same<Same<Json<"getMonitor", 200>, DriftAnswer<"getMonitor">>>()
same<Same<Json<"listMonitors", 200>["items"], DriftAnswer<"listMonitors">>>()
same<Same<Json<"checkMonitor", 200>, DriftAnswer<"check">>>()
same<Same<Json<"getMonitorFalseAlarms", 200>, DriftAnswer<"getFalseAlarms">>>()
same<Same<Json<"getDriftReports", 200>["items"], DriftAnswer<"getDriftReports">>>()
same<Same<Json<"createWebhook", 201>, Awaited<ReturnType<Webhooks["create"]>>>>()
same<Same<Json<"listWebhooks", 200>["items"], Awaited<ReturnType<Webhooks["list"]>>>>()
same<Same<Json<"listWebhookDeliveries", 200>["items"], Awaited<ReturnType<Webhooks["deliveries"]>>>>()

// Requests
same<Same<Body<"registerModel">, Parameters<Registry["registerModel"]>[0]>>()
same<Same<Body<"updateModel">, Parameters<Registry["updateModel"]>[1]>>()
same<Same<Body<"promoteModel">["status"], Parameters<Registry["promoteModel"]>[1]>>()
same<Same<Body<"createMonitor">, Parameters<Drift["createMonitor"]>[0]>>()
same<Same<Body<"createWebhook">, Parameters<Webhooks["create"]>[0]>>()
/** The SDK sends narrower baselines and observations than the bodies' envelopes (values are checked by the server). */
same<Parameters<Drift["setBaseline"]>[1] extends Body<"setBaseline"> ? true : false>()
same<{ values: Record<string, Array<number | string | null>> } extends Body<"recordObservations"> ? true : false>()
same<
  Same<
    NonNullable<operations["listModels"]["parameters"]["query"]>,
    NonNullable<Parameters<Registry["listModelsPage"]>[0]>
  >
>()

// Experiments
type Experiments = MlClient["experiments"]
type ExperimentAnswer<M extends keyof Experiments> = Experiments[M] extends (...args: any) => Promise<infer A> ? A
  : never
same<Same<Json<"getExperiment", 200>, ExperimentAnswer<"get">>>()
same<Same<Json<"createExperiment", 201>, ExperimentAnswer<"create">>>()
same<Same<Json<"getExperimentResults", 200>, ExperimentAnswer<"getExperimentResults">>>()
same<
  Same<
    Json<"getModelAssignments", 200>,
    ExperimentAnswer<"getModelAssignment"> | { readonly items: ExperimentAnswer<"getModelAssignments"> }
  >
>()
same<Same<Body<"createExperiment">, Parameters<Experiments["create"]>[0]>>()
same<Same<Body<"updateExperiment">, Parameters<Experiments["update"]>[1]>>()
same<Same<Body<"completeExperiment">, NonNullable<Parameters<Experiments["complete"]>[1]>>>()

// Pipelines
type Learner = MlClient["learner"]
type LearnerAnswer<M extends keyof Learner> = Learner[M] extends (...args: any) => Promise<infer A> ? A : never
same<Same<Json<"createPipeline", 201>, LearnerAnswer<"createPipeline">>>()
same<Same<Json<"getPipelineStatus", 200>, LearnerAnswer<"getPipelineStatus">>>()
same<Same<Json<"listUpdates", 200>["items"][number], LearnerAnswer<"rollback">>>()
same<Same<Json<"addSamples", 202>, LearnerAnswer<"addSamples">>>()
same<Same<Body<"createPipeline">, Parameters<Learner["createPipeline"]>[0]>>()
same<Same<Body<"addSamples">["samples"][number], Parameters<Learner["addSample"]>[1]>>()

// Errors: the problem body, and every code the document lists has an SDK error class
same<Same<components["schemas"]["Problem"], ProblemDetails>>()
type ValueOf<T> = T[keyof T]
type AnyResponse = { [Op in keyof operations]: ValueOf<operations[Op]["responses"]> }[keyof operations]
type CodeOf<R> = R extends { content: { "application/problem+json": infer P } } ?
  P extends { code: infer C } ? C : never
  : never
/** Every `code` the document lists is a tag of the contract, so errorClasses (keyed by every tag) has its class. */
same<[CodeOf<AnyResponse>] extends [ApiErrorTag] ? true : false>()
same<Same<keyof typeof errorClasses, ApiErrorTag>>()
