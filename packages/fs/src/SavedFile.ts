/**
 * Data kept in memory and saved whole on clean shutdown (drift windows, pipeline sample buffers):
 * written to a temp file, fsynced and renamed, so a crash mid-save leaves the previous file.
 */
import { type RecordDecoder, StorageError } from "@org/ml-core"
import { Effect } from "effect"
import * as fs from "node:fs/promises"

/**
 * The saved data, or undefined when there is none (first start). A file that cannot be read or
 * does not decode is a StorageError naming it: start-up stops rather than silently dropping it.
 */
export const readSaved = <A>(file: string, decoder?: RecordDecoder<A>): Effect.Effect<A | undefined, StorageError> =>
  Effect.tryPromise({
    try: async () => {
      let text: string
      try {
        text = await fs.readFile(file, "utf8")
      } catch (cause) {
        if ((cause as NodeJS.ErrnoException).code === "ENOENT") return undefined
        throw cause
      }
      return decoder === undefined ? JSON.parse(text) as A : decoder.fromJson(text, file)
    },
    catch: (cause) =>
      cause instanceof StorageError
        ? cause
        : new StorageError({ message: `Saved file ${file} cannot be read: ${(cause as Error).message}`, cause })
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
