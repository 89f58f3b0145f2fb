/**
 * Data kept in memory and saved whole on clean shutdown (drift windows, pipeline sample buffers):
 * written to a temp file, fsynced and renamed, so a crash mid-save leaves the previous file.
 */
import { Effect } from "effect"
import * as fs from "node:fs/promises"

/** The saved JSON, or undefined when there is none (first start) or it cannot be read. */
export const readSaved = <A>(file: string): Effect.Effect<A | undefined> =>
  Effect.promise(async () => {
    try {
      return JSON.parse(await fs.readFile(file, "utf8")) as A
    } catch {
      return undefined
    }
  })

export const saveAtomically = (file: string, value: unknown): Effect.Effect<void> =>
  Effect.promise(async () => {
    const temp = `${file}.tmp`
    const handle = await fs.open(temp, "w")
    try {
      await handle.writeFile(JSON.stringify(value))
      await handle.sync()
    } finally {
      await handle.close()
    }
    await fs.rename(temp, file)
  }).pipe(Effect.ignore)
