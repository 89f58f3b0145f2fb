/**
 * The Models section: the version list with search, filters and paging (/models), the versions of
 * one name with "which version was in production at" (/models/<name>), and one version with its
 * facts, lineage, audit timeline and actions (/models/<name>/<id>). Filters, cursors and the picked
 * instant live in the query string, so every view is a link that survives reload and Back.
 */
import { ErrorBoundary, Route, Router } from "preact-iso"
import { NotFound } from "../../ui/States.js"
import { ModelList } from "./ModelList.js"
import { ModelNamePage } from "./ModelNamePage.js"
import { ModelVersionPage } from "./ModelVersionPage.js"
import "./models.css"

export const Models = () => (
  <div class="models">
    <ErrorBoundary>
      <Router>
        <Route path="/" component={ModelList} />
        <Route path="/:name" component={ModelNamePage} />
        <Route path="/:name/:id" component={ModelVersionPage} />
        <Route default component={NotFound} />
      </Router>
    </ErrorBoundary>
  </div>
)
