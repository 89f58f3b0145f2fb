export * as ArtifactUrl from "./ArtifactUrl.js"
export * as S3ArtifactStore from "./S3ArtifactStore.js"
export * as S3Client from "./S3Client.js"
