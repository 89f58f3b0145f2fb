/**
 * Rollback (pipelines:write): serve an earlier version again, by default the live version's
 * parent. The result is recorded as a rollback record, which the history then shows.
 */
import type { PipelineStatus } from "@org/ml-sdk"
import { useState } from "preact/hooks"
import { ErrorMessage } from "../../ui/States.js"
import { useAction } from "../../ui/useResource.js"
import { rollbackTargets } from "./pipelineView.js"

export const RollbackForm = (
  { status, onDone }: { readonly status: PipelineStatus; readonly onDone: () => void }
) => {
  const [target, setTarget] = useState("")
  const [done, setDone] = useState<string | undefined>(undefined)
  const rollback = useAction(
    async (client, id: string, toModelId: string | undefined) => {
      const record = await client.learner.rollback(id, toModelId)
      setDone(record.modelId ?? undefined)
    },
    onDone
  )
  const targets = rollbackTargets(status)
  const { pipeline } = status
  return (
    <form
      class="inline rollback"
      aria-label="Roll back"
      onSubmit={(event) => {
        event.preventDefault()
        setDone(undefined)
        void rollback.run(pipeline.id, target === "" ? undefined : target)
      }}
    >
      <div>
        <label for="rollback-target">Serve again</label>
        <select id="rollback-target" value={target} onChange={(e) => setTarget(e.currentTarget.value)}>
          <option value="">the live version's parent</option>
          {targets.map((id) => (
            <option key={id} value={id}>
              {id}
              {id === pipeline.baseModelId ? " (base model)" : ""}
            </option>
          ))}
        </select>
      </div>
      <button type="submit" class="danger" disabled={rollback.pending}>
        {rollback.pending ? "Rolling back…" : "Roll back"}
      </button>
      {done !== undefined && <p role="status">Rolled back: now serving {done}.</p>}
      {rollback.error !== undefined && <ErrorMessage error={rollback.error} title="Rollback failed" />}
    </form>
  )
}
