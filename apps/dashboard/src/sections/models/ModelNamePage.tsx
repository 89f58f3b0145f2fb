/**
 * /models/<name>: the production version now, "which version was in production at <time>" (the
 * instant is the URL's `at`, in UTC), and the name's versions a page at a time, filterable by status.
 */
import type { Model } from "@org/ml-sdk"
import { useLocation } from "preact-iso"
import { useEffect, useState } from "preact/hooks"
import { Badge } from "../../ui/Badge.js"
import { formatTime } from "../../ui/format.js"
import { Empty, ErrorMessage, Loaded, Loading } from "../../ui/States.js"
import { errorStatus, type Resource, useResource } from "../../ui/useResource.js"
import { isModelStatus, modelStatuses } from "./lifecycle.js"
import { modelListHref, modelNameHref, modelVersionHref } from "./links.js"
import { Pager, VersionTable } from "./VersionTable.js"

const pageSize = 50

/** `getProduction` answers 404 when no version was in production: that is an answer, not an error. */
const productionAt = (resource: Resource<Model | null>, when: string) => {
  if (resource.kind === "loading") return <Loading label="Looking up the production version" />
  if (resource.kind === "error") return <ErrorMessage error={resource.error} />
  const model = resource.value
  return (
    <p data-testid="production-answer">
      {model === null
        ? `No version was in production ${when}.`
        : (
          <>
            In production {when}: <a href={modelVersionHref(model)}>{model.version}</a> <Badge value={model.status} />
            {" "}
            <span class="muted">(registered {formatTime(model.createdAt)})</span>
          </>
        )}
    </p>
  )
}

function orNullWhenMissing<A>(promise: Promise<A>): Promise<A | null> {
  return promise.catch((error: unknown) => {
    if (errorStatus(error) === 404) return null
    throw error
  })
}

/** The `datetime-local` value (read as UTC) of an ISO instant, and back. */
const toInputValue = (iso: string) => iso.replace(/(\.\d+)?Z$/, "").slice(0, 19)
const fromInputValue = (value: string): string | undefined => {
  if (!value) return undefined
  const date = new Date(`${value.length === 16 ? `${value}:00` : value}Z`)
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString()
}

export const ModelNamePage = ({ name }: { readonly name: string }) => {
  const { query, route } = useLocation()
  const at = query["at"]
  const status = isModelStatus(query["status"]) ? query["status"] : undefined
  const after = query["after"]
  const [atInput, setAtInput] = useState(at ? toInputValue(at) : "")
  useEffect(() => setAtInput(at ? toInputValue(at) : ""), [at])

  const [current] = useResource((client) => orNullWhenMissing(client.registry.getProduction(name)), [name])
  const [past] = useResource(
    (client) => at ? orNullWhenMissing(client.registry.getProduction(name, at)) : Promise.resolve(null),
    [name, at]
  )
  const [versions] = useResource(
    (client) =>
      client.registry.listModelsPage({
        name,
        ...(status ? { status } : {}),
        ...(after ? { cursor: after } : {}),
        limit: pageSize
      }),
    [name, status, after]
  )
  const href = (changes: Readonly<Record<string, string | undefined>>) =>
    modelNameHref(name, { at, status, ...changes })

  return (
    <section>
      <p>
        <a href={modelListHref()}>Models</a> / {name}
      </p>
      <h1>{name}</h1>
      <h2>Production</h2>
      {productionAt(current, "now")}
      <form
        class="inline"
        aria-label="Production version at a time"
        onSubmit={(event) => {
          event.preventDefault()
          route(href({ at: fromInputValue(atInput), after }))
        }}
      >
        <div>
          <label for="production-at">Time (UTC)</label>
          <input
            id="production-at"
            name="at"
            type="datetime-local"
            step="1"
            required
            value={atInput}
            onInput={(event) => setAtInput(event.currentTarget.value)}
          />
        </div>
        <button type="submit">Show version in production then</button>
      </form>
      {at && productionAt(past, `at ${formatTime(at)}`)}

      <h2>Versions</h2>
      <div class="toolbar">
        <div>
          <label for="name-status">Status</label>
          <select
            id="name-status"
            value={status ?? ""}
            onChange={(event) => route(href({ status: event.currentTarget.value || undefined, after: undefined }))}
          >
            <option value="">Any</option>
            {modelStatuses.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </div>
      </div>
      <Loaded resource={versions} label="Loading versions">
        {({ items, nextCursor }) =>
          items.length === 0
            ? <Empty>{status || after ? "No versions match." : `No versions of ${name} are registered.`}</Empty>
            : (
              <>
                <VersionTable models={items} caption={`Versions of ${name}, oldest first`} showName={false} />
                <Pager
                  shown={items.length}
                  onFirstPage={!after}
                  firstHref={href({ after: undefined })}
                  nextHref={nextCursor ? href({ after: nextCursor }) : undefined}
                />
              </>
            )}
      </Loaded>
    </section>
  )
}
