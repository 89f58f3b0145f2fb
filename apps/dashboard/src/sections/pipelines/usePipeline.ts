/**
 * A pipeline's status (polled, so counters and new updates appear) and its base model, whose name
 * the Models section's URLs need; a key that may not read models still sees the pipeline.
 */
import { useResource } from "../../ui/useResource.js"

const statusPollMs = 10_000

export const usePipeline = (id: string) => {
  const [status, reload] = useResource((client) => client.learner.getPipelineStatus(id), [id], {
    pollMs: statusPollMs
  })
  const baseModelId = status.kind === "ready" ? status.value.pipeline.baseModelId : undefined
  const [baseModel] = useResource(
    (client) => baseModelId === undefined ? Promise.resolve(undefined) : client.registry.getModel(baseModelId),
    [baseModelId]
  )
  const modelName = baseModel.kind === "ready" ? baseModel.value?.name : undefined
  return { status, reload, modelName, baseVersion: baseModel.kind === "ready" ? baseModel.value?.version : undefined }
}
