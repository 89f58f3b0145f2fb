/** The states every view shares: loading, a problem from the server, nothing yet, and an unknown page. */
import type { ComponentChildren } from "preact"
import { errorMessage, errorStatus, type Resource } from "./useResource.js"

export const Loading = ({ label = "Loading" }: { readonly label?: string }) => (
  <p class="state loading" role="status" aria-live="polite">
    <span class="spinner" aria-hidden="true" />
    {label}…
  </p>
)

export const ErrorMessage = (
  { error, title = "Could not load this" }: { readonly error: unknown; readonly title?: string }
) => {
  const status = errorStatus(error)
  return (
    <div class="state error" role="alert">
      <strong>{title}</strong>
      <p>
        {status === 403 ? "Your key's role does not allow this. " : ""}
        {errorMessage(error)}
        {status !== undefined && status > 0 ? ` (HTTP ${status})` : ""}
      </p>
    </div>
  )
}

export const Empty = ({ children }: { readonly children: ComponentChildren }) => <p class="state empty">{children}</p>

export const NotFound = () => (
  <section>
    <h1>Page not found</h1>
    <p>
      Try <a href="/models">Models</a>, <a href="/experiments">Experiments</a>, <a href="/drift">Drift</a> or{" "}
      <a href="/pipelines">Pipelines</a>.
    </p>
  </section>
)

/** Renders `children(value)` once the resource is ready, the shared states before that. */
export function Loaded<A>(
  { resource, children, label }: {
    readonly resource: Resource<A>
    readonly children: (value: A) => ComponentChildren
    readonly label?: string
  }
) {
  if (resource.kind === "loading") return <Loading {...(label ? { label } : {})} />
  if (resource.kind === "error") return <ErrorMessage error={resource.error} />
  return <>{children(resource.value)}</>
}
