/**
 * /models: every version, filtered by name prefix, status, framework and tag, a page at a time. The
 * filters are the URL's query string (`q`, `status`, `framework`, `tag`, `after`, `limit`), so a
 * filtered page can be shared, reloaded and left with Back.
 */
import { useLocation } from "preact-iso"
import { useEffect, useState } from "preact/hooks"
import { Empty, Loaded } from "../../ui/States.js"
import { useResource } from "../../ui/useResource.js"
import { isModelStatus, modelStatuses } from "./lifecycle.js"
import { modelListHref } from "./links.js"
import { Pager, VersionTable } from "./VersionTable.js"

const pageSizes = ["50", "100", "200", "500"] as const
const defaultPageSize = "50"

interface Filters {
  readonly q: string
  readonly status: string
  readonly framework: string
  readonly tag: string
  readonly limit: string
}

const filtersFrom = (query: Readonly<Record<string, string>>): Filters => ({
  q: query["q"] ?? "",
  status: query["status"] ?? "",
  framework: query["framework"] ?? "",
  tag: query["tag"] ?? "",
  limit: pageSizes.includes(query["limit"] as typeof pageSizes[number]) ? query["limit"]! : defaultPageSize
})

const hrefOf = (filters: Filters, after?: string) =>
  modelListHref({
    q: filters.q.trim(),
    status: filters.status,
    framework: filters.framework.trim(),
    tag: filters.tag.trim(),
    limit: filters.limit === defaultPageSize ? undefined : filters.limit,
    after
  })

export const ModelList = () => {
  const { query, route } = useLocation()
  const applied = filtersFrom(query)
  const after = query["after"]
  const [draft, setDraft] = useState<Filters>(applied)
  // A new URL (Back, a link) resets the form to what is applied.
  useEffect(() => setDraft(applied), [applied.q, applied.status, applied.framework, applied.tag, applied.limit])

  const [page] = useResource(
    (client) =>
      client.registry.listModelsPage({
        ...(applied.q ? { namePrefix: applied.q } : {}),
        ...(isModelStatus(applied.status) ? { status: applied.status } : {}),
        ...(applied.framework ? { framework: applied.framework } : {}),
        ...(applied.tag ? { tag: applied.tag } : {}),
        ...(after ? { cursor: after } : {}),
        limit: Number(applied.limit)
      }),
    [applied.q, applied.status, applied.framework, applied.tag, applied.limit, after]
  )

  const apply = (next: Filters) => route(hrefOf(next))
  const field = (key: keyof Filters) => ({
    value: draft[key],
    onInput: (event: Event) => setDraft({ ...draft, [key]: (event.currentTarget as HTMLInputElement).value })
  })
  const filtered = applied.q || applied.status || applied.framework || applied.tag

  return (
    <section>
      <h1>Models</h1>
      <form
        class="toolbar"
        role="search"
        aria-label="Filter model versions"
        onSubmit={(event) => {
          event.preventDefault()
          apply(draft)
        }}
      >
        <div>
          <label for="model-q">Name starts with</label>
          <input id="model-q" name="q" type="search" autocomplete="off" {...field("q")} />
        </div>
        <div>
          <label for="model-status">Status</label>
          <select
            id="model-status"
            name="status"
            value={draft.status}
            onChange={(event) => apply({ ...draft, status: event.currentTarget.value })}
          >
            <option value="">Any</option>
            {modelStatuses.map((status) => <option key={status} value={status}>{status}</option>)}
          </select>
        </div>
        <div>
          <label for="model-framework">Framework</label>
          <input id="model-framework" name="framework" autocomplete="off" {...field("framework")} />
        </div>
        <div>
          <label for="model-tag">Tag</label>
          <input id="model-tag" name="tag" autocomplete="off" {...field("tag")} />
        </div>
        <div>
          <label for="model-limit">Per page</label>
          <select
            id="model-limit"
            name="limit"
            value={draft.limit}
            onChange={(event) => apply({ ...draft, limit: event.currentTarget.value })}
          >
            {pageSizes.map((size) => <option key={size} value={size}>{size}</option>)}
          </select>
        </div>
        <button type="submit">Apply</button>
        {filtered && <a href={modelListHref()}>Clear filters</a>}
      </form>
      <Loaded resource={page} label="Loading model versions">
        {({ items, nextCursor }) =>
          items.length === 0
            ? (
              <Empty>
                {filtered || after
                  ? "No model versions match these filters."
                  : "No models registered yet. Register one with the SDK, the CLI or POST /v1/models."}
              </Empty>
            )
            : (
              <>
                <VersionTable models={items} caption="Model versions, oldest first" />
                <Pager
                  shown={items.length}
                  onFirstPage={!after}
                  firstHref={hrefOf(applied)}
                  nextHref={nextCursor ? hrefOf(applied, nextCursor) : undefined}
                />
              </>
            )}
      </Loaded>
    </section>
  )
}
