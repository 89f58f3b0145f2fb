/**
 * Whole-file data that earlier releases saved on clean shutdown (drift-windows.json,
 * pipelines-samples.json): read once at start, folded into the journals, then removed.
 */
import { type RecordDecoder, StorageError } from "@org/ml-core"
import { Effect } from "effect"
import * as fs from "node:fs/promises"
import { readTextIfPresent } from "./StorageFailure.js"

/**
 * The saved data, or undefined when there is none (first start). A file that cannot be read or
 * does not decode is a StorageError naming it: start-up stops rather than silently dropping it.
 */
export const readSaved = <A>(file: string, decoder?: RecordDecoder<A>): Effect.Effect<A | undefined, StorageError> =>
  Effect.tryPromise({
    try: async () => {
      const text = await readTextIfPresent(file)
      if (text === undefined) return undefined
      return decoder === undefined ? JSON.parse(text) as A : decoder.fromJson(text, file)
    },
    catch: (cause) =>
      cause instanceof StorageError
        ? cause
        : new StorageError({ message: `Saved file ${file} cannot be read: ${(cause as Error).message}`, cause })
  })

/** Removes a saved file once its data is durable elsewhere (the journal). */
export const removeSaved = (file: string): Effect.Effect<void, StorageError> =>
  Effect.tryPromise({
    try: () => fs.rm(file, { force: true }),
    catch: (cause) => new StorageError({ message: `Saved file ${file} cannot be removed: ${String(cause)}`, cause })
  })
