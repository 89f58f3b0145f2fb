/**
 * Loading data through the SDK with explicit states (loading, error, ready), so every view can show
 * a spinner, a problem or its content, never a blank page. A 401 sends the user back to sign-in.
 */
import type { MlClient } from "@org/ml-sdk"
import { useCallback, useEffect, useState } from "preact/hooks"
import { useSession } from "../shell/Session.js"

export type Resource<A> =
  | { readonly kind: "loading" }
  | { readonly kind: "error"; readonly error: unknown }
  | { readonly kind: "ready"; readonly value: A; readonly refreshing: boolean }

export const errorStatus = (error: unknown): number | undefined =>
  typeof error === "object" && error !== null && "status" in error && typeof error.status === "number"
    ? error.status
    : undefined

export const errorMessage = (error: unknown): string => {
  if (typeof error === "object" && error !== null) {
    const problem = error as { detail?: unknown; title?: unknown; message?: unknown }
    if (typeof problem.detail === "string" && problem.detail) return problem.detail
    if (typeof problem.title === "string" && problem.title) return problem.title
    if (typeof problem.message === "string" && problem.message) return problem.message
  }
  return String(error)
}

/**
 * Runs `load` with the session's client whenever `deps` change; `reload()` fetches again keeping the
 * shown value meanwhile. `pollMs` refreshes in the background (live counters, new reports).
 */
export const useResource = <A>(
  load: (client: MlClient) => Promise<A>,
  deps: ReadonlyArray<unknown>,
  options: { readonly pollMs?: number } = {}
): [Resource<A>, () => void] => {
  const session = useSession()
  const [resource, setResource] = useState<Resource<A>>({ kind: "loading" })
  const [generation, setGeneration] = useState(0)
  useEffect(() => {
    let cancelled = false
    setResource((previous) => previous.kind === "ready" ? { ...previous, refreshing: true } : { kind: "loading" })
    load(session.client).then(
      (value) => !cancelled && setResource({ kind: "ready", value, refreshing: false }),
      (error: unknown) => {
        if (cancelled) return
        if (errorStatus(error) === 401) session.keyRejected()
        setResource({ kind: "error", error })
      }
    )
    return () => {
      cancelled = true
    }
  }, [session.client, generation, ...deps])
  useEffect(() => {
    if (!options.pollMs) return
    const timer = setInterval(() => setGeneration((n) => n + 1), options.pollMs)
    return () => clearInterval(timer)
  }, [options.pollMs])
  const reload = useCallback(() => setGeneration((n) => n + 1), [])
  return [resource, reload]
}

/** Runs an action (promote, pause, ...), exposing its pending state and error for the form that started it. */
export const useAction = <Args extends ReadonlyArray<unknown>>(
  action: (client: MlClient, ...args: Args) => Promise<unknown>,
  onDone?: () => void
) => {
  const session = useSession()
  const [state, setState] = useState<{ readonly pending: boolean; readonly error?: unknown }>({ pending: false })
  const run = useCallback(async (...args: Args): Promise<boolean> => {
    setState({ pending: true })
    try {
      await action(session.client, ...args)
      setState({ pending: false })
      onDone?.()
      return true
    } catch (error) {
      if (errorStatus(error) === 401) session.keyRejected()
      setState({ pending: false, error })
      return false
    }
  }, [session.client, onDone])
  return { ...state, run }
}
