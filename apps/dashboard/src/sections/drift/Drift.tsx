/**
 * The Drift section: the monitors (`/drift`), one monitor's features, severities, alerts and webhook
 * deliveries (`/drift/<monitorId>`), and one feature's distributions and statistics over time
 * (`/drift/<monitorId>/features/<feature>`). All of it comes from the stored reports.
 */
import { Route, Router } from "preact-iso"
import { NotFound } from "../../ui/States.js"
import { FeaturePage } from "./FeaturePage.js"
import { MonitorList } from "./MonitorList.js"
import { MonitorPage } from "./MonitorPage.js"

export const Drift = () => (
  <Router>
    <Route path="/" component={MonitorList} />
    <Route path="/:monitorId" component={MonitorPage} />
    <Route path="/:monitorId/features/:feature" component={FeaturePage} />
    <Route default component={NotFound} />
  </Router>
)
