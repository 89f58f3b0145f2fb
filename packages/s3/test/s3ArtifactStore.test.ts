import { ArtifactStore, makeUlid } from "@org/ml-core"
import { artifactStoreContract } from "@org/ml-core/testing"
import { Effect, Exit } from "effect"
import { createHash } from "node:crypto"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { S3ArtifactStore, S3Client } from "../src/index.js"
import { type RunningS3rver, s3rverCredentials, startS3rver } from "../src/Testing.js"

let s3: RunningS3rver
beforeAll(async () => {
  s3 = await startS3rver()
})
afterAll(() => s3?.stop())

const prefix = `test-${process.pid}`
const options = (overrides: Partial<S3ArtifactStore.S3ArtifactStoreOptions> = {}) => ({
  endpoint: s3.endpoint,
  region: "us-east-1",
  bucket: s3.bucket,
  forcePathStyle: true,
  credentials: s3rverCredentials,
  prefix,
  partBytes: 5 * 1024 * 1024,
  ...overrides
})
const client = () => S3Client.make(options())
const layout = S3ArtifactStore.keys(prefix)

/** Replaces a stored object by one with its first byte flipped, as someone with bucket access could. */
const corrupt = async (modelId: string, sha256: string) => {
  const key = layout.artifact(modelId, sha256)
  const response = await client().getObject(key)
  const bytes = new Uint8Array(await response!.arrayBuffer())
  bytes[0] = bytes[0]! ^ 0xff
  await client().putObject(key, bytes, S3Client.sha256Hex(bytes))
}

artifactStoreContract("s3 (s3rver)", () => S3ArtifactStore.layer(options()), {
  corrupt,
  leftovers: async (modelId) =>
    [...await client().listObjects(layout.model(modelId)), ...await client().listObjects(layout.temp)].map((o) => o.key)
})

const run = <A, E>(program: Effect.Effect<A, E, ArtifactStore.ArtifactStore>, overrides = {}) =>
  Effect.runPromise(Effect.provide(program, S3ArtifactStore.layer(options(overrides))))
const runExit = <A, E>(program: Effect.Effect<A, E, ArtifactStore.ArtifactStore>, overrides = {}) =>
  Effect.runPromiseExit(Effect.provide(program, S3ArtifactStore.layer(options(overrides))))
const failureTag = (exit: Exit.Exit<unknown, unknown>) =>
  Exit.isFailure(exit) ? (exit.cause.reasons.find((r: any) => r._tag === "Fail") as any)?.error?._tag : undefined

/** `total` bytes of a repeating but position-dependent pattern, produced in `chunk`-sized pieces on demand. */
const generated = (total: number, chunk = 64 * 1024) => {
  let sent = 0
  const hash = createHash("sha256")
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) return controller.close()
      const size = Math.min(chunk, total - sent)
      const bytes = new Uint8Array(size)
      for (let i = 0; i < size; i += 4096) bytes[i] = ((sent + i) / 4096) & 0xff
      hash.update(bytes)
      sent += size
      controller.enqueue(bytes)
    }
  })
  return { stream, digest: () => hash.digest("hex") }
}

const readDigest = async (stream: ReadableStream<Uint8Array>) => {
  const hash = createHash("sha256")
  let size = 0
  const reader = stream.getReader()
  for (let next = await reader.read(); !next.done; next = await reader.read()) {
    hash.update(next.value)
    size += next.value.byteLength
  }
  return { sha256: hash.digest("hex"), size }
}

describe("S3ArtifactStore", () => {
  it("uploads a multi-part artifact to a temporary key and lands it under its digest only when complete", async () => {
    const modelId = makeUlid(Date.now())
    const body = generated(12 * 1024 * 1024 + 12345, 100_000)
    const { stored, back } = await run(Effect.gen(function*() {
      const store = yield* ArtifactStore.ArtifactStore
      const stored = yield* store.write(modelId, body.stream, { maxBytes: 1 << 30 })
      const back = yield* Effect.promise(async () => readDigest(await Effect.runPromise(store.open(modelId, stored))))
      return { stored, back }
    }))
    expect(stored).toEqual({ sha256: body.digest(), sizeBytes: 12 * 1024 * 1024 + 12345 })
    expect(back).toEqual({ sha256: stored.sha256, size: stored.sizeBytes })
    expect((await client().listObjects(layout.model(modelId))).map((o) => o.key)).toEqual([
      layout.artifact(modelId, stored.sha256)
    ])
    expect(await client().listObjects(layout.temp)).toEqual([])
  })

  it("refuses a multi-part upload whose digest is not the expected one, leaving no object", async () => {
    const modelId = makeUlid(Date.now())
    const body = generated(11 * 1024 * 1024)
    const exit = await runExit(
      ArtifactStore.ArtifactStore.use((s) =>
        s.write(modelId, body.stream, { maxBytes: 1 << 30, expectedSha256: "a".repeat(64) })
      )
    )
    expect(failureTag(exit)).toBe("IntegrityError")
    expect(await client().listObjects(layout.model(modelId))).toEqual([])
    expect(await client().listObjects(layout.temp)).toEqual([])
  })

  it("refuses to serve a tampered multi-part artifact", async () => {
    const modelId = makeUlid(Date.now())
    const stored = await run(
      ArtifactStore.ArtifactStore.use((s) => s.write(modelId, generated(6 * 1024 * 1024).stream, { maxBytes: 1 << 30 }))
    )
    await corrupt(modelId, stored.sha256)
    const exit = await runExit(ArtifactStore.ArtifactStore.use((s) => s.open(modelId, stored)))
    expect(failureTag(exit)).toBe("IntegrityError")
  })

  it("copies in parts past the single-copy size (refused by s3rver, so the failure must leave nothing)", async () => {
    // s3rver has no UploadPartCopy: this proves the large-object path is taken and cleans up on failure.
    const modelId = makeUlid(Date.now())
    const exit = await runExit(
      ArtifactStore.ArtifactStore.use((s) =>
        s.write(modelId, generated(6 * 1024 * 1024).stream, { maxBytes: 1 << 30 })
      ),
      { maxSingleCopyBytes: 1024 * 1024 }
    )
    expect(failureTag(exit)).toBe("StorageError")
    expect(await client().listObjects(layout.model(modelId))).toEqual([])
    expect(await client().listObjects(layout.temp)).toEqual([])
  })

  it("fails to start with an unknown access key, naming the store and the service's error", async () => {
    const exit = await runExit(ArtifactStore.ArtifactStore.use((s) => s.ping()), {
      credentials: { accessKeyId: "NOT-A-KEY", secretAccessKey: "S3RVER" }
    })
    expect(failureTag(exit)).toBe("StorageError")
    expect(String((exit as any).cause)).toMatch(
      /S3 artifact store ml-artifacts\/test-\d+ is not usable: S3 HeadBucket failed: 403/
    )
  })

  it("removes temporary objects a crash left more than an hour ago at start, keeping recent ones", async () => {
    // s3rver cannot backdate an object, so only the recent one is observable: it must survive.
    const recent = `${layout.temp}recent-${Date.now()}`
    await client().putObject(recent, new Uint8Array([1]), S3Client.sha256Hex(new Uint8Array([1])))
    await run(ArtifactStore.ArtifactStore.use((s) => s.ping()))
    expect((await client().listObjects(layout.temp)).map((o) => o.key)).toEqual([recent])
    await client().deleteObject(recent)
  })

  it("lets a download take longer than the request timeout, which bounds only the wait for headers", async () => {
    const modelId = makeUlid(Date.now())
    const size = 6 * 1024 * 1024
    const stored = await run(
      ArtifactStore.ArtifactStore.use((s) => s.write(modelId, generated(size).stream, { maxBytes: size }))
    )
    // Read through a store whose requests time out after 2 s, by a client that pauses 5 s midway.
    const received = await run(
      Effect.gen(function*() {
        const stream = yield* ArtifactStore.ArtifactStore.use((s) => s.open(modelId, stored))
        return yield* Effect.promise(async () => {
          const reader = stream.getReader()
          let received = (await reader.read()).value?.byteLength ?? 0
          await new Promise((resolve) => setTimeout(resolve, 5000))
          for (let next = await reader.read(); !next.done; next = await reader.read()) received += next.value.byteLength
          return received
        })
      }),
      { requestTimeoutMs: 2000 }
    )
    expect(received).toBe(size)
  })

  it("streams a 200 MiB upload and download with bounded memory (RSS growth < 64 MiB)", async () => {
    const total = 200 * 1024 * 1024
    const modelId = makeUlid(Date.now())
    const body = generated(total)
    let before = 0
    let peak = 0
    const sample = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss)
    }, 20)
    try {
      const back = await run(
        Effect.gen(function*() {
          const store = yield* ArtifactStore.ArtifactStore
          // A warm-up of two parts first: module loading and the HTTP client's set-up are not per-byte costs.
          const warmUp = yield* store.write(modelId, generated(16 * 1024 * 1024).stream, { maxBytes: total })
          yield* Effect.promise(async () => readDigest(await Effect.runPromise(store.open(modelId, warmUp))))
          before = peak = process.memoryUsage().rss
          const stored = yield* store.write(modelId, body.stream, { maxBytes: total })
          const stream = yield* store.open(modelId, stored)
          return yield* Effect.promise(() => readDigest(stream))
        }),
        { partBytes: 8 * 1024 * 1024 }
      )
      expect(back).toEqual({ sha256: body.digest(), size: total })
    } finally {
      clearInterval(sample)
    }
    const growthMiB = (peak - before) / 1024 ** 2
    console.log(`200 MiB through s3rver: peak RSS growth ${growthMiB.toFixed(1)} MiB`)
    expect(growthMiB).toBeLessThan(64)
  }, 300_000)
})
