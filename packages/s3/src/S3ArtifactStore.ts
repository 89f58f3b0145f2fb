/**
 * Artifacts in an S3-compatible bucket under `<prefix>/artifacts/<model id>/<sha256>`: addressed
 * by content within a model, as on disk, so `remove` for one model never touches another's copy.
 *
 * Uploads stream: the body is hashed as it is read and cut into parts of `partBytes` (8 MiB), at
 * most one being filled while one is sent, so memory stays near 2 parts for any size. An artifact
 * smaller than one part is one PutObject straight to its final key once its digest is known and
 * checked (a PUT appears whole or not at all). A larger one goes as a multipart upload, which
 * stays invisible until completed: straight to its final key when the client declared the digest
 * (completed only once the received bytes match it), otherwise to a temporary key
 * `<prefix>/tmp/<uuid>`, completed, its size read back, and only then copied to its final key
 * and the temporary object removed. Every request signs its payload's SHA-256, so the
 * service refuses a part whose bytes changed on the way. No final key ever holds an incomplete or
 * unverified object; a crash leaves at most a temporary object (removed by a later start once an
 * hour old) or an unfinished multipart upload (a bucket lifecycle rule aborts those; README).
 *
 * `open` reads the object once to verify its SHA-256 before any byte is served, then streams it
 * again pinned to the verified version (If-Match on its ETag) and checks the digest once more on
 * the way, failing the stream at its end if the bytes changed.
 */
import { ArtifactStore, IntegrityError, StorageError, ulidPattern } from "@org/ml-core"
import { Effect, Layer } from "effect"
import { createHash, randomUUID } from "node:crypto"
import * as S3Client from "./S3Client.js"

const sha256Pattern = /^[0-9a-f]{64}$/

export interface S3ArtifactStoreOptions extends S3Client.S3ClientOptions {
  /** Key prefix inside the bucket ("" for the bucket root), without leading or trailing slash. */
  readonly prefix: string
  /** Size of each multipart part (at least 5 MiB, S3's minimum); default 8 MiB. */
  readonly partBytes?: number | undefined
  /** Objects up to this size are copied in one CopyObject; larger in parts (S3's limit is 5 GiB). */
  readonly maxSingleCopyBytes?: number | undefined
}

export const defaultPartBytes = 8 * 1024 * 1024
const minPartBytes = 5 * 1024 * 1024
const singleCopyLimit = 5 * 1024 ** 3
/** Temporary objects older than this were left by a crash: an upload in progress is never this old. */
export const staleTempObjectAgeMs = 60 * 60 * 1000

/** Key layout within the prefix, shared with the tests and `ml-server` tooling. */
export const keys = (prefix: string) => {
  const root = prefix === "" ? "" : `${prefix}/`
  return {
    artifacts: `${root}artifacts/`,
    temp: `${root}tmp/`,
    model: (modelId: string) => `${root}artifacts/${modelId}/`,
    artifact: (modelId: string, sha256: string) => {
      // Keys are built only from validated ids, so nothing a request says can reach another key.
      if (!ulidPattern.test(modelId)) {
        throw new StorageError({ message: `Refusing artifact key for invalid model id ${JSON.stringify(modelId)}` })
      }
      if (!sha256Pattern.test(sha256)) {
        throw new StorageError({ message: `Refusing artifact key for invalid digest ${JSON.stringify(sha256)}` })
      }
      return `${root}artifacts/${modelId}/${sha256}`
    }
  }
}

const describe = (cause: unknown) => (cause instanceof Error ? cause.message : String(cause))

/** Typed errors thrown inside the async bodies pass through; anything else is a StorageError naming the bucket. */
const asStorageError = (bucket: string, operation: string) => (cause: unknown) =>
  cause instanceof StorageError || cause instanceof IntegrityError ||
    (cause as { _tag?: string } | undefined)?._tag === "ArtifactTooLargeError"
    ? cause as StorageError
    : new StorageError({ message: `Artifact ${operation} in S3 bucket ${bucket} failed: ${describe(cause)}`, cause })

/**
 * Fills fixed-size part buffers from a stream. Two buffers take turns: one is filled while the
 * other is being sent, and a buffer is reused only after its request has finished.
 */
class PartBuffers {
  private current = 0
  filled = 0
  constructor(readonly partBytes: number, private readonly buffers: [Uint8Array, Uint8Array]) {}
  get part(): Uint8Array {
    return this.buffers[this.current]!.subarray(0, this.filled)
  }
  /** Copies as much of `chunk` as fits; returns what did not. */
  take(chunk: Uint8Array): Uint8Array {
    const room = this.partBytes - this.filled
    const taken = chunk.byteLength <= room ? chunk : chunk.subarray(0, room)
    this.buffers[this.current]!.set(taken, this.filled)
    this.filled += taken.byteLength
    return chunk.subarray(taken.byteLength)
  }
  get full(): boolean {
    return this.filled === this.partBytes
  }
  swap() {
    this.current = 1 - this.current
    this.filled = 0
  }
}

export const make = (options: S3ArtifactStoreOptions) =>
  Effect.gen(function*() {
    const partBytes = options.partBytes ?? defaultPartBytes
    if (partBytes < minPartBytes) {
      return yield* Effect.fail(new StorageError({ message: `S3 part size must be at least ${minPartBytes} bytes` }))
    }
    const maxSingleCopyBytes = options.maxSingleCopyBytes ?? singleCopyLimit
    const client = S3Client.make(options)
    // Part buffers are reused across uploads: fresh 8 MiB buffers per upload are freed only when
    // the collector gets to them, and under a stream of uploads that garbage showed up as RSS.
    const spareBuffers: Array<Uint8Array> = []
    const maxSpareBuffers = 4
    const takeBuffer = () => spareBuffers.pop() ?? new Uint8Array(partBytes)
    const returnBuffers = (buffers: ReadonlyArray<Uint8Array>) => {
      for (const buffer of buffers) if (spareBuffers.length < maxSpareBuffers) spareBuffers.push(buffer)
    }
    const layout = keys(options.prefix)
    const where = `${options.bucket}${options.prefix === "" ? "" : `/${options.prefix}`}`

    // Fails fast on a wrong endpoint, bucket or credentials, and sweeps what a crash left behind.
    yield* Effect.tryPromise({
      try: async () => {
        await client.headBucket()
        const now = Date.now()
        for (const object of await client.listObjects(layout.temp)) {
          if (now - object.lastModified.getTime() > staleTempObjectAgeMs) await client.deleteObject(object.key)
        }
      },
      catch: (cause) =>
        new StorageError({ message: `S3 artifact store ${where} is not usable: ${describe(cause)}`, cause })
    })

    /** Copies the verified temporary object to its final key: one request up to 5 GiB, in parts beyond. */
    const land = async (tempKey: string, finalKey: string, size: number, signal: AbortSignal) => {
      if (size <= maxSingleCopyBytes) return client.copyObject(tempKey, finalKey, signal)
      const uploadId = await client.createMultipartUpload(finalKey, signal)
      try {
        const copyPartBytes = Math.max(partBytes, Math.ceil(size / 10_000), 512 * 1024 * 1024)
        const parts: Array<S3Client.CompletedPart> = []
        for (let start = 0, n = 1; start < size; start += copyPartBytes, n++) {
          const end = Math.min(size, start + copyPartBytes) - 1
          parts.push(await client.uploadPartCopy(finalKey, uploadId, n, tempKey, [start, end], signal))
        }
        await client.completeMultipartUpload(finalKey, uploadId, parts, signal)
      } catch (error) {
        await client.abortMultipartUpload(finalKey, uploadId).catch(() => undefined)
        throw error
      }
    }

    const write: ArtifactStore.ArtifactStoreShape["write"] = (modelId, body, writeOptions) =>
      Effect.tryPromise({
        try: async (signal) => {
          keys(options.prefix).artifact(modelId, "0".repeat(64)) // validates the id before any request
          const hash = createHash("sha256")
          const reader = body.getReader()
          const partBuffers: [Uint8Array, Uint8Array] = [takeBuffer(), takeBuffer()]
          const buffers = new PartBuffers(partBytes, partBuffers)
          // A declared digest names the final key up front; otherwise it is known only at the end.
          const declaredKey =
            writeOptions.expectedSha256 !== undefined && sha256Pattern.test(writeOptions.expectedSha256)
              ? layout.artifact(modelId, writeOptions.expectedSha256)
              : undefined
          const tempKey = declaredKey ?? `${layout.temp}${randomUUID()}`
          let uploadId: string | undefined
          let sending: Promise<S3Client.CompletedPart> | undefined
          const parts: Array<S3Client.CompletedPart> = []
          let size = 0
          let completed = false
          const send = async () => {
            if (sending !== undefined) parts.push(await sending)
            uploadId ??= await client.createMultipartUpload(tempKey, signal)
            sending = client.uploadPart(tempKey, uploadId, parts.length + 1, buffers.part, signal)
            sending.catch(() => undefined) // observed by the next await
            buffers.swap()
          }
          try {
            for (;;) {
              let next: ReadableStreamReadResult<Uint8Array>
              try {
                next = await reader.read()
              } catch (cause) {
                throw new StorageError({ message: `Artifact upload was interrupted: ${describe(cause)}`, cause })
              }
              if (next.done) break
              size += next.value.byteLength
              if (size > writeOptions.maxBytes) {
                await reader.cancel().catch(() => undefined)
                throw ArtifactStore.tooLarge(writeOptions.maxBytes)
              }
              hash.update(next.value)
              let rest = next.value
              while (rest.byteLength > 0) {
                rest = buffers.take(rest)
                if (buffers.full) await send()
              }
            }
            const sha256 = hash.digest("hex")
            if (writeOptions.expectedSha256 !== undefined && writeOptions.expectedSha256 !== sha256) {
              throw ArtifactStore.digestMismatch(
                writeOptions.expectedSha256,
                sha256,
                "Uploaded artifact does not match"
              )
            }
            const finalKey = layout.artifact(modelId, sha256)
            if (uploadId === undefined && sending === undefined) {
              await client.putObject(finalKey, buffers.part, sha256, signal)
              return { sha256, sizeBytes: size }
            }
            if (buffers.filled > 0) await send()
            parts.push(await sending!)
            sending = undefined
            await client.completeMultipartUpload(tempKey, uploadId!, parts, signal)
            completed = true
            if (tempKey === finalKey) return { sha256, sizeBytes: size }
            const head = await client.headObject(tempKey, signal)
            if (head?.size !== size) {
              throw new StorageError({
                message: `Artifact assembled in S3 bucket ${options.bucket} has ${head?.size ?? "no"} bytes, ` +
                  `expected ${size}`
              })
            }
            await land(tempKey, finalKey, size, signal)
            return { sha256, sizeBytes: size }
          } catch (error) {
            await sending?.catch(() => undefined)
            if (uploadId !== undefined && !completed) {
              // Best effort: a service without AbortMultipartUpload leaves it to the lifecycle rule.
              await client.abortMultipartUpload(tempKey, uploadId).catch(() => undefined)
            }
            throw error
          } finally {
            // Every request that read these buffers has settled by now (awaited above or in the catch).
            returnBuffers(partBuffers)
            if (completed && tempKey !== declaredKey) await client.deleteObject(tempKey).catch(() => undefined)
          }
        },
        catch: asStorageError(options.bucket, "upload")
      })

    /** Hashes a response body to its end; the digest and the number of bytes. */
    const digestOf = async (response: Response) => {
      const hash = createHash("sha256")
      let size = 0
      const reader = response.body!.getReader()
      for (let next = await reader.read(); !next.done; next = await reader.read()) {
        hash.update(next.value)
        size += next.value.byteLength
      }
      return { sha256: hash.digest("hex"), size }
    }

    const open: ArtifactStore.ArtifactStoreShape["open"] = (modelId, artifact) =>
      Effect.tryPromise({
        try: async () => {
          const key = layout.artifact(modelId, artifact.sha256)
          const first = await client.getObject(key)
          if (first === undefined) {
            throw ArtifactStore.digestMismatch(artifact.sha256, "missing", "Stored artifact is missing")
          }
          const etag = first.headers.get("etag") ?? undefined
          const actual = await digestOf(first)
          if (actual.sha256 !== artifact.sha256) {
            throw ArtifactStore.digestMismatch(artifact.sha256, actual.sha256, "Stored artifact is corrupted")
          }
          const second = await client.getObject(key, { ifMatch: etag })
          if (second?.body == null) {
            throw ArtifactStore.digestMismatch(artifact.sha256, "missing", "Stored artifact is missing")
          }
          const hash = createHash("sha256")
          // Defence in depth: if the bytes changed after the check, the stream fails instead of ending.
          return second.body.pipeThrough(
            new TransformStream<Uint8Array, Uint8Array>({
              transform(chunk, controller) {
                hash.update(chunk)
                controller.enqueue(chunk)
              },
              flush(controller) {
                const served = hash.digest("hex")
                if (served !== artifact.sha256) {
                  controller.error(
                    ArtifactStore.digestMismatch(artifact.sha256, served, "Stored artifact changed while served")
                  )
                }
              }
            })
          )
        },
        catch: (cause) => asStorageError(options.bucket, "read")(cause) as IntegrityError | StorageError
      })

    const remove: ArtifactStore.ArtifactStoreShape["remove"] = (modelId, sha256) =>
      Effect.tryPromise({
        try: () => client.deleteObject(layout.artifact(modelId, sha256)),
        catch: (cause) => asStorageError(options.bucket, "removal")(cause) as StorageError
      })

    const ping = () =>
      Effect.tryPromise({
        // Readiness probes must answer promptly: a bucket silent for 5 s is not ready.
        try: () => client.headBucket(AbortSignal.timeout(Math.min(5000, options.requestTimeoutMs ?? 5000))),
        catch: (cause) =>
          new StorageError({ message: `S3 bucket ${options.bucket} is not reachable: ${describe(cause)}`, cause })
      })

    return ArtifactStore.ArtifactStore.of({ write, open, remove, ping })
  })

export const layer = (options: S3ArtifactStoreOptions): Layer.Layer<ArtifactStore.ArtifactStore, StorageError> =>
  Layer.effect(ArtifactStore.ArtifactStore, make(options))
