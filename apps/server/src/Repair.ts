/**
 * `ml-server repair [--data-dir DIR]`: the operator's choice when the server refuses to start on
 * a damaged journal. It keeps each journal's valid prefix (repairDataDirectory in the fs adapter),
 * prints what was kept and dropped per journal, and exits 0. The adapter refuses while a server
 * owns the directory (a lock file naming a live process): rewriting files under a running server
 * would lose its writes.
 */
import { type JournalRepair, repairDataDirectory } from "@org/ml-adapter-fs"
import * as path from "node:path"
import { ConfigError, loadConfig } from "./Config.js"

const usage = "Usage: ml-server repair [--data-dir DIR]   (default: ML_MODEL_STORAGE_DIR, else ./.ml-data)"

/** The data directory named by `--data-dir DIR` / `--data-dir=DIR`, else the configured one. */
const dataDirectoryOf = (args: ReadonlyArray<string>, env: Record<string, string | undefined>): string => {
  const [first, second, ...rest] = args
  if (first === undefined) return loadConfig(env).storageDir
  const inline = first.startsWith("--data-dir=") ? first.slice("--data-dir=".length) : undefined
  if (inline && second === undefined) return inline
  if (first === "--data-dir" && second && rest.length === 0) return second
  throw new Error(usage)
}

/** One line per journal: what was kept, what was dropped, and why. */
export const describeRepair = (repair: JournalRepair): string => {
  const [from, to] = repair.droppedBytes
  const kept = `${repair.journal} (${repair.file}): kept ${repair.keptRecords} records (${repair.keptBytes} bytes)`
  if (repair.problem === undefined && !repair.changed) return `${kept}, nothing dropped`
  const missing = repair.missingRecords > 0 ? `, ${repair.missingRecords} records missing` : ""
  const dropped = `, dropped ${repair.droppedLines} lines (${to - from} bytes at ${from}-${to})${missing}`
  return `${kept}${dropped}${repair.problem ? `: ${repair.problem}` : " (rewritten in the current format)"}`
}

/** Runs the subcommand; resolves to the process exit code (0 repaired, 1 refused or failed, 2 bad usage). */
export const runRepair = async (
  args: ReadonlyArray<string>,
  env: Record<string, string | undefined>,
  out: (line: string) => void = console.log,
  err: (line: string) => void = console.error
): Promise<number> => {
  let directory: string
  try {
    directory = path.resolve(dataDirectoryOf(args, env))
  } catch (error) {
    err(error instanceof ConfigError ? `Invalid configuration: ${error.message}` : (error as Error).message)
    return 2
  }
  try {
    const { journals } = await repairDataDirectory(directory)
    for (const journal of journals) out(describeRepair(journal))
    const changed = journals.filter((journal) => journal.changed).length
    out(`Repaired ${directory}: ${journals.length} journals checked, ${changed} rewritten`)
    return 0
  } catch (error) {
    err(`Repair of ${directory} refused or failed: ${error instanceof Error ? error.message : String(error)}`)
    return 1
  }
}
