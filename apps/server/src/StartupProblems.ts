/**
 * Start-up failures an operator can fix, each as one line naming the cause and the setting to
 * change (exit code 2), instead of a stack trace: a taken port, a port the process may not bind,
 * a data directory that cannot be created or written.
 */
import * as fs from "node:fs"
import * as path from "node:path"

const codeOf = (error: unknown): string | undefined =>
  typeof error === "object" && error !== null && "code" in error && typeof error.code === "string"
    ? error.code
    : undefined

/** One line for a listen failure the operator can fix; undefined for anything else. */
export const describeListenFailure = (error: unknown, host: string, port: number): string | undefined => {
  switch (codeOf(error)) {
    case "EADDRINUSE":
      return `Port ${port} on ${host} is already in use: stop the process using it or set ML_PORT to another port`
    case "EACCES":
      return `Not allowed to listen on port ${port} on ${host}: ` +
        "use a port above 1023 (ML_PORT) or run with the needed privilege"
    case "EADDRNOTAVAIL":
      return `Cannot listen on ${host}: no such local address (set ML_HOST, e.g. 127.0.0.1 or 0.0.0.0)`
    default:
      return undefined
  }
}

/**
 * Creates `directory` if needed and proves it writable with a probe file (fsynced, removed), so
 * a read-only mount or a missing permission is named before any journal is opened. A full disk
 * passes: the server starts, serves reads and refuses writes with 507 until space returns.
 */
export const checkDataDirectory = (directory: string): string | undefined => {
  const probe = path.join(directory, `.write-probe-${process.pid}`)
  try {
    fs.mkdirSync(directory, { recursive: true })
    const fd = fs.openSync(probe, "w")
    try {
      fs.writeSync(fd, "ok")
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    fs.rmSync(probe, { force: true })
    return undefined
  } catch (error) {
    fs.rmSync(probe, { force: true })
    // A full disk is not a reason to refuse: reads are served, writes answer 507 until space returns.
    if (codeOf(error) === "ENOSPC" || codeOf(error) === "EDQUOT") return undefined
    const reason = codeOf(error) ?? (error instanceof Error ? error.message : String(error))
    return `Data directory ${directory} is not writable (${reason}): set ML_MODEL_STORAGE_DIR to a writable directory`
  }
}
