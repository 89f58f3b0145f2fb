/**
 * The update and rollback records, newest first: outcome, trigger, samples, the holdout metric
 * before and after, the version published or served, and the reason. The newest 50 are shown
 * first (a pipeline may have thousands); the rest on request.
 */
import type { Pipeline, UpdateRecord } from "@org/ml-sdk"
import { useState } from "preact/hooks"
import { Badge } from "../../ui/Badge.js"
import { formatCount, formatNumber, formatTime } from "../../ui/format.js"
import { Empty } from "../../ui/States.js"
import { ModelLink } from "./ModelLink.js"
import { metricLabel, recordOutcome, updateHref } from "./pipelineView.js"

const pageSize = 50

export const UpdateHistory = (
  { pipeline, updates, modelName }: {
    readonly pipeline: Pipeline
    readonly updates: ReadonlyArray<UpdateRecord>
    readonly modelName: string | undefined
  }
) => {
  const [shown, setShown] = useState(pageSize)
  if (updates.length === 0) {
    return <Empty>No updates yet: the {pipeline.strategy} strategy updates once enough samples arrive.</Empty>
  }
  const newestFirst = updates.map((record, index) => ({ record, number: index + 1 })).reverse()
  const metric = metricLabel[pipeline.validationMetric]
  return (
    <>
      <div class="table-wrap">
        <table data-testid="update-history">
          <caption class="muted">
            {updates.length} record{updates.length === 1 ? "" : "s"}, newest first; metrics are holdout {metric}
          </caption>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Time</th>
              <th scope="col">Outcome</th>
              <th scope="col">Trigger</th>
              <th scope="col" class="num">Samples</th>
              <th scope="col" class="num">Before</th>
              <th scope="col" class="num">After</th>
              <th scope="col">Version</th>
              <th scope="col">Reason</th>
            </tr>
          </thead>
          <tbody>
            {newestFirst.slice(0, shown).map(({ number, record }) => (
              <tr key={record.id}>
                <td class="num">{number}</td>
                <td>
                  <a href={updateHref(pipeline.id, record.id)}>
                    <time dateTime={record.at}>{formatTime(record.at)}</time>
                  </a>
                </td>
                <td>
                  <Badge value={recordOutcome(record)} />
                </td>
                <td>{record.trigger}</td>
                <td class="num">{formatCount(record.samples)}</td>
                <td class="num">{formatNumber(record.metricBefore, 4)}</td>
                <td class="num">{formatNumber(record.metricAfter, 4)}</td>
                <td>
                  <ModelLink id={record.modelId} modelName={modelName} short />
                </td>
                <td>{record.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {shown < newestFirst.length && (
        <button
          type="button"
          class="secondary"
          onClick={() => setShown((n) => n + pageSize)}
        >
          Show {Math.min(pageSize, newestFirst.length - shown)} older records
        </button>
      )}
    </>
  )
}
