export { createClient, type ArtifactBody, type ClientOptions, type DownloadedArtifact, type MlClient, type UploadOptions } from "./Client.js"
export * from "./Errors.js"
export { Sha256 } from "./Sha256.js"
export type { AuditEvent, ListModelsQuery, Model, ModelPage, ModelStatus, RegisterModelInput, UpdateModelInput } from "@org/ml-core"
