/**
 * `ml-server repair`: the operator's way out when start-up stops on a damaged journal. Each
 * journal of a data directory (`*.jsonl`, and every manifest whose journal is missing) keeps its
 * valid prefix: the lines before the first torn, damaged, foreign or checksum-failing line. The
 * prefix is rewritten in the current format with the next epoch (temp file, fsync, rename) and its
 * manifest replaced, and the report says per journal what was kept and what was dropped. Entries
 * are not decoded here: a line that is intact but not a valid entry still stops start-up, naming it.
 * Refuses to run while a server holds the directory.
 */
import { StorageError } from "@org/ml-core"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import {
  encodeHeader,
  encodeLine,
  type Manifest,
  readManifest,
  scanJournal,
  writeManifest,
  writeWholeFile
} from "./JournalFormat.js"
import { processIsAlive } from "./Processes.js"

export interface JournalRepair {
  /** The journal's name (`registry`, `experiments`, `drift`, `pipelines`). */
  readonly journal: string
  readonly file: string
  /** Whether anything was dropped (false: the journal was sound and is left as it was). */
  readonly changed: boolean
  readonly keptRecords: number
  /** Bytes [0, keptBytes) of the old file were kept. */
  readonly keptBytes: number
  /** Lines dropped from the old file (the damaged one and everything after it). */
  readonly droppedLines: number
  /** Bytes [keptBytes, droppedBytes[1]) of the old file were dropped. */
  readonly droppedBytes: readonly [number, number]
  /** Records the manifest says were written but are gone (a cut or deleted journal). */
  readonly missingRecords: number
  /** What was wrong, or undefined when nothing was. */
  readonly problem: string | undefined
}

export interface RepairReport {
  readonly directory: string
  readonly journals: ReadonlyArray<JournalRepair>
}

const journalNames = async (directory: string): Promise<ReadonlyArray<string>> => {
  const names = new Set<string>()
  for (const entry of await fs.readdir(directory)) {
    const journal = /^(.+)\.jsonl$/.exec(entry) ?? /^(.+)\.manifest\.json$/.exec(entry)
    if (journal) names.add(journal[1]!)
  }
  return [...names].sort()
}

const refuseWhileLocked = async (directory: string) => {
  for (const entry of await fs.readdir(directory)) {
    if (!entry.endsWith(".lock")) continue
    const owner = Number(await fs.readFile(path.join(directory, entry), "utf8").catch(() => "0"))
    if (owner !== process.pid && processIsAlive(owner)) {
      throw new StorageError({
        message: `Data directory ${directory} is in use by process ${owner} (${entry}); stop the server before repair`,
        directory
      })
    }
  }
}

const repairJournal = async (directory: string, name: string): Promise<JournalRepair> => {
  const file = path.join(directory, `${name}.jsonl`)
  // A manifest that is itself damaged says nothing we can trust: the journal's own content decides.
  const manifest: Manifest | undefined = await readManifest(directory, name).catch(() => undefined)
  const scan = await scanJournal(file, name)
  const missingRecords = Math.max(0, (manifest?.records ?? 0) - scan.records.length)
  const problem = scan.damage !== undefined
    ? `line ${scan.damage.line}: ${scan.damage.what}`
    : scan.torn !== undefined
    ? `line ${scan.torn.line}: incomplete final line`
    : !scan.exists && missingRecords > 0
    ? `journal missing, its manifest says ${manifest!.records} records`
    : missingRecords > 0
    ? `truncated: ${scan.records.length} of ${manifest!.records} records`
    : manifest !== undefined && scan.exists && scan.epoch !== manifest.epoch && scan.epoch !== manifest.epoch + 1
    ? `epoch ${scan.epoch} differs from the manifest's ${manifest.epoch}`
    : undefined
  const base = {
    journal: name,
    file,
    keptRecords: scan.records.length,
    keptBytes: scan.validBytes,
    droppedLines: scan.droppedLines,
    droppedBytes: [scan.validBytes, scan.totalBytes] as const,
    missingRecords,
    problem
  }
  if (problem === undefined && !scan.legacy) return { ...base, changed: false }
  const epoch = Math.max(manifest?.epoch ?? 0, scan.epoch ?? 0) + 1
  const text = encodeHeader(name, epoch) + scan.records.map((r) => encodeLine(JSON.stringify(r.value))).join("")
  const bytes = await writeWholeFile(file, text)
  await writeManifest(directory, { journal: name, epoch, records: scan.records.length, bytes })
  return { ...base, changed: true }
}

/** Repairs every journal of `directory` (see the module comment); fails while a server holds it. */
export const repairDataDirectory = async (directory: string): Promise<RepairReport> => {
  const resolved = path.resolve(directory)
  await refuseWhileLocked(resolved)
  const journals: Array<JournalRepair> = []
  for (const name of await journalNames(resolved)) journals.push(await repairJournal(resolved, name))
  return { directory: resolved, journals }
}
