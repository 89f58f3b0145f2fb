/**
 * Every experiment, filtered by status through the URL (`?status=running`), so a filtered list is
 * a link that survives reloads and the back button. The server returns all experiments; the
 * filter and the per-status counts are computed here.
 */
import type { Experiment, ExperimentStatus } from "@org/ml-sdk"
import { useLocation } from "preact-iso"
import { useMemo } from "preact/hooks"
import "./experiments.css"
import { Badge } from "../../ui/Badge.js"
import { formatTime } from "../../ui/format.js"
import { Empty, Loaded } from "../../ui/States.js"
import { useResource } from "../../ui/useResource.js"
import { ScrollingTable } from "./ScrollingTable.js"

export const experimentStatuses: ReadonlyArray<ExperimentStatus> = ["draft", "running", "paused", "completed"]

const isStatus = (value: string | undefined): value is ExperimentStatus =>
  experimentStatuses.includes(value as ExperimentStatus)

const listPollMs = 30_000

export const ExperimentList = () => {
  const { query } = useLocation()
  const status = isStatus(query["status"]) ? query["status"] : undefined
  const [experiments] = useResource((client) => client.experiments.list(), [], { pollMs: listPollMs })
  return (
    <section>
      <h1>Experiments</h1>
      <Loaded resource={experiments} label="Loading experiments">
        {(items) => <ExperimentTable items={items} status={status} />}
      </Loaded>
    </section>
  )
}

const ExperimentTable = (
  { items, status }: { readonly items: ReadonlyArray<Experiment>; readonly status: ExperimentStatus | undefined }
) => {
  const counts = useMemo(() => {
    const byStatus = new Map<string, number>()
    for (const e of items) byStatus.set(e.status, (byStatus.get(e.status) ?? 0) + 1)
    return byStatus
  }, [items])
  // Newest first: the experiment someone just created or started is the one they look for.
  const shown = useMemo(
    () =>
      items.filter((e) => status === undefined || e.status === status)
        .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0)),
    [items, status]
  )
  return (
    <>
      <nav aria-label="Filter by status" class="exp-filters">
        <ul>
          <li>
            <a href="/experiments" aria-current={status === undefined ? "page" : undefined}>All ({items.length})</a>
          </li>
          {experimentStatuses.map((s) => (
            <li key={s}>
              <a href={`/experiments?status=${s}`} aria-current={status === s ? "page" : undefined}>
                {s} ({counts.get(s) ?? 0})
              </a>
            </li>
          ))}
        </ul>
      </nav>
      {shown.length === 0
        ? (
          <Empty>
            {items.length === 0
              ? "No experiments yet. Create one with the SDK, the CLI or POST /v1/experiments."
              : `No ${status} experiments.`}
          </Empty>
        )
        : (
          <ScrollingTable label="Experiments">
            <table aria-label={status === undefined ? "All experiments" : `Experiments with status ${status}`}>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Status</th>
                  <th scope="col">Mode</th>
                  <th scope="col">Target metric</th>
                  <th scope="col" class="num">Variants</th>
                  <th scope="col">Started</th>
                  <th scope="col">Decision</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((e) => (
                  <tr key={e.id}>
                    <td>
                      <a href={`/experiments/${encodeURIComponent(e.id)}`}>{e.name}</a>
                      <div class="muted mono">{e.id}</div>
                    </td>
                    <td>
                      <Badge value={e.status} />
                    </td>
                    <td>{e.mode === "bandit" ? "bandit" : "A/B"}</td>
                    <td class="mono">{e.targetMetric}</td>
                    <td class="num">{e.variants.length}</td>
                    <td>{formatTime(e.startedAt)}</td>
                    <td>{e.decision ? e.decision.outcome.replaceAll("_", " ") : "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollingTable>
        )}
    </>
  )
}
