/**
 * @org/ml-api: the HTTP contract of ML Pipeline, built from the core's schemas. One endpoint
 * table per resource; the server mounts routes from it, /openapi.json is generated from it,
 * and the SDK, the CLI and the dashboard take their types from it.
 */
export * as Access from "./Access.js"
export * from "./Api.js"
export * as Drift from "./Drift.js"
export * from "./Endpoint.js"
export * from "./Errors.js"
export * as Experiments from "./Experiments.js"
export * from "./OpenApi.js"
export * as Operations from "./Operations.js"
export * from "./Permission.js"
export * as Pipelines from "./Pipelines.js"
export * from "./Problem.js"
export * as Registry from "./Registry.js"
export * as Sdk from "./Sdk.js"
