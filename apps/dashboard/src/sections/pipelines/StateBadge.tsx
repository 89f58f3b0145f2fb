/** A pipeline's state as a badge: the word says it, the colour repeats it. */
import type { Pipeline } from "@org/ml-sdk"
import { pipelineState, stateTone } from "./pipelineView.js"

export const StateBadge = ({ pipeline }: { readonly pipeline: Pipeline }) => {
  const state = pipelineState(pipeline)
  return <span class={`badge ${stateTone[state]}`}>{state}</span>
}
