/**
 * `ml-server repair [--data-dir DIR]`: the operator's choice when the server refuses to start on
 * a damaged journal. It keeps each journal's valid prefix (repairDataDirectory in the fs adapter),
 * prints what was kept and dropped per file, and exits 0. It refuses while a server owns the
 * directory (a lock file naming a live process), since rewriting files under a running server
 * would lose its writes.
 */
import * as FsAdapter from "@org/ml-adapter-fs"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { ConfigError, loadConfig } from "./Config.js"

export interface RepairedFile {
  readonly file: string
  readonly keptRecords: number
  readonly droppedRecords: number
  readonly droppedBytes: number
  readonly problem?: string | undefined
}

/** The fs adapter's repair, as its signature is agreed (looked up at run time: see `findRepair`). */
export type RepairDataDirectory = (directory: string) => Promise<{ readonly files: ReadonlyArray<RepairedFile> }>

const findRepair = (): RepairDataDirectory | undefined =>
  (FsAdapter as unknown as { readonly repairDataDirectory?: RepairDataDirectory }).repairDataDirectory

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

/** A live process holding one of the directory's lock files (`<journal>.lock` holds its pid), if any. */
const liveOwner = async (
  directory: string
): Promise<{ readonly pid: number; readonly lockFile: string } | undefined> => {
  for (const name of await fs.readdir(directory)) {
    if (!name.endsWith(".lock")) continue
    const lockFile = path.join(directory, name)
    const pid = Number((await fs.readFile(lockFile, "utf8").catch(() => "")).trim())
    if (pid !== process.pid && FsAdapter.processIsAlive(pid)) return { pid, lockFile }
  }
  return undefined
}

const describe = ({ droppedBytes, droppedRecords, file, keptRecords, problem }: RepairedFile) =>
  `${file}: kept ${keptRecords} records, dropped ${droppedRecords} records (${droppedBytes} bytes)` +
  (problem ? ` - ${problem}` : "")

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
  const repair = findRepair()
  if (repair === undefined) {
    err("This build of the fs adapter has no repairDataDirectory; nothing was changed")
    return 1
  }
  try {
    const owner = await liveOwner(directory)
    if (owner !== undefined) {
      err(`Refusing to repair ${directory}: process ${owner.pid} owns it (${owner.lockFile}); stop the server first`)
      return 1
    }
    const { files } = await repair(directory)
    for (const file of files) out(describe(file))
    const dropped = files.reduce((sum, file) => sum + file.droppedRecords, 0)
    out(`Repaired ${directory}: ${files.length} files checked, ${dropped} records dropped`)
    return 0
  } catch (error) {
    err(`Repair of ${directory} failed: ${error instanceof Error ? error.message : String(error)}`)
    return 1
  }
}
