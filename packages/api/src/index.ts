/**
 * @org/ml-api: the HTTP contract of ML Pipeline, built from the core's schemas. One endpoint
 * table per resource; the server mounts routes from it, /openapi.json is generated from it,
 * and the SDK, the CLI and the dashboard take their types from it.
 */
export * from "./Endpoint.js"
export * from "./Errors.js"
export * from "./Permission.js"
