/**
 * The file-backed RememberedInstances (`<storage dir>/redis-instance.json`,
 * `<storage dir>/postgres-instance.json`): one JSON object of remembered values by name. It is
 * written whole (a temporary file with a unique name, fsynced, renamed over the old one, then the
 * directory fsynced), so a crash leaves the old or the new file and never half of one, and servers
 * sharing the directory never write the same temporary file. Writes from one process are taken in
 * turn, so two stores remembering different names at once do not drop each other's value.
 */
import type { RememberedInstances } from "@org/ml-core"
import { randomUUID } from "node:crypto"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { fsyncDirectory } from "./StorageFailure.js"

const unreadable = (file: string, why: string) =>
  new Error(
    `${file} (which storage instance this data directory used) ${why}. ` +
      "Restore it, or delete it to forget which instance this directory used."
  )

const readAll = async (file: string): Promise<Record<string, unknown>> => {
  let text: string
  try {
    text = await fs.readFile(file, "utf8")
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {}
    throw error
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw unreadable(file, `is not valid JSON: ${String(error)}`)
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw unreadable(file, "does not hold a JSON object")
  }
  return parsed as Record<string, unknown>
}

/** The write in progress per file in this process; the next one starts after it. */
const writing = new Map<string, Promise<void>>()

const writeWhole = async (file: string, name: string, value: unknown): Promise<void> => {
  const byName = await readAll(file)
  byName[name] = value
  const directory = path.dirname(file)
  await fs.mkdir(directory, { recursive: true })
  const temporary = `${file}.${process.pid}.${randomUUID()}.tmp`
  const handle = await fs.open(temporary, "w")
  try {
    await handle.writeFile(`${JSON.stringify(byName, null, 2)}\n`)
    await handle.sync()
  } finally {
    await handle.close()
  }
  try {
    await fs.rename(temporary, file)
  } catch (error) {
    await fs.rm(temporary, { force: true })
    throw error
  }
  // The rename is an entry in the directory: without this a crash may bring the old file back.
  await fsyncDirectory(directory)
}

/** The values remembered in `file` (created on the first write). */
export const open = (file: string): RememberedInstances => ({
  location: file,
  read: async (name) => {
    const byName = await readAll(file)
    return Object.hasOwn(byName, name) ? byName[name] : undefined
  },
  write: (name, value) => {
    const previous = writing.get(file) ?? Promise.resolve()
    const next = previous.catch(() => undefined).then(() => writeWhole(file, name, value))
    const settled = next.catch(() => undefined)
    writing.set(file, settled)
    void settled.then(() => {
      if (writing.get(file) === settled) writing.delete(file)
    })
    return next
  }
})
