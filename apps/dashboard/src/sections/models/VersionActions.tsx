/**
 * What a signed-in role may do to a version: promote it one lifecycle step with a reason (to
 * production only with models:promote-production), archive it (the same permission), and edit its
 * description and tags (models:write). Forms a role may not use are not shown; the server checks
 * every request anyway, and its refusal is shown beside the form that caused it.
 */
import type { Model, ModelStatus } from "@org/ml-sdk"
import { useEffect, useState } from "preact/hooks"
import { useSession } from "../../shell/Session.js"
import { ErrorMessage } from "../../ui/States.js"
import { useAction } from "../../ui/useResource.js"
import { canArchive, promotionTargets } from "./lifecycle.js"

const reasonLimit = 1024
const descriptionLimit = 4096

const PromoteForm = (
  { model, targets, onChanged }: {
    readonly model: Model
    readonly targets: ReadonlyArray<ModelStatus>
    readonly onChanged: () => void
  }
) => {
  const [target, setTarget] = useState<ModelStatus>(targets[0]!)
  const [reason, setReason] = useState("")
  const promote = useAction(
    (client, status: ModelStatus, why: string) =>
      client.registry.promoteModel(model.id, status, why ? { reason: why } : {}),
    onChanged
  )
  useEffect(() => setTarget(targets[0]!), [targets.join()])
  return (
    <form
      class="inline"
      aria-label="Promote"
      onSubmit={async (event) => {
        event.preventDefault()
        if (await promote.run(target, reason.trim())) setReason("")
      }}
    >
      <div>
        <label for="promote-to">Promote to</label>
        <select id="promote-to" value={target} onChange={(e) => setTarget(e.currentTarget.value as ModelStatus)}>
          {targets.map((t) => <option key={t} value={t}>{t}</option>)}
        </select>
      </div>
      <div>
        <label for="promote-reason">Reason</label>
        <input
          id="promote-reason"
          maxLength={reasonLimit}
          size={32}
          value={reason}
          onInput={(e) => setReason(e.currentTarget.value)}
        />
      </div>
      <button type="submit" disabled={promote.pending}>{promote.pending ? "Promoting…" : "Promote"}</button>
      {promote.error !== undefined && <ErrorMessage error={promote.error} title="Not promoted" />}
    </form>
  )
}

const ArchiveForm = ({ model, onChanged }: { readonly model: Model; readonly onChanged: () => void }) => {
  const [reason, setReason] = useState("")
  const archive = useAction(
    (client, why: string) => client.registry.promoteModel(model.id, "archived", why ? { reason: why } : {}),
    onChanged
  )
  return (
    <form
      class="inline"
      aria-label="Archive"
      onSubmit={(event) => {
        event.preventDefault()
        void archive.run(reason.trim())
      }}
    >
      <div>
        <label for="archive-reason">Reason for archiving</label>
        <input
          id="archive-reason"
          maxLength={reasonLimit}
          size={32}
          value={reason}
          onInput={(e) => setReason(e.currentTarget.value)}
        />
      </div>
      <button type="submit" class="danger" disabled={archive.pending}>
        {archive.pending ? "Archiving…" : "Archive"}
      </button>
      {archive.error !== undefined && <ErrorMessage error={archive.error} title="Not archived" />}
    </form>
  )
}

/** Tags are typed comma-separated; blanks and repeats are dropped. */
const parseTags = (text: string): Array<string> => [
  ...new Set(text.split(",").map((tag) => tag.trim()).filter((tag) => tag.length > 0))
]

const EditForm = ({ model, onChanged }: { readonly model: Model; readonly onChanged: () => void }) => {
  const [description, setDescription] = useState(model.description)
  const [tags, setTags] = useState(model.tags.join(", "))
  const [saved, setSaved] = useState(false)
  useEffect(() => {
    setDescription(model.description)
    setTags(model.tags.join(", "))
  }, [model.revision])
  const save = useAction(
    (client, patch: { description: string; tags: Array<string> }) => client.registry.updateModel(model.id, patch),
    onChanged
  )
  return (
    <form
      class="edit-model"
      aria-label="Edit description and tags"
      onSubmit={async (event) => {
        event.preventDefault()
        setSaved(await save.run({ description, tags: parseTags(tags) }))
      }}
    >
      <div>
        <label for="edit-description">Description</label>
        <textarea
          id="edit-description"
          rows={3}
          cols={60}
          maxLength={descriptionLimit}
          value={description}
          onInput={(e) => {
            setSaved(false)
            setDescription(e.currentTarget.value)
          }}
        />
      </div>
      <div>
        <label for="edit-tags">Tags (comma-separated)</label>
        <input
          id="edit-tags"
          size={40}
          value={tags}
          onInput={(e) => {
            setSaved(false)
            setTags(e.currentTarget.value)
          }}
        />
      </div>
      <p>
        <button type="submit" disabled={save.pending}>{save.pending ? "Saving…" : "Save"}</button>{" "}
        {saved && <span role="status">Saved.</span>}
      </p>
      {save.error !== undefined && <ErrorMessage error={save.error} title="Not saved" />}
    </form>
  )
}

export const VersionActions = ({ model, onChanged }: { readonly model: Model; readonly onChanged: () => void }) => {
  const { can } = useSession()
  const targets = can("models:promote") ? promotionTargets(model.status, can("models:promote-production")) : []
  const mayArchive = can("models:promote-production") && canArchive(model.status)
  const mayEdit = can("models:write")
  if (targets.length === 0 && !mayArchive && !mayEdit) return null
  return (
    <div data-testid="model-actions">
      <h2>Actions</h2>
      {targets.length > 0 && <PromoteForm model={model} targets={targets} onChanged={onChanged} />}
      {mayArchive && <ArchiveForm model={model} onChanged={onChanged} />}
      {mayEdit && <EditForm model={model} onChanged={onChanged} />}
    </div>
  )
}
