/**
 * Local files: streaming reads that hash as they go (never the whole file in memory), atomic
 * writes (a temporary file in the same directory, fsynced, then renamed over the target), and
 * CSV and JSON Lines records read one at a time.
 */
import { createHash } from "node:crypto"
import { createReadStream, rmSync } from "node:fs"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { createInterface } from "node:readline"
import { Writable } from "node:stream"
import { CliError, usageError } from "./ExitCodes.js"

const describeFsError = (file: string, error: unknown): CliError => {
  const code = (error as { code?: string }).code
  const why = code === "ENOENT"
    ? "no such file"
    : code === "EACCES"
    ? "permission denied"
    : code === "EISDIR"
    ? "is a directory"
    : (error as Error).message
  return new CliError(`cannot read ${file}: ${why}`)
}

/** The size of a regular file, or a CliError naming why it cannot be read. */
export const statFile = async (file: string): Promise<number> => {
  try {
    const stat = await fs.stat(file)
    if (!stat.isFile()) throw Object.assign(new Error("not a regular file"), { code: "EISDIR" })
    await fs.access(file, fs.constants.R_OK)
    return stat.size
  } catch (error) {
    throw describeFsError(file, error)
  }
}

/** The file's bytes in chunks, each reported to `onChunk` (for progress and hashing). */
export async function* fileChunks(file: string, onChunk: (chunk: Uint8Array) => void): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
      const bytes = chunk as Buffer
      onChunk(bytes)
      yield new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    }
  } catch (error) {
    throw describeFsError(file, error)
  }
}

/** SHA-256 (hex) of a file, read as a stream. */
export const sha256OfFile = async (file: string, onChunk: (chunk: Uint8Array) => void = () => {}): Promise<string> => {
  const hash = createHash("sha256")
  for await (const chunk of fileChunks(file, onChunk)) hash.update(chunk)
  return hash.digest("hex")
}

/**
 * Writes a stream to `target` atomically: into a temporary file beside it, fsynced, then renamed.
 * If the stream fails (a SHA-256 mismatch, a dropped connection) the temporary file is removed and
 * `target` is left as it was.
 */
export const writeAtomically = async (
  target: string,
  stream: ReadableStream<Uint8Array>,
  onChunk: (chunk: Uint8Array) => void = () => {}
): Promise<void> => {
  const directory = path.dirname(path.resolve(target))
  const temporary = path.join(directory, `.${path.basename(target)}.${process.pid}.${Date.now()}.tmp`)
  let handle: fs.FileHandle
  try {
    handle = await fs.open(temporary, "wx", 0o644)
  } catch (error) {
    throw new CliError(`cannot write ${target}: ${(error as Error).message}`)
  }
  // Ctrl-C mid-download: remove the partial file before exiting (130, as shells report SIGINT).
  const onInterrupt = () => {
    rmSync(temporary, { force: true })
    process.exit(130)
  }
  process.once("SIGINT", onInterrupt)
  try {
    await stream.pipeTo(Writable.toWeb(
      new Writable({
        write(chunk: Uint8Array, _encoding, callback) {
          onChunk(chunk)
          handle.write(chunk).then(() => callback(), callback)
        }
      })
    ))
    await handle.sync()
    await handle.close()
    await fs.rename(temporary, target)
  } catch (error) {
    await handle.close().catch(() => {})
    await fs.rm(temporary, { force: true })
    throw error
  } finally {
    process.off("SIGINT", onInterrupt)
  }
}

/** Reads a whole (small) UTF-8 file: a JSON body, a learner state. */
export const readText = async (file: string): Promise<string> => {
  try {
    return await fs.readFile(file, "utf8")
  } catch (error) {
    throw describeFsError(file, error)
  }
}

/**
 * CSV records (RFC 4180: quoted fields may hold commas, quotes as "" and line breaks), read as a
 * stream. The first record is the header; each later one is yielded as { column: text }.
 */
export async function* csvRows(file: string): AsyncGenerator<Record<string, string>> {
  let header: Array<string> | undefined
  let line = 0
  for await (const fields of csvRecords(file)) {
    line++
    if (header === undefined) {
      header = fields.map((field) => field.trim())
      if (header.length === 0 || header.every((h) => h === "")) throw usageError(`${file}: the header row is empty`)
      continue
    }
    if (fields.length === 1 && fields[0] === "") continue // a blank line
    if (fields.length !== header.length) {
      throw usageError(`${file}: record ${line} has ${fields.length} fields, the header has ${header.length}`)
    }
    const row: Record<string, string> = {}
    header.forEach((name, i) => (row[name] = fields[i]!))
    yield row
  }
  if (header === undefined) throw usageError(`${file}: empty file (a header row is needed)`)
}

async function* csvRecords(file: string): AsyncGenerator<Array<string>> {
  let fields: Array<string> = []
  let field = ""
  let quoted = false
  let afterQuote = false
  try {
    for await (const chunk of createReadStream(file, { encoding: "utf8", highWaterMark: 1 << 20 })) {
      const text = chunk as string
      for (let i = 0; i < text.length; i++) {
        const c = text[i]!
        if (quoted) {
          if (c === "\"") {
            if (text[i + 1] === "\"") {
              field += "\""
              i++
            } else {
              quoted = false
              afterQuote = true
            }
          } else field += c
        } else if (c === "\"" && field === "" && !afterQuote) quoted = true
        else if (c === ",") {
          fields.push(field)
          field = ""
          afterQuote = false
        } else if (c === "\n") {
          fields.push(field.endsWith("\r") && !afterQuote ? field.slice(0, -1) : field)
          yield fields
          fields = []
          field = ""
          afterQuote = false
        } else if (!(afterQuote && c === "\r")) field += c
      }
    }
  } catch (error) {
    throw describeFsError(file, error)
  }
  if (field !== "" || fields.length > 0) {
    fields.push(field)
    yield fields
  }
}

/** JSON Lines: one JSON object per non-blank line. */
export async function* jsonLines(file: string): AsyncGenerator<Record<string, unknown>> {
  await statFile(file)
  const lines = createInterface({ input: createReadStream(file, { encoding: "utf8" }), crlfDelay: Infinity })
  let number = 0
  for await (const line of lines) {
    number++
    if (line.trim() === "") continue
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch (error) {
      throw usageError(`${file}: line ${number} is not JSON (${(error as Error).message})`)
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw usageError(`${file}: line ${number} is not a JSON object`)
    }
    yield value as Record<string, unknown>
  }
}
