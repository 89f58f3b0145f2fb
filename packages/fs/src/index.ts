export * as FsArtifactStore from "./FsArtifactStore.js"
export * as FsModelStore from "./FsModelStore.js"
export { layer } from "./FsLayer.js"
