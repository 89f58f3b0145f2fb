/**
 * The database's instance id (the one row of `ml_instance`, written once with the schema): a
 * database emptied, dropped and recreated, or restored from another cluster has another id, or
 * none. Serving from it would answer 404 for every acknowledged record and accept writes into the
 * wrong data, so the id is checked at start against the one the data directory remembers
 * (RememberedInstances: `<storage dir>/postgres-instance.json` in the server) and then kept
 * checking while the server runs: after any pooled connection closed or a query failed (a drop
 * closes every connection; the pool reconnects to whatever database now has the name) the next
 * query waits until the id was read again; every `checkIntervalMillis` and on each readiness ping
 * it is read anyway. While it differs every query is refused with a StorageError saying so (503),
 * logged once; when the original database is back, queries resume.
 */
import { redactUrl, type RememberedInstances, StorageError } from "@org/ml-core"
import type { Sql } from "postgres"

/** What every query asks first, and the readiness probe. */
export interface InstanceGuard {
  /** Undefined when queries may run now; otherwise a promise that settles once the id was read. */
  readonly ready: () => Promise<void> | undefined
  /** Reads the id now: rejects when the database is unreachable or not the one this server used. */
  readonly check: () => Promise<void>
  /** A connection closed or a query failed: read the id before the next query. */
  readonly suspect: () => void
  readonly close: () => void
}

export const unguarded: InstanceGuard = {
  ready: () => undefined,
  check: () => Promise.resolve(),
  suspect: () => undefined,
  close: () => undefined
}

/** The database's id, or undefined when it has none (no ml_instance table: emptied, not migrated). */
export const readInstanceId = async (sql: Sql): Promise<string | undefined> => {
  try {
    const [row] = await sql<Array<{ id: string }>>`SELECT id FROM ml_instance`
    return row?.id
  } catch (cause) {
    if ((cause as { code?: unknown }).code === "42P01") return undefined // undefined_table
    throw cause
  }
}

const differentDatabase = (url: string, id: string | undefined, known: string, where: string, remedy: string) =>
  new StorageError({
    message: id === undefined
      ? `The PostgreSQL database at ${redactUrl(url)} has no instance id: it was emptied or replaced since ` +
        `${where} ${known}. ${remedy}`
      : `The PostgreSQL database at ${redactUrl(url)} is not the one this server used: its instance id is ${id}, ` +
        `${where} ${known}. It was emptied or replaced; ${remedy}`
  })

/**
 * Compares the database's id with the one `remembered` holds, remembering it when there is none;
 * rejects with a StorageError naming both when they differ. Answers the id.
 */
export const checkRemembered = async (
  sql: Sql,
  url: string,
  remembered: RememberedInstances | undefined
): Promise<string> => {
  const id = await readInstanceId(sql)
  if (id === undefined) throw new StorageError({ message: `The database at ${redactUrl(url)} has no instance id` })
  if (remembered === undefined) return id
  const known = await remembered.read("id")
  if (known === undefined) {
    await remembered.write("id", id)
    return id
  }
  if (known !== id) {
    throw differentDatabase(
      url,
      id,
      String(known),
      `${remembered.location} remembers`,
      `restore it, or delete ${remembered.location} to serve it as it is`
    )
  }
  return id
}

export interface WatchOptions {
  readonly url: string
  /** The id read at start. */
  readonly id: string
  readonly remembered?: RememberedInstances | undefined
  /** How often the id is read again while the server runs (default 1000 ms). */
  readonly checkIntervalMillis?: number | undefined
  /** Where the loud line goes when the database changes (default stderr). */
  readonly log?: ((line: string) => void) | undefined
}

type State = "verified" | "unverified" | "refused"

/** Keeps checking that the database still has the id read at start. */
export const watch = (sql: Sql, options: WatchOptions): InstanceGuard => {
  const log = options.log ?? ((line: string) => console.error(line))
  const remedy = options.remembered === undefined
    ? "queries are refused until it is restored (restart the server to serve it as it is)"
    : `queries are refused until it is restored (delete ${options.remembered.location} and restart to serve ` +
      "it as it is)"
  let state: State = "verified"
  let inFlight: Promise<void> | undefined

  const verify = async () => {
    const id = await readInstanceId(sql)
    if (id === options.id) {
      if (state === "refused") log(`PostgreSQL database ${options.id} is back; queries resume`)
      state = "verified"
      return
    }
    const refusal = differentDatabase(options.url, id, options.id, "this server started on", remedy)
    // Loud once per change: every query keeps failing with the same message, the log says it once.
    if (state !== "refused") log(`ERROR: ${refusal.message}`)
    state = "refused"
    throw refusal
  }

  /** One read at a time; concurrent callers share it. */
  const verifyShared = () =>
    inFlight ??= verify().finally(() => {
      inFlight = undefined
    })

  const timer = setInterval(() => void verifyShared().catch(() => undefined), options.checkIntervalMillis ?? 1000)
  timer.unref()

  return {
    ready: () => state === "verified" ? undefined : verifyShared(),
    check: verifyShared,
    suspect: () => {
      if (state === "verified") state = "unverified"
    },
    close: () => clearInterval(timer)
  }
}
