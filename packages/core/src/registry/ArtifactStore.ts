/**
 * Port: artifact bytes. Artifacts are addressed by (model id, SHA-256), so two racing uploads to
 * one model can never overwrite each other's file, and a stored artifact is immutable. `write`
 * hashes while it reads and lands the artifact only when it is complete, within the size limit
 * and matching the expected digest; `open` re-verifies the digest before any byte is served.
 */
import { Context, Effect, Layer } from "effect"
import { StorageError } from "../shared/Errors.js"
import { ArtifactTooLargeError, IntegrityError } from "./Errors.js"

export interface WriteArtifactOptions {
  readonly maxBytes: number
  readonly expectedSha256?: string | undefined
}

export interface StoredArtifact {
  readonly sha256: string
  readonly sizeBytes: number
}

export interface ArtifactStoreShape {
  readonly write: (
    modelId: string,
    body: ReadableStream<Uint8Array>,
    options: WriteArtifactOptions
  ) => Effect.Effect<StoredArtifact, ArtifactTooLargeError | IntegrityError | StorageError>
  /** A verified stream of the artifact: fails with IntegrityError when the stored bytes no longer match. */
  readonly open: (
    modelId: string,
    artifact: StoredArtifact
  ) => Effect.Effect<ReadableStream<Uint8Array>, IntegrityError | StorageError>
  readonly remove: (modelId: string, sha256: string) => Effect.Effect<void, StorageError>
  readonly ping: () => Effect.Effect<void, StorageError>
}

export class ArtifactStore extends Context.Service<ArtifactStore, ArtifactStoreShape>()("@org/ml-core/ArtifactStore") {}

export const toHex = (bytes: Uint8Array): string => {
  let hex = ""
  for (let i = 0; i < bytes.length; i++) hex += bytes[i]!.toString(16).padStart(2, "0")
  return hex
}

export const sha256Hex = (bytes: Uint8Array): Promise<string> =>
  globalThis.crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>).then((d) => toHex(new Uint8Array(d)))

export const tooLarge = (limitBytes: number) =>
  new ArtifactTooLargeError({ limitBytes, message: `Artifact exceeds the upload limit of ${limitBytes} bytes` })

export const digestMismatch = (expectedSha256: string, actualSha256: string, what: string) =>
  new IntegrityError({
    expectedSha256,
    actualSha256,
    message: `${what}: expected SHA-256 ${expectedSha256}, got ${actualSha256}`
  })

/**
 * Reads a whole stream into memory, or returns undefined (and cancels the stream) as soon as it
 * passes `maxBytes`: for small bodies whose size a client controls.
 */
export const collectBytes = async (
  body: ReadableStream<Uint8Array>,
  maxBytes: number
): Promise<Uint8Array | undefined> => {
  const chunks: Array<Uint8Array> = []
  let size = 0
  const reader = body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined)
      return undefined
    }
    chunks.push(value)
  }
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  return bytes
}

/** In-memory artifacts (buffered whole): for tests and edge runtimes with small models. */
export const makeMemory = Effect.sync(
  (): ArtifactStoreShape & { readonly corrupt: (modelId: string, sha256: string) => void } => {
    const blobs = new Map<string, Uint8Array>()
    const key = (modelId: string, sha256: string) => `${modelId}/${sha256}`
    return {
      write: (modelId, body, options) =>
        Effect.gen(function*() {
          const bytes = yield* Effect.tryPromise({
            try: () => collectBytes(body, options.maxBytes),
            catch: (cause) => new StorageError({ message: `Artifact upload was interrupted: ${String(cause)}`, cause })
          })
          if (bytes === undefined) return yield* Effect.fail(tooLarge(options.maxBytes))
          const sha256 = yield* Effect.promise(() => sha256Hex(bytes))
          if (options.expectedSha256 !== undefined && options.expectedSha256 !== sha256) {
            return yield* Effect.fail(
              digestMismatch(options.expectedSha256, sha256, "Uploaded artifact does not match")
            )
          }
          blobs.set(key(modelId, sha256), bytes)
          return { sha256, sizeBytes: bytes.byteLength }
        }),
      open: (modelId, artifact) =>
        Effect.gen(function*() {
          const bytes = blobs.get(key(modelId, artifact.sha256))
          if (bytes === undefined) {
            return yield* Effect.fail(digestMismatch(artifact.sha256, "missing", "Stored artifact is missing"))
          }
          const actual = yield* Effect.promise(() => sha256Hex(bytes))
          if (actual !== artifact.sha256) {
            return yield* Effect.fail(digestMismatch(artifact.sha256, actual, "Stored artifact is corrupted"))
          }
          return new ReadableStream<Uint8Array>({
            start(controller) {
              controller.enqueue(bytes.slice())
              controller.close()
            }
          })
        }),
      remove: (modelId, sha256) => Effect.sync(() => void blobs.delete(key(modelId, sha256))),
      ping: () => Effect.void,
      corrupt: (modelId, sha256) => {
        const bytes = blobs.get(key(modelId, sha256))
        if (bytes && bytes.length > 0) bytes[0] = bytes[0]! ^ 0xff
      }
    }
  }
)

export const layerMemory: Layer.Layer<ArtifactStore> = Layer.effect(ArtifactStore, makeMemory)
