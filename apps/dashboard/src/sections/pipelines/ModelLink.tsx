/** A registry version named by id, linked to its page in Models when the model's name is known. */
import { modelHref } from "./pipelineView.js"

/** ULIDs share their leading (time) digits within a pipeline; the last 8 tell versions apart. */
const shortId = (id: string) => (id.length > 12 ? `…${id.slice(-8)}` : id)

export const ModelLink = (
  { id, modelName, label, short = false }: {
    readonly id: string | null
    readonly modelName: string | undefined
    readonly label?: string
    readonly short?: boolean
  }
) => {
  if (id === null) return <span class="muted">—</span>
  const text = label ?? (short ? shortId(id) : id)
  return modelName === undefined
    ? <span class="mono model-link" title={id}>{text}</span>
    : <a class="mono model-link" href={modelHref(modelName, id)} title={id}>{text}</a>
}
