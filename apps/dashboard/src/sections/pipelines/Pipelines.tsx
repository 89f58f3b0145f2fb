/**
 * The Pipelines section: the list at /pipelines, a pipeline at /pipelines/<id> (status, counters,
 * metrics over time, update history, rollback) and one update record at
 * /pipelines/<id>/updates/<updateId>.
 */
import "./pipelines.css"
import { ErrorBoundary, Route, Router } from "preact-iso"
import { NotFound } from "../../ui/States.js"
import { PipelineList } from "./PipelineList.js"
import { PipelinePage } from "./PipelinePage.js"
import { UpdatePage } from "./UpdatePage.js"

export const Pipelines = () => (
  <ErrorBoundary>
    <Router>
      <Route path="/" component={PipelineList} />
      <Route path="/:id" component={PipelinePage} />
      <Route path="/:id/updates/:updateId" component={UpdatePage} />
      <Route default component={NotFound} />
    </Router>
  </ErrorBoundary>
)
