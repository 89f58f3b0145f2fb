/**
 * Variants name models by id; people know them by name and version. Each distinct model is read
 * from the registry once per experiment page; a model that cannot be read keeps its id.
 */
import type { MlClient } from "@org/ml-sdk"

export interface ModelLabel {
  readonly name: string
  readonly version: string
  readonly status: string
}

export type ModelLabels = ReadonlyMap<string, ModelLabel>

/** Labels of `modelIds`, reading from the registry (in parallel) only those `cache` does not hold. */
export const loadModelLabels = async (
  client: MlClient,
  modelIds: ReadonlyArray<string>,
  cache: Map<string, ModelLabel>
): Promise<ModelLabels> => {
  const missing = [...new Set(modelIds)].filter((id) => !cache.has(id))
  const settled = await Promise.allSettled(missing.map((id) => client.registry.getModel(id)))
  settled.forEach((result, i) => {
    if (result.status === "fulfilled") {
      const { name, status, version } = result.value
      cache.set(missing[i]!, { name, version, status })
    }
  })
  return new Map(modelIds.flatMap((id) => {
    const label = cache.get(id)
    return label ? [[id, label] as const] : []
  }))
}

/** "ranker v2" for a known model, the id otherwise. */
export const modelLabel = (labels: ModelLabels | undefined, modelId: string): string => {
  const label = labels?.get(modelId)
  if (!label) return modelId
  return `${label.name} ${/^v/i.test(label.version) ? label.version : `v${label.version}`}`
}
