/**
 * Who is using the dashboard: the API key (kept in sessionStorage, so it leaves with the tab and never
 * appears in a URL), the SDK client built from it, and the principal the server sees, whose permissions
 * decide which actions are shown. With authentication off the server answers as `anonymous`, an admin.
 */
import { createClient, type MlClient, type WhoAmI } from "@org/ml-sdk"
import { type ComponentChildren, createContext } from "preact"
import { useCallback, useContext, useEffect, useMemo, useState } from "preact/hooks"

const storageKey = "ml-pipeline.api-key"

export type Principal = WhoAmI
export type Permission = WhoAmI["permissions"][number]

export type SessionState =
  | { readonly kind: "checking" }
  | { readonly kind: "signed-in"; readonly principal: Principal }
  | { readonly kind: "needs-key"; readonly rejected: boolean }
  | { readonly kind: "unreachable"; readonly message: string }

export interface Session {
  readonly client: MlClient
  readonly state: SessionState
  readonly signedInWithKey: boolean
  readonly signIn: (token: string) => void
  readonly signOut: () => void
  /** Whether the principal holds `permission` (the server checks every request anyway). */
  readonly can: (permission: Permission) => boolean
  /** Call after a 401 from any request: the key was revoked or expired. */
  readonly keyRejected: () => void
  readonly recheck: () => void
}

const SessionContext = createContext<Session | undefined>(undefined)

const readStoredToken = (): string | undefined => {
  try {
    return sessionStorage.getItem(storageKey) ?? undefined
  } catch {
    return undefined
  }
}

const isStatus = (error: unknown, status: number) =>
  typeof error === "object" && error !== null && "status" in error && (error as { status: unknown }).status === status

export const SessionProvider = ({ children }: { readonly children: ComponentChildren }) => {
  const [token, setToken] = useState<string | undefined>(readStoredToken)
  const [state, setState] = useState<SessionState>({ kind: "checking" })
  const [generation, setGeneration] = useState(0)
  const client = useMemo(() => createClient({ baseUrl: window.location.origin, token }), [token])

  useEffect(() => {
    let cancelled = false
    setState({ kind: "checking" })
    probePrincipal(client).then(
      (principal) => !cancelled && setState({ kind: "signed-in", principal }),
      (error: unknown) => {
        if (cancelled) return
        if (isStatus(error, 401)) setState({ kind: "needs-key", rejected: token !== undefined })
        else setState({ kind: "unreachable", message: error instanceof Error ? error.message : String(error) })
      }
    )
    return () => {
      cancelled = true
    }
  }, [client, generation])

  const signIn = useCallback((next: string) => {
    sessionStorage.setItem(storageKey, next)
    setToken(next)
  }, [])
  const signOut = useCallback(() => {
    sessionStorage.removeItem(storageKey)
    setToken(undefined)
  }, [])
  const session = useMemo<Session>(() => ({
    client,
    state,
    signedInWithKey: token !== undefined,
    signIn,
    signOut,
    can: (permission) => state.kind === "signed-in" && state.principal.permissions.includes(permission),
    keyRejected: () => setState({ kind: "needs-key", rejected: true }),
    recheck: () => setGeneration((n) => n + 1)
  }), [client, state, token])
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>
}

/** Asks the server who the key belongs to; a 401 means a key is needed (or the one given was refused). */
const probePrincipal = (client: MlClient): Promise<Principal> => client.whoami()

export const useSession = (): Session => {
  const session = useContext(SessionContext)
  if (session === undefined) throw new Error("useSession outside SessionProvider")
  return session
}

export const useClient = (): MlClient => useSession().client
