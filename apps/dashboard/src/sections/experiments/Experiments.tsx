/**
 * The Experiments section: the list by status (`/experiments?status=running`) and one experiment's
 * page (`/experiments/<id>`) with its variants, results, charts and lifecycle actions.
 */
import { Route, Router } from "preact-iso"
import { NotFound } from "../../ui/States.js"
import { ExperimentDetail } from "./ExperimentDetail.js"
import { ExperimentList } from "./ExperimentList.js"

export const Experiments = () => (
  <Router>
    <Route path="/" component={ExperimentList} />
    <Route path="/:id" component={ExperimentDetail} />
    <Route default component={NotFound} />
  </Router>
)
