/**
 * /models/<name>/<id>: one version: its facts (artifact size and SHA-256, training, parameters,
 * metrics), its lineage (the parent chain up to the first version, online-learning updates included,
 * and its direct children), the audit history as a timeline, and the actions the key's role allows.
 */
import type { AuditEvent, Model } from "@org/ml-sdk"
import { Badge } from "../../ui/Badge.js"
import { formatBytes, formatCount, formatNumber, formatTime } from "../../ui/format.js"
import { Empty, Loaded } from "../../ui/States.js"
import { useResource } from "../../ui/useResource.js"
import { modelListHref, modelNameHref, modelVersionHref } from "./links.js"
import { VersionActions } from "./VersionActions.js"

/** How far up the parent chain the page walks (each step is one request). */
const maxAncestors = 25
const maxChildren = 50

interface Lineage {
  /** Oldest first, ending with the version's parent. */
  readonly ancestors: ReadonlyArray<Model>
  /** True when the chain goes further up than was fetched. */
  readonly truncated: boolean
  readonly children: ReadonlyArray<Model>
  readonly moreChildren: boolean
}

const Facts = ({ model }: { readonly model: Model }) => (
  <dl class="facts" data-testid="model-facts">
    <dt>Status</dt>
    <dd>
      <Badge value={model.status} />
    </dd>
    <dt>Algorithm</dt>
    <dd>{model.algorithm}</dd>
    <dt>Framework</dt>
    <dd>{model.framework}</dd>
    <dt>Description</dt>
    <dd>{model.description || <span class="muted">none</span>}</dd>
    <dt>Tags</dt>
    <dd>{model.tags.length ? model.tags.join(", ") : <span class="muted">none</span>}</dd>
    <dt>Artifact size</dt>
    <dd>
      {model.artifact
        ? `${formatBytes(model.artifact.sizeBytes)} (${formatCount(model.artifact.sizeBytes)} bytes)`
        : <span class="muted">no artifact uploaded</span>}
    </dd>
    <dt>Artifact SHA-256</dt>
    <dd class="mono" data-testid="artifact-sha256">{model.artifact?.sha256 ?? "—"}</dd>
    {model.artifact && (
      <>
        <dt>Uploaded</dt>
        <dd>{formatTime(model.artifact.uploadedAt)}</dd>
      </>
    )}
    <dt>Training data</dt>
    <dd>
      {model.training.dataset ?? "—"}
      {model.training.sampleCount !== undefined && ` (${formatCount(model.training.sampleCount)} samples)`}
    </dd>
    <dt>Registered</dt>
    <dd>
      {formatTime(model.createdAt)} by {model.createdBy}
      {model.onBehalfOf && ` for ${model.onBehalfOf}`}
    </dd>
    <dt>Last change</dt>
    <dd>
      {formatTime(model.updatedAt)} (revision {model.revision})
    </dd>
    <dt>Id</dt>
    <dd class="mono">{model.id}</dd>
  </dl>
)

const KeyValues = (
  { values, label, testId }: {
    readonly values: Readonly<Record<string, string | number | boolean>>
    readonly label: string
    readonly testId: string
  }
) => {
  const entries = Object.entries(values)
  if (entries.length === 0) return <Empty>None recorded.</Empty>
  return (
    <div class="table-wrap">
      <table aria-label={label} data-testid={testId}>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col" class="num">Value</th>
          </tr>
        </thead>
        <tbody>
          {entries.map(([key, value]) => (
            <tr key={key}>
              <th scope="row">{key}</th>
              <td class="num mono">{typeof value === "number" ? formatNumber(value, 6) : String(value)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

const VersionLink = ({ model, current }: { readonly model: Model; readonly current?: boolean }) => (
  <>
    {current ? <strong aria-current="page">{model.name} {model.version}</strong> : (
      <a href={modelVersionHref(model)}>
        {model.name} {model.version}
      </a>
    )} <Badge value={model.status} /> <span class="muted">{formatTime(model.createdAt)}</span>
  </>
)

const LineageView = ({ model, lineage }: { readonly model: Model; readonly lineage: Lineage }) => (
  <div data-testid="lineage">
    <h3>Parent chain</h3>
    {lineage.ancestors.length === 0
      ? <p class="muted">This is a first version: it has no parent.</p>
      : (
        <ol>
          {lineage.truncated && <li class="muted">… earlier versions not shown</li>}
          {lineage.ancestors.map((ancestor) => (
            <li key={ancestor.id}>
              <VersionLink model={ancestor} />
            </li>
          ))}
          <li>
            <VersionLink model={model} current />
          </li>
        </ol>
      )}
    <h3>Derived versions</h3>
    {lineage.children.length === 0 ? <p class="muted">No version names this one as its parent.</p> : (
      <ul>
        {lineage.children.map((child) => (
          <li key={child.id}>
            <VersionLink model={child} />
          </li>
        ))}
        {lineage.moreChildren && <li class="muted">… more not shown</li>}
      </ul>
    )}
  </div>
)

const describeEvent = (event: AuditEvent): string => {
  switch (event.action) {
    case "registered":
      return "Registered"
    case "artifact_uploaded":
      return "Artifact uploaded"
    case "promoted":
      return `Promoted from ${event.from ?? "?"} to ${event.to ?? "?"}`
    case "demoted":
      return `Demoted from ${event.from ?? "?"} to ${event.to ?? "?"}`
    case "archived":
      return `Archived (was ${event.from ?? "?"})`
    case "updated":
      return `Updated ${Object.keys(event.changes ?? {}).join(", ") || "metadata"}`
    case "tag_set":
    case "tag_deleted": {
      // The change is keyed `keyValueTags.<key>`, with the tag's old and new value.
      const [field, change] = Object.entries(event.changes ?? {})[0] ?? ["tag", { from: null, to: null }]
      const key = field.replace(/^keyValueTags\./, "")
      return event.action === "tag_set" ? `Tag ${key} set to ${String(change.to)}` : `Tag ${key} removed`
    }
    case "alias_set":
      return `Alias ${event.alias ?? "?"} set to this version`
    case "alias_deleted":
      return `Alias ${event.alias ?? "?"} removed from this version`
  }
}

const Timeline = ({ events }: { readonly events: ReadonlyArray<AuditEvent> }) =>
  events.length === 0 ? <Empty>No history recorded.</Empty> : (
    <ol class="timeline" data-testid="history">
      {events.map((event, i) => (
        <li key={i}>
          <time dateTime={event.at}>{formatTime(event.at)}</time> · <strong>{describeEvent(event)}</strong>{" "}
          <span class="muted">
            by {event.actor}
            {event.onBehalfOf && ` for ${event.onBehalfOf}`}
          </span>
          {event.reason && <div>Reason: {event.reason}</div>}
        </li>
      ))}
    </ol>
  )

export const ModelVersionPage = ({ name, id }: { readonly name: string; readonly id: string }) => {
  const [model, reloadModel] = useResource((client) => client.registry.getModel(id), [id])
  const [history, reloadHistory] = useResource((client) => client.registry.getHistory(id), [id])
  const [lineage] = useResource(async (client): Promise<Lineage> => {
    const start = await client.registry.getModel(id)
    const ancestors: Array<Model> = []
    const seen = new Set([start.id])
    let parentId = start.parentModelId
    while (parentId !== null && !seen.has(parentId) && ancestors.length < maxAncestors) {
      seen.add(parentId)
      const parent = await client.registry.getModel(parentId)
      ancestors.unshift(parent)
      parentId = parent.parentModelId
    }
    const children = await client.registry.listModelsPage({ parentModelId: id, limit: maxChildren })
    return {
      ancestors,
      truncated: parentId !== null && !seen.has(parentId),
      children: children.items,
      moreChildren: children.nextCursor !== null
    }
  }, [id])
  const reload = () => {
    reloadModel()
    reloadHistory()
  }

  return (
    <section>
      <p>
        <a href={modelListHref()}>Models</a> / <a href={modelNameHref(name)}>{name}</a>
      </p>
      <Loaded resource={model} label="Loading the model version">
        {(m) => (
          <>
            <h1>
              {m.name} {m.version}
            </h1>
            {m.name !== name && (
              <p class="muted">
                This version belongs to <a href={modelNameHref(m.name)}>{m.name}</a>.
              </p>
            )}
            <div class="version-layout">
              <div>
                <Facts model={m} />
                <h2>Metrics</h2>
                <KeyValues values={m.metrics} label="Metrics" testId="model-metrics" />
                <h2>Parameters</h2>
                <KeyValues values={m.parameters} label="Parameters" testId="model-parameters" />
              </div>
              <div>
                <h2>Lineage</h2>
                <Loaded resource={lineage} label="Loading lineage">
                  {(l) => <LineageView model={m} lineage={l} />}
                </Loaded>
                <h2>History</h2>
                <Loaded resource={history} label="Loading history">
                  {(events) => <Timeline events={events} />}
                </Loaded>
              </div>
            </div>
            <VersionActions model={m} onChanged={reload} />
          </>
        )}
      </Loaded>
    </section>
  )
}
