/** A page of model versions as a table, and the cursor pager under it (the API pages by id, oldest first). */
import type { Model } from "@org/ml-sdk"
import { Badge } from "../../ui/Badge.js"
import { formatBytes, formatNumber, formatTime } from "../../ui/format.js"
import { modelNameHref, modelVersionHref } from "./links.js"

/** At most this many metrics per row; the version page lists all of them. */
const metricsShown = 3

const MetricsSummary = ({ metrics }: { readonly metrics: Model["metrics"] }) => {
  const entries = Object.entries(metrics)
  if (entries.length === 0) return <span class="muted">—</span>
  return (
    <span>
      {entries.slice(0, metricsShown).map(([name, value], i) => (
        <span key={name}>
          {i > 0 && ", "}
          {name} <span class="mono">{formatNumber(value)}</span>
        </span>
      ))}
      {entries.length > metricsShown && <span class="muted">, +{entries.length - metricsShown}</span>}
    </span>
  )
}

export const VersionTable = (
  { models, caption, showName = true }: {
    readonly models: ReadonlyArray<Model>
    readonly caption: string
    readonly showName?: boolean
  }
) => (
  <div class="table-wrap">
    <table data-testid="model-versions" aria-label={caption}>
      <thead>
        <tr>
          {showName && <th scope="col">Name</th>}
          <th scope="col">Version</th>
          <th scope="col">Status</th>
          <th scope="col">Framework</th>
          <th scope="col">Metrics</th>
          <th scope="col" class="num">Artifact</th>
          <th scope="col">Tags</th>
          <th scope="col">Created</th>
        </tr>
      </thead>
      <tbody>
        {models.map((model) => (
          <tr key={model.id}>
            {showName && (
              <td>
                <a href={modelNameHref(model.name)}>{model.name}</a>
              </td>
            )}
            <td>
              <a href={modelVersionHref(model)}>{model.version}</a>
            </td>
            <td>
              <Badge value={model.status} />
            </td>
            <td>{model.framework}</td>
            <td>
              <MetricsSummary metrics={model.metrics} />
            </td>
            <td class="num">
              {model.artifact ? formatBytes(model.artifact.sizeBytes) : <span class="muted">none</span>}
            </td>
            <td>{model.tags.length ? model.tags.join(", ") : <span class="muted">—</span>}</td>
            <td>{formatTime(model.createdAt)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  </div>
)

/**
 * Cursor paging: "Next" carries the page's last id in the URL (`after`); "First page" drops it. Going
 * back a page is the browser's Back, since each page is its own URL.
 */
export const Pager = (
  { nextHref, firstHref, onFirstPage, shown }: {
    readonly nextHref: string | undefined
    readonly firstHref: string
    readonly onFirstPage: boolean
    readonly shown: number
  }
) => (
  <nav class="toolbar" aria-label="Pages">
    <span class="muted" role="status">
      {shown} version{shown === 1 ? "" : "s"} on this page{onFirstPage ? "" : " (not the first page)"}
    </span>
    {!onFirstPage && <a href={firstHref}>First page</a>}
    {nextHref && <a href={nextHref} rel="next">Next page</a>}
  </nav>
)
