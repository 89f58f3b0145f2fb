/**
 * One pipeline: its state and settings, sample counters, the progressive metrics now and over
 * time, the holdout comparison of every update, the update history, and rollback for keys that
 * may change pipelines.
 */
import type { PipelineStatus } from "@org/ml-sdk"
import { useEffect } from "preact/hooks"
import { useSession } from "../../shell/Session.js"
import { formatCount, formatNumber, formatPercent, formatTime } from "../../ui/format.js"
import { Loaded } from "../../ui/States.js"
import { ModelLink } from "./ModelLink.js"
import { HoldoutChart, ProgressiveChart } from "./PipelineCharts.js"
import { metricLabel, pipelineListHref, progressiveKeys, strategyRule } from "./pipelineView.js"
import { RollbackForm } from "./RollbackForm.js"
import { StateBadge } from "./StateBadge.js"
import { UpdateHistory } from "./UpdateHistory.js"
import { usePipeline } from "./usePipeline.js"

const Counters = ({ status }: { readonly status: PipelineStatus }) => {
  const { counters, pipeline } = status
  const cards: ReadonlyArray<readonly [string, number, string]> = [
    ["Received", counters.received, "samples sent, duplicates included"],
    ["Duplicates", counters.duplicates, "ignored by sampleId"],
    ["Dropped", counters.dropped, `oldest beyond the buffer of ${formatCount(pipeline.maxBufferSize)}`],
    ["Processed", counters.processed, "consumed by updates"],
    ["Buffered", counters.buffered, "waiting for the next update"],
    ["Accepted updates", pipeline.acceptedUpdates, "published as registry versions"],
    ["Rejected updates", pipeline.rejectedUpdates, "worse than the live model on holdout"]
  ]
  return (
    <dl class="cards pipeline-counters" data-testid="counters">
      {cards.map(([label, value, hint]) => (
        <div class="card" key={label}>
          <dt>{label}</dt>
          <dd class="counter">{formatCount(value)}</dd>
          <dd class="muted">{hint}</dd>
        </div>
      ))}
    </dl>
  )
}

const Progressive = ({ status }: { readonly status: PipelineStatus }) => {
  const { pipeline, progressive } = status
  const now = new Date()
  return (
    <>
      <p>
        The live model's predictions scored against labels it had not seen, over the last{" "}
        {formatCount(progressive.window)} labelled samples: {pipeline.kind === "logistic"
          ? (
            <>
              accuracy{" "}
              <strong data-testid="progressive-accuracy-now">{formatPercent(progressive.accuracy)}</strong>, log loss
              {" "}
              <strong data-testid="progressive-logLoss-now">{formatNumber(progressive.logLoss, 4)}</strong>.
            </>
          )
          : (
            <>
              RMSE <strong data-testid="progressive-rmse-now">{formatNumber(progressive.rmse, 4)}</strong>.
            </>
          )} <span class="muted">Earlier points are the values each update and rollback record saw.</span>
      </p>
      {progressiveKeys(pipeline).map(({ key, label }) => (
        <ProgressiveChart key={key} status={status} metric={key} label={label} now={now} />
      ))}
    </>
  )
}

const Settings = (
  { status, modelName, baseVersion }: {
    readonly status: PipelineStatus
    readonly modelName: string | undefined
    readonly baseVersion: string | undefined
  }
) => {
  const p = status.pipeline
  return (
    <dl class="facts">
      <dt>Strategy</dt>
      <dd>
        <strong>{p.strategy}</strong>: updates {strategyRule(p)}
      </dd>
      <dt>Model</dt>
      <dd>
        {p.kind === "logistic" ? "classifier (logistic)" : "regressor (linear)"}
        {modelName !== undefined && <>, {modelName}</>}
      </dd>
      <dt>Live version</dt>
      <dd>
        <ModelLink id={p.liveModelId} modelName={modelName} />
      </dd>
      <dt>Base version</dt>
      <dd>
        <ModelLink id={p.baseModelId} modelName={modelName} />
        {baseVersion !== undefined && <span class="muted">{` (${baseVersion})`}</span>}
      </dd>
      <dt>Judged by</dt>
      <dd>
        holdout {metricLabel[p.validationMetric]} on {formatPercent(p.holdoutShare, 0)}{" "}
        of samples; a candidate worse by more than {formatNumber(p.degradationTolerance)} is rejected
      </dd>
      <dt>Buffer</dt>
      <dd>
        at most {formatCount(p.maxBufferSize)} samples; at least {formatCount(p.minSamples)} per update
      </dd>
      <dt>Drift monitor</dt>
      <dd>
        {p.monitorId === null
          ? <span class="muted">none</span>
          : <a href={`/drift/${encodeURIComponent(p.monitorId)}`}>{p.monitorId}</a>}
        {p.driftSignal && " (an alert awaits the next update)"}
      </dd>
      <dt>Last update</dt>
      <dd>{formatTime(p.lastUpdateAt)}</dd>
      {p.lastError !== null && (
        <>
          <dt>Last error</dt>
          <dd>
            {p.lastError}; retry {p.retryCount} at {formatTime(p.nextRetryAt)}
          </dd>
        </>
      )}
      <dt>Created</dt>
      <dd>{formatTime(p.createdAt)}</dd>
    </dl>
  )
}

export const PipelinePage = ({ id }: { readonly id: string }) => {
  const { can } = useSession()
  const { baseVersion, modelName, reload, status } = usePipeline(id)
  useEffect(() => {
    document.title = `${id} · Pipelines · ML Pipeline`
  }, [id])
  return (
    <section>
      <p>
        <a href={pipelineListHref}>← Pipelines</a>
      </p>
      <Loaded resource={status} label="Loading the pipeline">
        {(s) => (
          <>
            <h1>
              {s.pipeline.name} <StateBadge pipeline={s.pipeline} />
            </h1>
            <p class="muted mono">{s.pipeline.id}</p>
            <Settings status={s} modelName={modelName} baseVersion={baseVersion} />
            <h2>Samples and updates</h2>
            <Counters status={s} />
            <h2>Progressive metrics</h2>
            <Progressive status={s} />
            <h2>Updates judged on holdout samples</h2>
            <HoldoutChart status={s} />
            <h2>Update history</h2>
            {can("pipelines:write") && <RollbackForm status={s} onDone={reload} />}
            <UpdateHistory pipeline={s.pipeline} updates={s.updates} modelName={modelName} />
          </>
        )}
      </Loaded>
    </section>
  )
}
