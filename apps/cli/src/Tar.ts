/**
 * Directories as tar (POSIX ustar) archives and back, for model directories stored as one
 * artifact. Writing is deterministic, so the same directory always gives the same bytes and the
 * same SHA-256: regular files and directories only, entries sorted by path, mtime 0, uid and gid
 * 0, owner names empty, modes 0644 / 0755. Reading extracts only what stays inside the target:
 * an absolute path, a `..` segment, a link or any other entry type is refused before anything is
 * written, and files are created exclusively, so an archive can never write outside its directory.
 */
import { createReadStream } from "node:fs"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { CliError, usageError } from "./ExitCodes.js"

const BLOCK = 512
/** The most entries one model directory may hold (a bound on what import walks and export extracts). */
export const MAX_TAR_ENTRIES = 10_000

export interface TarEntry {
  /** The path inside the archive, `/`-separated, relative (directories end without a slash here). */
  readonly name: string
  readonly type: "file" | "directory"
  readonly size: number
  /** Where the file's bytes start in the archive. */
  readonly offset: number
}

/** Every regular file and directory under `root`, sorted by path; symlinks and other kinds are refused. */
export const listDirectory = async (
  root: string
): Promise<Array<{ name: string; type: "file" | "directory"; size: number }>> => {
  const found: Array<{ name: string; type: "file" | "directory"; size: number }> = []
  const walk = async (relative: string): Promise<void> => {
    const entries = await fs.readdir(path.join(root, relative), { withFileTypes: true })
    for (const entry of entries) {
      const name = relative === "" ? entry.name : `${relative}/${entry.name}`
      if (found.length >= MAX_TAR_ENTRIES) throw usageError(`${root} holds more than ${MAX_TAR_ENTRIES} entries`)
      if (entry.isSymbolicLink()) {
        throw usageError(`${path.join(root, name)} is a symbolic link; only regular files are archived`)
      }
      if (entry.isDirectory()) {
        found.push({ name, type: "directory", size: 0 })
        await walk(name)
      } else if (entry.isFile()) {
        found.push({ name, type: "file", size: (await fs.stat(path.join(root, name))).size })
      } else {
        throw usageError(`${path.join(root, name)} is not a regular file or directory`)
      }
    }
  }
  await walk("")
  // Byte order of the UTF-8 names, the same on every machine and locale.
  return found.sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)))
}

const octal = (value: number, width: number): string => value.toString(8).padStart(width - 1, "0") + "\0"

/** Splits a name into ustar's prefix (155 bytes) and name (100 bytes) at a slash, or refuses it. */
const splitName = (name: string): { prefix: string; name: string } => {
  if (Buffer.byteLength(name) <= 100) return { prefix: "", name }
  for (let i = name.indexOf("/"); i !== -1; i = name.indexOf("/", i + 1)) {
    const prefix = name.slice(0, i)
    const rest = name.slice(i + 1)
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100 && rest.length > 0) {
      return { prefix, name: rest }
    }
  }
  throw usageError(`${name}: the path is too long for a tar archive (at most 100 bytes per name, 255 in all)`)
}

const header = (entry: { name: string; type: "file" | "directory"; size: number }): Buffer => {
  const block = Buffer.alloc(BLOCK)
  const split = splitName(entry.type === "directory" ? `${entry.name}/` : entry.name)
  block.write(split.name, 0, 100, "utf8")
  block.write(octal(entry.type === "directory" ? 0o755 : 0o644, 8), 100, 8, "ascii")
  block.write(octal(0, 8), 108, 8, "ascii") // uid
  block.write(octal(0, 8), 116, 8, "ascii") // gid
  block.write(octal(entry.size, 12), 124, 12, "ascii")
  block.write(octal(0, 12), 136, 12, "ascii") // mtime: fixed, so the bytes depend on the contents only
  block.write("        ", 148, 8, "ascii") // the checksum counts its own field as spaces
  block.write(entry.type === "directory" ? "5" : "0", 156, 1, "ascii")
  block.write("ustar\0", 257, 6, "ascii")
  block.write("00", 263, 2, "ascii")
  block.write(split.prefix, 345, 155, "utf8")
  let sum = 0
  for (const byte of block) sum += byte
  block.write(octal(sum, 7) + " ", 148, 8, "ascii")
  return block
}

/**
 * Writes `root` as a deterministic tar archive to `target` (created exclusively) and returns its
 * entries. A file that changes size while it is archived is refused rather than archived torn.
 */
export const writeTar = async (
  root: string,
  target: string
): Promise<ReadonlyArray<{ name: string; size: number }>> => {
  const entries = await listDirectory(root)
  const out = await fs.open(target, "wx", 0o600)
  try {
    for (const entry of entries) {
      await out.write(header(entry))
      if (entry.type === "directory") continue
      let written = 0
      for await (const chunk of createReadStream(path.join(root, entry.name), { highWaterMark: 1 << 20 })) {
        const bytes = chunk as Buffer
        written += bytes.byteLength
        if (written > entry.size) break
        await out.write(bytes)
      }
      if (written !== entry.size) throw new CliError(`${path.join(root, entry.name)} changed while it was archived`)
      const padding = (BLOCK - (entry.size % BLOCK)) % BLOCK
      if (padding > 0) await out.write(Buffer.alloc(padding))
    }
    await out.write(Buffer.alloc(BLOCK * 2))
    await out.sync()
  } finally {
    await out.close()
  }
  return entries.filter((e) => e.type === "file").map(({ name, size }) => ({ name, size }))
}

const text = (block: Buffer, start: number, length: number): string => {
  const field = block.subarray(start, start + length)
  const end = field.indexOf(0)
  return field.subarray(0, end === -1 ? length : end).toString("utf8")
}

const number = (block: Buffer, start: number, length: number, what: string): number => {
  const field = text(block, start, length).trim()
  if (!/^[0-7]+$/.test(field)) throw new CliError(`not a tar archive: ${what} field ${JSON.stringify(field)}`)
  return parseInt(field, 8)
}

/** Why an entry name could leave the target directory (or is not a plain relative path), or undefined. */
export const unsafeEntryName = (name: string): string | undefined => {
  if (name === "") return "has an empty name"
  if (name.includes("\0")) return "has a NUL character in its name"
  if (name.includes("\\")) return "has a backslash in its name"
  if (name.startsWith("/") || /^[A-Za-z]:/.test(name)) return "is an absolute path"
  if (name.split("/").some((segment) => segment === "..")) return "has a '..' segment"
  return undefined
}

/**
 * The entries of the tar archive `file`, after checking every header: a checksum that does not
 * match, an entry other than a regular file or directory (symlinks, hard links, devices, pax
 * headers) or a name that could leave the target is refused, naming the entry.
 */
export const readTarEntries = async (file: string): Promise<Array<TarEntry>> => {
  const handle = await fs.open(file, "r")
  try {
    const { size: total } = await handle.stat()
    const entries: Array<TarEntry> = []
    const block = Buffer.alloc(BLOCK)
    let position = 0
    while (position + BLOCK <= total) {
      await handle.read(block, 0, BLOCK, position)
      if (block.every((b) => b === 0)) break
      const checksum = number(block, 148, 8, "checksum")
      let sum = 0
      for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i]!
      if (sum !== checksum) {
        throw new CliError(`not a tar archive: a header checksum does not match at byte ${position}`)
      }
      const prefix = text(block, 345, 155)
      const rawName = prefix === "" ? text(block, 0, 100) : `${prefix}/${text(block, 0, 100)}`
      const flag = String.fromCharCode(block[156]!)
      const size = number(block, 124, 12, "size")
      const type = flag === "0" || flag === "\0" ? "file" : flag === "5" ? "directory" : undefined
      if (type === undefined) {
        const kind = flag === "2" ? "a symbolic link" : flag === "1" ? "a hard link" : `of type '${flag}'`
        throw new CliError(`refusing archive entry ${JSON.stringify(rawName)}: it is ${kind}, not a regular file`)
      }
      const name = rawName.replace(/\/+$/, "").replace(/^(\.\/)+/, "")
      if (type === "directory" && (name === "" || name === ".")) {
        // The archive's own root (`tar -C dir .` writes one): the target itself.
        position += BLOCK + Math.ceil(size / BLOCK) * BLOCK
        continue
      }
      const unsafe = unsafeEntryName(name)
      if (unsafe !== undefined) throw new CliError(`refusing archive entry ${JSON.stringify(rawName)}: it ${unsafe}`)
      if (position + BLOCK + size > total) throw new CliError(`not a tar archive: entry ${rawName} is truncated`)
      entries.push({ name, type, size: type === "file" ? size : 0, offset: position + BLOCK })
      if (entries.length > MAX_TAR_ENTRIES) throw new CliError(`the archive holds more than ${MAX_TAR_ENTRIES} entries`)
      position += BLOCK + Math.ceil(size / BLOCK) * BLOCK
    }
    return entries
  } finally {
    await handle.close()
  }
}

/**
 * Extracts the checked entries of `file` into `target`, which must not exist yet (it is created):
 * every path is resolved and confirmed inside `target`, and files are created exclusively, so
 * nothing is overwritten or reached through a link.
 */
export const extractTar = async (file: string, target: string): Promise<ReadonlyArray<TarEntry>> => {
  const entries = await readTarEntries(file)
  const root = path.resolve(target)
  try {
    await fs.mkdir(root)
  } catch (error) {
    const code = (error as { code?: string }).code
    throw new CliError(`cannot create ${target}: ${code === "EEXIST" ? "it already exists" : (error as Error).message}`)
  }
  const handle = await fs.open(file, "r")
  try {
    for (const entry of entries) {
      const destination = path.resolve(root, ...entry.name.split("/"))
      if (!destination.startsWith(root + path.sep)) {
        throw new CliError(`refusing archive entry ${JSON.stringify(entry.name)}: it resolves outside ${target}`)
      }
      if (entry.type === "directory") {
        await fs.mkdir(destination, { recursive: true })
        continue
      }
      await fs.mkdir(path.dirname(destination), { recursive: true })
      const out = await fs.open(destination, "wx", 0o644).catch((error: unknown) => {
        throw new CliError(`cannot extract ${entry.name}: ${(error as Error).message}`)
      })
      try {
        const buffer = Buffer.alloc(Math.min(entry.size, 1 << 20))
        for (let done = 0; done < entry.size;) {
          const { bytesRead } = await handle.read(
            buffer,
            0,
            Math.min(buffer.length, entry.size - done),
            entry.offset + done
          )
          if (bytesRead === 0) throw new CliError(`entry ${entry.name} is truncated`)
          await out.write(buffer.subarray(0, bytesRead))
          done += bytesRead
        }
      } finally {
        await out.close()
      }
    }
  } finally {
    await handle.close()
  }
  return entries
}

/** The bytes of one (small) file entry, such as MLmodel. */
export const readTarFile = async (file: string, entry: TarEntry): Promise<Buffer> => {
  const handle = await fs.open(file, "r")
  try {
    const buffer = Buffer.alloc(entry.size)
    await handle.read(buffer, 0, entry.size, entry.offset)
    return buffer
  } finally {
    await handle.close()
  }
}
