/**
 * The dashboard: one shell (navigation, sign-in, status banner) around four sections, each a lazily
 * loaded module with its own routes, so the first page loads only what it shows.
 */
import { ErrorBoundary, lazy, LocationProvider, Route, Router, useLocation } from "preact-iso"
import { useEffect } from "preact/hooks"
import { SessionProvider } from "./shell/Session.js"
import { Shell } from "./shell/Shell.js"
import { SignIn } from "./shell/SignIn.js"
import { NotFound } from "./ui/States.js"

const Models = lazy(() => import("./sections/models/Models.js").then((m) => m.Models))
const Experiments = lazy(() => import("./sections/experiments/Experiments.js").then((m) => m.Experiments))
const Drift = lazy(() => import("./sections/drift/Drift.js").then((m) => m.Drift))
const Pipelines = lazy(() => import("./sections/pipelines/Pipelines.js").then((m) => m.Pipelines))

const Home = () => {
  const { route } = useLocation()
  // The landing page is the model list; replacing keeps the back button useful.
  useEffect(() => route("/models", true), [])
  return null
}

export const App = () => (
  <LocationProvider>
    <SessionProvider>
      <Shell>
        <ErrorBoundary>
          <Router>
            <Route path="/" component={Home} />
            <Route path="/sign-in" component={SignIn} />
            <Route path="/models/*" component={Models} />
            <Route path="/models" component={Models} />
            <Route path="/experiments/*" component={Experiments} />
            <Route path="/experiments" component={Experiments} />
            <Route path="/drift/*" component={Drift} />
            <Route path="/drift" component={Drift} />
            <Route path="/pipelines/*" component={Pipelines} />
            <Route path="/pipelines" component={Pipelines} />
            <Route default component={NotFound} />
          </Router>
        </ErrorBoundary>
      </Shell>
    </SessionProvider>
  </LocationProvider>
)
