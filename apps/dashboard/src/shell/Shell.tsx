/**
 * The frame around every page: a skip link, the four sections, who is signed in, and a banner when
 * the server or its storage is not ready (polled), so an outage never shows as a blank page.
 */
import type { ComponentChildren } from "preact"
import { useLocation } from "preact-iso"
import { useResource } from "../ui/useResource.js"
import { useSession } from "./Session.js"
import { SignIn } from "./SignIn.js"

export const sections = [
  { href: "/models", label: "Models" },
  { href: "/experiments", label: "Experiments" },
  { href: "/drift", label: "Drift" },
  { href: "/pipelines", label: "Pipelines" }
] as const

const readinessPollMs = 10_000

const StatusBanner = () => {
  const [ready] = useResource((client) => client.ready(), [], { pollMs: readinessPollMs })
  if (ready.kind !== "error") return null
  const problem = ready.error as { status?: number; detail?: string; checks?: unknown }
  const message = problem.status === undefined || problem.status === 0
    ? "The server cannot be reached. Data shown may be out of date."
    : `The server is not ready: ${problem.detail ?? "storage unavailable"}. Writes may fail.`
  return <div class="banner" role="alert">{message}</div>
}

const Account = () => {
  const session = useSession()
  const { state } = session
  if (state.kind !== "signed-in") return null
  return (
    <div class="account">
      {session.signedInWithKey && <span>Signed in as {state.principal.name} ({state.principal.role})</span>}
      {session.signedInWithKey && <button type="button" class="link" onClick={session.signOut}>Sign out</button>}
    </div>
  )
}

export const Shell = ({ children }: { readonly children: ComponentChildren }) => {
  const { path } = useLocation()
  const { state } = useSession()
  return (
    <>
      <a class="skip-link" href="#main">Skip to content</a>
      <header class="top">
        <a class="brand" href="/models">ML Pipeline</a>
        <nav aria-label="Sections">
          <ul>
            {sections.map((section) => (
              <li key={section.href}>
                <a
                  href={section.href}
                  aria-current={path === section.href || path.startsWith(`${section.href}/`) ? "page" : undefined}
                >
                  {section.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <Account />
      </header>
      <StatusBanner />
      <main id="main" tabIndex={-1}>
        {state.kind === "needs-key"
          ? <SignIn />
          : state.kind === "unreachable"
          ? (
            <div class="state error" role="alert">
              <strong>Cannot reach the server</strong>
              <p>{state.message}</p>
            </div>
          )
          : children}
      </main>
    </>
  )
}
