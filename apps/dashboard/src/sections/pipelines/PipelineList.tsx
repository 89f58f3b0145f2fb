/** Every pipeline with its state, strategy, model kind, metric and update counts; each links to its page. */
import { useEffect } from "preact/hooks"
import { formatCount, formatTime } from "../../ui/format.js"
import { Empty, Loaded } from "../../ui/States.js"
import { useResource } from "../../ui/useResource.js"
import { metricLabel, pipelineHref, strategyRule } from "./pipelineView.js"
import { StateBadge } from "./StateBadge.js"

const listPollMs = 15_000

export const PipelineList = () => {
  const [pipelines] = useResource((client) => client.learner.listPipelines(), [], { pollMs: listPollMs })
  useEffect(() => {
    document.title = "Pipelines · ML Pipeline"
  }, [])
  return (
    <section>
      <h1>Pipelines</h1>
      <Loaded resource={pipelines} label="Loading pipelines">
        {(items) =>
          items.length === 0
            ? (
              <Empty>
                No pipelines yet. Create one for a registered learner model with{" "}
                <code>client.learner.createPipeline</code> or <code>POST /v1/pipelines</code>.
              </Empty>
            )
            : (
              <div class="table-wrap">
                <table>
                  <caption class="muted">{items.length} pipeline{items.length === 1 ? "" : "s"}</caption>
                  <thead>
                    <tr>
                      <th scope="col">Pipeline</th>
                      <th scope="col">State</th>
                      <th scope="col">Strategy</th>
                      <th scope="col">Model</th>
                      <th scope="col" class="num">Accepted</th>
                      <th scope="col" class="num">Rejected</th>
                      <th scope="col">Last update</th>
                    </tr>
                  </thead>
                  <tbody>
                    {[...items].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id)).map((p) => (
                      <tr key={p.id}>
                        <td>
                          <a href={pipelineHref(p.id)}>{p.name}</a>
                          <div class="muted mono">{p.id}</div>
                        </td>
                        <td>
                          <StateBadge pipeline={p} />
                        </td>
                        <td>
                          {p.strategy}
                          <div class="muted">{strategyRule(p)}</div>
                        </td>
                        <td>
                          {p.kind === "logistic" ? "classifier" : "regressor"}
                          <div class="muted">judged by {metricLabel[p.validationMetric]}</div>
                        </td>
                        <td class="num">{formatCount(p.acceptedUpdates)}</td>
                        <td class="num">{formatCount(p.rejectedUpdates)}</td>
                        <td>{formatTime(p.lastUpdateAt)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
      </Loaded>
    </section>
  )
}
