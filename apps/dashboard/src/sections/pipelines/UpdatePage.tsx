/** One update or rollback record: what started it, the decision and why, the metrics and the versions. */
import { useEffect } from "preact/hooks"
import { Badge } from "../../ui/Badge.js"
import { formatCount, formatNumber, formatPercent, formatTime } from "../../ui/format.js"
import { Empty, Loaded } from "../../ui/States.js"
import { ModelLink } from "./ModelLink.js"
import { lowerIsBetter, metricLabel, pipelineHref, recordOutcome } from "./pipelineView.js"
import { usePipeline } from "./usePipeline.js"

export const UpdatePage = ({ id, updateId }: { readonly id: string; readonly updateId: string }) => {
  const { modelName, status } = usePipeline(id)
  useEffect(() => {
    document.title = `${updateId} · ${id} · Pipelines · ML Pipeline`
  }, [id, updateId])
  return (
    <section>
      <p>
        <a href={pipelineHref(id)}>← Pipeline {id}</a>
      </p>
      <Loaded resource={status} label="Loading the update record">
        {(s) => {
          const index = s.updates.findIndex((u) => u.id === updateId)
          const record = s.updates[index]
          if (record === undefined) {
            return (
              <>
                <h1>Update not found</h1>
                <Empty>
                  Pipeline {id} has no record <span class="mono">{updateId}</span>.
                </Empty>
              </>
            )
          }
          const metric = metricLabel[s.pipeline.validationMetric]
          const change = record.metricBefore !== null && record.metricAfter !== null
            ? record.metricAfter - record.metricBefore
            : null
          const improved = change === null
            ? undefined
            : lowerIsBetter(s.pipeline.validationMetric)
            ? change <= 0
            : change >= 0
          return (
            <>
              <h1>
                {record.kind === "rollback" ? "Rollback" : "Update"} {index + 1} of {s.pipeline.name}{" "}
                <Badge value={recordOutcome(record)} />
              </h1>
              <dl class="facts" data-testid="update-record">
                <dt>Record</dt>
                <dd class="mono">{record.id}</dd>
                <dt>Time</dt>
                <dd>{formatTime(record.at)}</dd>
                <dt>Trigger</dt>
                <dd>{record.trigger}</dd>
                <dt>Reason</dt>
                <dd>{record.reason}</dd>
                <dt>Samples trained on</dt>
                <dd>{formatCount(record.samples)}</dd>
                <dt>Holdout {metric}, live model</dt>
                <dd>{formatNumber(record.metricBefore, 6)}</dd>
                <dt>Holdout {metric}, candidate</dt>
                <dd>{formatNumber(record.metricAfter, 6)}</dd>
                {change !== null && (
                  <>
                    <dt>Change</dt>
                    <dd>
                      {change > 0 ? "+" : ""}
                      {formatNumber(change, 4)} ({improved ? "better or equal" : "worse"})
                    </dd>
                  </>
                )}
                <dt>{record.kind === "rollback" ? "Served again" : "Published"}</dt>
                <dd>
                  <ModelLink id={record.modelId} modelName={modelName} />
                </dd>
                <dt>Served before</dt>
                <dd>
                  <ModelLink id={record.previousModelId} modelName={modelName} />
                </dd>
                <dt>Progressive metrics then</dt>
                <dd>
                  {record.progressive === undefined
                    ? <span class="muted">not recorded (a record from an earlier release)</span>
                    : s.pipeline.kind === "logistic"
                    ? `accuracy ${formatPercent(record.progressive.accuracy)}, log loss ${
                      formatNumber(record.progressive.logLoss, 4)
                    } over ${formatCount(record.progressive.window)} labels`
                    : `RMSE ${formatNumber(record.progressive.rmse, 4)} over ${
                      formatCount(record.progressive.window)
                    } labels`}
                </dd>
              </dl>
            </>
          )
        }}
      </Loaded>
    </section>
  )
}
