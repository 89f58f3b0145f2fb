/**
 * The `ml` command's exit codes: one per class of problem, so scripts can branch on what went
 * wrong without parsing messages. The table is printed by `ml --help` and in README.
 */
import { MlApiError } from "@org/ml-sdk"

export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  notFound: 3,
  conflict: 4,
  invalid: 5,
  unauthorized: 6,
  unavailable: 7,
  rateLimited: 8
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

/** What each code means, in the order `--help` lists them. */
export const exitCodeTable: ReadonlyArray<readonly [ExitCode, string]> = [
  [ExitCode.ok, "success"],
  [ExitCode.failure, "other failure (a local file cannot be read or written, an unexpected error)"],
  [ExitCode.usage, "usage: unknown command or option, missing or malformed argument"],
  [ExitCode.notFound, "not found (404): no such model, experiment, monitor, pipeline or key"],
  [ExitCode.conflict, "conflict (409): duplicate, invalid status transition, artifact already uploaded"],
  [ExitCode.invalid, "rejected input (400, 413, 415, 422): validation, size limit, SHA-256 mismatch"],
  [ExitCode.unauthorized, "unauthorized or forbidden (401, 403): missing or wrong token, role lacks permission"],
  [ExitCode.unavailable, "server or storage unavailable: no connection, 5xx, 503 storage, 507 disk full"],
  [ExitCode.rateLimited, "rate limited (429): retry after the time the message names"]
]

/** A problem found before any request (bad option value, unreadable input): exit code and one line. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: ExitCode = ExitCode.failure) {
    super(message)
    this.name = "CliError"
  }
}

export const usageError = (message: string) => new CliError(message, ExitCode.usage)

/** The exit code of an API error, by HTTP status (a client-side integrity failure has status 0). */
export const exitCodeOfStatus = (status: number, code: string): ExitCode => {
  if (code === "IntegrityError") return ExitCode.invalid
  if (status === 404) return ExitCode.notFound
  if (status === 409) return ExitCode.conflict
  if (status === 401 || status === 403) return ExitCode.unauthorized
  if (status === 429) return ExitCode.rateLimited
  if (status >= 500) return ExitCode.unavailable
  if (status >= 400) return ExitCode.invalid
  return ExitCode.failure
}

/** Node's fetch fails with a TypeError whose cause names the network problem (ECONNREFUSED, ...). */
const networkCause = (error: unknown): string | undefined => {
  if (!(error instanceof TypeError) || error.message !== "fetch failed") return undefined
  const cause = (error as { cause?: { code?: string; message?: string } }).cause
  return cause?.code ?? cause?.message ?? "network error"
}

/**
 * The detail without what the field lines say anyway: a validation detail ("Invalid model metadata:
 * name: ...; algorithm: ...") repeats every field message after its first colon.
 */
const summaryOf = (
  detail: string | undefined,
  fields: ReadonlyArray<{ readonly message: string }>
): string | undefined => {
  if (!detail || fields.length === 0 || !fields.every((field) => detail.includes(field.message))) return detail
  const colon = detail.indexOf(": ")
  return colon > 0 ? detail.slice(0, colon) : undefined
}

export interface Reported {
  readonly exitCode: ExitCode
  /** Lines for stderr: title, detail, one per field problem; never a stack trace. */
  readonly lines: ReadonlyArray<string>
  /** The problem as JSON, for `--json` callers. */
  readonly problem: Record<string, unknown>
}

/** Turns anything thrown by a command into its exit code and the lines that explain it. */
export const report = (error: unknown, server: string): Reported => {
  if (error instanceof MlApiError) {
    const problem = error.problem
    const lines = [`error: ${problem.title} (${problem.status || "client"} ${problem.code})`]
    const fields = problem.errors ?? []
    const detail = summaryOf(problem.detail, fields)
    if (detail && detail !== problem.title) lines.push(`  ${detail}`)
    for (const field of fields) lines.push(`  ${field.path || "(body)"}: ${field.message}`)
    if (error.status === 429 && typeof problem.retryAfterSeconds === "number") {
      lines.push(`  retry after ${problem.retryAfterSeconds} s`)
    }
    return { exitCode: exitCodeOfStatus(error.status, error.code), lines, problem: { ...problem } }
  }
  if (error instanceof CliError) {
    return { exitCode: error.exitCode, lines: [`error: ${error.message}`], problem: { title: error.message } }
  }
  const cause = networkCause(error)
  if (cause !== undefined) {
    const title = `cannot reach the server at ${server} (${cause})`
    return {
      exitCode: ExitCode.unavailable,
      lines: [`error: ${title}`, "  set --server or ML_SERVER_URL"],
      problem: { title }
    }
  }
  const message = error instanceof Error ? error.message : String(error)
  return { exitCode: ExitCode.failure, lines: [`error: ${message}`], problem: { title: message } }
}
