/** Everything the registry stores, on the filesystem under one data directory. */
import type { ArtifactStore, ModelStore, StorageError } from "@org/ml-core"
import { Layer } from "effect"
import * as FsArtifactStore from "./FsArtifactStore.js"
import * as FsModelStore from "./FsModelStore.js"

export const layer = (
  options: FsArtifactStore.FsArtifactStoreOptions
): Layer.Layer<ModelStore.ModelStore | ArtifactStore.ArtifactStore, StorageError> =>
  Layer.merge(FsModelStore.layer(options), FsArtifactStore.layer(options))
