/**
 * The journal's bytes on disk, shared by the journal (start-up checks) and repair. A journal file
 * is a header line `<crc32> {"journal":name,"epoch":n}` and one `<crc32> <json>` line per entry,
 * the CRC-32 (8 hex digits) of the JSON text; files written before checksums (JSON lines, no
 * header) are read as the legacy format and rewritten at start. The manifest
 * `<name>.manifest.json` says how many records and bytes the journal had at least (it is written
 * after they were fsynced), so a cut, a deleted or a swapped journal is told from a torn last line.
 */
import { StorageError } from "@org/ml-core"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { crc32 } from "node:zlib"
import { readTextIfPresent, writeFully } from "./StorageFailure.js"

export interface Manifest {
  readonly journal: string
  readonly epoch: number
  readonly records: number
  readonly bytes: number
}

export interface ScannedRecord {
  readonly line: number
  readonly value: unknown
}

export interface JournalScan {
  readonly exists: boolean
  /** JSON lines without checksums or header (written by releases before checksums). */
  readonly legacy: boolean
  /** The header's epoch; undefined for a legacy or empty file. */
  readonly epoch: number | undefined
  readonly records: ReadonlyArray<ScannedRecord>
  /** End of the last good line: the valid prefix is bytes [0, validBytes). */
  readonly validBytes: number
  readonly totalBytes: number
  /** Lines (complete or not) after the valid prefix. */
  readonly droppedLines: number
  /** An incomplete final line (no newline), the only damage a crash mid-append leaves. */
  readonly torn: { readonly line: number } | undefined
  /** A complete line that is not a valid record: what is wrong with it. */
  readonly damage: { readonly line: number; readonly what: string } | undefined
}

export const REPAIR_HINT = "the server does not start on a damaged journal: run `ml-server repair` to keep its " +
  "valid prefix (it reports what is dropped), or restore the data directory from a backup"

const checksum = (json: string) => crc32(json).toString(16).padStart(8, "0")

export const encodeLine = (json: string) => `${checksum(json)} ${json}\n`

export const encodeHeader = (name: string, epoch: number) => encodeLine(JSON.stringify({ journal: name, epoch }))

/** Characters per piece of an encoded journal: a large state must not need one string (V8 caps its length). */
const PIECE_CHARS = 1 << 20

/** Lines joined into pieces of about PIECE_CHARS each (one piece for a small batch). */
export const toPieces = (lines: Iterable<string>): Array<string> => {
  const pieces: Array<string> = []
  let piece = ""
  for (const line of lines) {
    piece += line
    if (piece.length >= PIECE_CHARS) {
      pieces.push(piece)
      piece = ""
    }
  }
  if (piece !== "" || pieces.length === 0) pieces.push(piece)
  return pieces
}

/** A whole journal file (header, then one line per entry) as pieces. */
export const encodeJournal = (name: string, epoch: number, entries: ReadonlyArray<unknown>): Array<string> =>
  toPieces([encodeHeader(name, epoch), ...entries.map((entry) => encodeLine(JSON.stringify(entry)))])

export const manifestFile = (directory: string, name: string) => path.join(directory, `${name}.manifest.json`)

const CHECKSUMMED = /^[0-9a-f]{8} /

/** Reads the journal and classifies each line; never throws for damage (it is reported). */
export const scanJournal = async (file: string, name: string): Promise<JournalScan> => {
  let bytes: Buffer
  try {
    bytes = await fs.readFile(file)
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== "ENOENT") throw cause
    return {
      exists: false,
      legacy: false,
      epoch: undefined,
      records: [],
      validBytes: 0,
      totalBytes: 0,
      droppedLines: 0,
      torn: undefined,
      damage: undefined
    }
  }
  const records: Array<ScannedRecord> = []
  let epoch: number | undefined
  let legacy = false
  let validBytes = 0
  let torn: JournalScan["torn"]
  let damage: JournalScan["damage"]
  let line = 0
  let start = 0
  while (start < bytes.length) {
    line++
    const end = bytes.indexOf(10, start)
    if (end === -1) {
      torn = { line }
      break
    }
    const text = bytes.toString("utf8", start, end)
    const what = classify(text, line, name, legacy, epoch)
    if (typeof what === "string") {
      damage = { line, what }
      break
    }
    if (what.kind === "header") epoch = what.epoch
    else {
      if (what.kind === "legacy") legacy = true
      records.push({ line, value: what.value })
    }
    start = end + 1
    validBytes = start
  }
  let droppedLines = 0
  for (let i = validBytes; i < bytes.length;) {
    droppedLines++
    const end = bytes.indexOf(10, i)
    i = end === -1 ? bytes.length : end + 1
  }
  return {
    exists: true,
    legacy,
    epoch,
    records,
    validBytes,
    totalBytes: bytes.length,
    droppedLines,
    torn: damage === undefined ? torn : undefined,
    damage
  }
}

type Classified =
  | { readonly kind: "header"; readonly epoch: number }
  | { readonly kind: "record" | "legacy"; readonly value: unknown }

const classify = (
  text: string,
  line: number,
  name: string,
  legacy: boolean,
  epoch: number | undefined
): Classified | string => {
  if (CHECKSUMMED.test(text)) {
    if (legacy) return "a checksummed line among legacy lines (foreign line)"
    const json = text.slice(9)
    if (checksum(json) !== text.slice(0, 8)) return "checksum mismatch (the line was changed or damaged)"
    let value: unknown
    try {
      value = JSON.parse(json)
    } catch {
      return "not JSON although its checksum matches"
    }
    if (line === 1) {
      const header = value as { journal?: unknown; epoch?: unknown }
      if (header.journal !== name || typeof header.epoch !== "number") {
        return `header is not that of journal "${name}" (foreign file)`
      }
      return { kind: "header", epoch: header.epoch }
    }
    return { kind: "record", value }
  }
  if (line === 1 || (legacy && epoch === undefined)) {
    try {
      return { kind: "legacy", value: JSON.parse(text) }
    } catch {
      return "not a journal line (neither checksummed nor JSON)"
    }
  }
  return "a line without checksum (foreign line)"
}

/** What stops start-up, as a message naming file, line and problem; undefined when the journal is sound. */
export const scanProblem = (file: string, scan: JournalScan, manifest: Manifest | undefined): string | undefined => {
  const name = `Journal ${file}`
  if (scan.damage !== undefined) {
    const { line, what } = scan.damage
    return `${name} is damaged at line ${line} (byte ${scan.validBytes}): ${what}; ${REPAIR_HINT}`
  }
  if (manifest === undefined) return undefined
  if (!scan.exists) {
    return manifest.records > 0
      ? `${name} is missing although its manifest says it held ${manifest.records} records (deleted?); ${REPAIR_HINT}`
      : undefined
  }
  if (scan.legacy) return `${name} is in the legacy format although a manifest exists (foreign file); ${REPAIR_HINT}`
  // The manifest is written after compaction renamed the next epoch's file: one epoch ahead is that gap.
  if (scan.epoch === manifest.epoch + 1) return undefined
  if (scan.epoch !== manifest.epoch) {
    return `${name} has epoch ${scan.epoch} but its manifest says ${manifest.epoch} ` +
      `(a foreign or restored file); ${REPAIR_HINT}`
  }
  if (scan.torn !== undefined && scan.validBytes < manifest.bytes) {
    return `${name} is cut at line ${scan.torn.line} (byte ${scan.totalBytes}), before the ${manifest.bytes} bytes ` +
      `its manifest says were written (truncated); ${REPAIR_HINT}`
  }
  if (scan.records.length < manifest.records || scan.totalBytes < manifest.bytes) {
    return `${name} holds ${scan.records.length} records (${scan.totalBytes} bytes) but its manifest says at least ` +
      `${manifest.records} (${manifest.bytes} bytes) were written (truncated); ${REPAIR_HINT}`
  }
  return undefined
}

export const readManifest = async (directory: string, name: string): Promise<Manifest | undefined> => {
  const file = manifestFile(directory, name)
  const text = await readTextIfPresent(file)
  if (text === undefined) return undefined
  let value: Partial<Manifest>
  try {
    value = JSON.parse(text)
  } catch {
    throw new StorageError({ message: `Manifest ${file} is not JSON; ${REPAIR_HINT}`, directory })
  }
  const numbers = [value.epoch, value.records, value.bytes]
  if (value.journal !== name || !numbers.every((n) => Number.isSafeInteger(n) && (n as number) >= 0)) {
    const message = `Manifest ${file} is not a manifest of journal "${name}"; ${REPAIR_HINT}`
    throw new StorageError({ message, directory })
  }
  return value as Manifest
}

/**
 * Writes `text` (one string or pieces) to a temp file, fsyncs it and renames it over `file`;
 * returns its size in bytes. The rename
 * is durable only after syncDirectory: a caller that must know whether `file` was replaced (it
 * throws before the rename, or not at all) calls the two apart.
 */
export const replaceFile = async (file: string, text: string | ReadonlyArray<string>): Promise<number> => {
  const temp = `${file}.tmp`
  let size = 0
  try {
    const handle = await fs.open(temp, "w")
    try {
      for (const piece of typeof text === "string" ? [text] : text) {
        size = await writeFully(handle, [Buffer.from(piece)], size)
      }
      await handle.sync()
    } finally {
      await handle.close()
    }
    await fs.rename(temp, file)
  } catch (cause) {
    await fs.rm(temp, { force: true }).catch(() => undefined)
    throw cause
  }
  return size
}

/** Fsyncs a directory, making the renames and new names in it durable. */
export const syncDirectory = async (directory: string): Promise<void> => {
  const handle = await fs.open(directory, "r")
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** Replaces `file` by `text` durably (replaceFile, then syncDirectory); returns its size. */
export const writeWholeFile = async (file: string, text: string | ReadonlyArray<string>): Promise<number> => {
  const bytes = await replaceFile(file, text)
  await syncDirectory(path.dirname(file))
  return bytes
}

export const writeManifest = (directory: string, manifest: Manifest) =>
  writeWholeFile(manifestFile(directory, manifest.journal), JSON.stringify(manifest)).then(() => undefined)
