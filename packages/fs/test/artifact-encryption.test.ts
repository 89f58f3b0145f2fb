// Artifacts encrypted at rest (AES-256-GCM in authenticated chunks): real files in a temp
// directory, changed on disk the way an attacker or a failing disk would.
import { ArtifactStore, makeUlid } from "@org/ml-core"
import { Cause, Effect, Exit } from "effect"
import { createHash, randomBytes } from "node:crypto"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { ArtifactCipher, FsArtifactStore } from "../src/index.js"

const directory = await fs.mkdtemp(path.join(os.tmpdir(), "ml-fs-encryption-"))
afterAll(() => fs.rm(directory, { recursive: true, force: true }))

const newKey = () => ArtifactCipher.decodeKey(randomBytes(32).toString("base64"))!
const keyA = newKey()
const keyB = newKey()
const chunk = ArtifactCipher.chunkPlaintextBytes

const streamOf = (bytes: Uint8Array, piece = 50_000) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      // Pieces that do not line up with the cipher's chunks, as a network body arrives.
      for (let offset = 0; offset < bytes.length; offset += piece) {
        controller.enqueue(bytes.slice(offset, offset + piece))
      }
      controller.close()
    }
  })

const readAll = async (stream: ReadableStream<Uint8Array>) => new Uint8Array(await new Response(stream).arrayBuffer())

const withStore = <A, E>(
  encryption: ArtifactCipher.ArtifactKeyring | undefined,
  effect: Effect.Effect<A, E, ArtifactStore.ArtifactStore>
) => Effect.runPromiseExit(Effect.provide(effect, FsArtifactStore.layer({ directory, encryption })))

const write = async (encryption: ArtifactCipher.ArtifactKeyring | undefined, modelId: string, bytes: Uint8Array) => {
  const exit = await withStore(
    encryption,
    ArtifactStore.ArtifactStore.use((store) => store.write(modelId, streamOf(bytes), { maxBytes: 1e9 }))
  )
  if (Exit.isFailure(exit)) throw Cause.squash(exit.cause)
  return exit.value
}

const read = async (
  encryption: ArtifactCipher.ArtifactKeyring | undefined,
  modelId: string,
  artifact: ArtifactStore.StoredArtifact
) => {
  const exit = await withStore(
    encryption,
    ArtifactStore.ArtifactStore.use((store) => store.open(modelId, artifact))
  )
  return Exit.isSuccess(exit) ? { bytes: await readAll(exit.value) } : { error: Cause.squash(exit.cause) }
}

/** Byte equality (vitest's deep equality walks a typed array element by element: slow for MiBs). */
const expectBytes = (result: { readonly bytes?: Uint8Array }, expected: Uint8Array) => {
  expect(result.bytes?.byteLength).toBe(expected.byteLength)
  expect(Buffer.from(result.bytes!).equals(Buffer.from(expected))).toBe(true)
}

const fileOf = (modelId: string, sha256: string) => path.join(directory, "artifacts", modelId, `${sha256}.enc`)

describe("fs artifacts encrypted at rest", () => {
  const keyring = { current: keyA }

  it.each([0, 1, chunk - 1, chunk, chunk + 1, 3 * chunk, 5 * 1024 * 1024 + 7])(
    "round-trips %i bytes, and the file on disk is not the plaintext",
    async (size) => {
      const modelId = makeUlid(Date.now())
      const bytes = new Uint8Array(randomBytes(size))
      const artifact = await write(keyring, modelId, bytes)
      const sha256 = createHash("sha256").update(bytes).digest("hex")
      expect(artifact).toEqual({ sha256, sizeBytes: size })
      expectBytes(await read(keyring, modelId, artifact), bytes)
      expect(await fs.readdir(path.join(directory, "artifacts", modelId))).toEqual([`${sha256}.enc`])
      const onDisk = new Uint8Array(await fs.readFile(fileOf(modelId, sha256)))
      expect(ArtifactCipher.plaintextSize(onDisk.byteLength)).toBe(size)
      if (size >= 16) expect(Buffer.from(onDisk).includes(Buffer.from(bytes.subarray(0, 16)))).toBe(false)
    }
  )

  it("a repetitive artifact does not show through (a fresh nonce per file and per chunk)", async () => {
    const bytes = new Uint8Array(4 * chunk).fill(0x41)
    const modelId = makeUlid(Date.now())
    const artifact = await write(keyring, modelId, bytes)
    const onDisk = await fs.readFile(fileOf(modelId, artifact.sha256))
    expect(onDisk.includes(Buffer.alloc(64, 0x41))).toBe(false)
    const first = onDisk.subarray(ArtifactCipher.headerBytes, ArtifactCipher.headerBytes + 64)
    const second = onDisk.subarray(ArtifactCipher.headerBytes + ArtifactCipher.recordBytes).subarray(0, 64)
    expect(Buffer.compare(first, second)).not.toBe(0)
  })

  const tamperCases: ReadonlyArray<[string, (file: Buffer) => Buffer]> = [
    ["a flipped bit in a chunk", (file) => {
      file[ArtifactCipher.headerBytes + ArtifactCipher.recordBytes + 100]! ^= 1
      return file
    }],
    ["a flipped bit in the header's nonce", (file) => {
      file[ArtifactCipher.headerBytes - 1]! ^= 1
      return file
    }],
    [
      "the last chunk cut off (truncated at a chunk boundary)",
      (file) => file.subarray(0, ArtifactCipher.headerBytes + 2 * ArtifactCipher.recordBytes)
    ],
    ["a few bytes cut off the end", (file) => file.subarray(0, file.byteLength - 5)],
    ["two chunks swapped", (file) => {
      const at = (i: number) =>
        Buffer.from(file.subarray(
          ArtifactCipher.headerBytes + i * ArtifactCipher.recordBytes,
          ArtifactCipher.headerBytes + (i + 1) * ArtifactCipher.recordBytes
        ))
      const [first, second] = [at(0), at(1)]
      second.copy(file, ArtifactCipher.headerBytes)
      first.copy(file, ArtifactCipher.headerBytes + ArtifactCipher.recordBytes)
      return file
    }],
    ["a chunk dropped from the middle", (file) =>
      Buffer.concat([
        file.subarray(0, ArtifactCipher.headerBytes),
        file.subarray(ArtifactCipher.headerBytes + ArtifactCipher.recordBytes)
      ])],
    ["the header removed", (file) => file.subarray(ArtifactCipher.headerBytes)]
  ]

  it.each(tamperCases)("%s is an integrity error and nothing is served", async (_, tamper) => {
    const modelId = makeUlid(Date.now())
    const bytes = new Uint8Array(randomBytes(3 * chunk + 10))
    const artifact = await write(keyring, modelId, bytes)
    const file = fileOf(modelId, artifact.sha256)
    await fs.writeFile(file, tamper(await fs.readFile(file)))
    const result = await read(keyring, modelId, artifact)
    expect(result.bytes).toBeUndefined()
    expect(result.error).toMatchObject({ _tag: "IntegrityError", expectedSha256: artifact.sha256 })
  })

  it("an artifact encrypted with a key that is not configured is a StorageError naming the key id", async () => {
    const modelId = makeUlid(Date.now())
    const artifact = await write(keyring, modelId, new Uint8Array(randomBytes(1000)))
    for (const encryption of [undefined, { current: keyB }]) {
      const result = await read(encryption, modelId, artifact)
      expect(result.error).toMatchObject({ _tag: "StorageError" })
      expect(String((result.error as Error).message)).toContain(`key ${keyA.id}`)
      expect(String((result.error as Error).message)).toContain("ML_ARTIFACT_DECRYPTION_KEYS")
    }
  })

  it("after rotation, old artifacts read with the old key as a decryption key; new ones use the new key", async () => {
    const modelId = makeUlid(Date.now())
    const oldBytes = new Uint8Array(randomBytes(chunk + 3))
    const old = await write({ current: keyA }, modelId, oldBytes)
    const rotated = { current: keyB, decryptionKeys: [keyA] }
    expectBytes(await read(rotated, modelId, old), oldBytes)
    const newBytes = new Uint8Array(randomBytes(1234))
    const fresh = await write(rotated, modelId, newBytes)
    expectBytes(await read({ current: keyB }, modelId, fresh), newBytes)
    expect((await read({ current: keyA }, modelId, fresh)).error).toMatchObject({ _tag: "StorageError" })
  })

  it("plaintext artifacts from before encryption stay readable; a new upload replaces them encrypted", async () => {
    const modelId = makeUlid(Date.now())
    const bytes = new Uint8Array(randomBytes(chunk * 2))
    const artifact = await write(undefined, modelId, bytes)
    expect(await fs.readdir(path.join(directory, "artifacts", modelId))).toEqual([artifact.sha256])
    expectBytes(await read(keyring, modelId, artifact), bytes)
    await write(keyring, modelId, bytes)
    expect(await fs.readdir(path.join(directory, "artifacts", modelId))).toEqual([`${artifact.sha256}.enc`])
    expectBytes(await read(keyring, modelId, artifact), bytes)
  })

  // Written by the previous release (format 1: 64 KiB chunks, no size byte) with a test key,
  // 2 * 64 KiB + 5 bytes of ((i * 7 + 3) % 251): three records.
  const formatOneKey = ArtifactCipher.decodeKey(Buffer.alloc(32, 7).toString("base64"))!
  const formatOnePlaintext = new Uint8Array(2 * 65536 + 5).map((_, i) => (i * 7 + 3) % 251)
  const formatOneArtifact = {
    sha256: createHash("sha256").update(formatOnePlaintext).digest("hex"),
    sizeBytes: formatOnePlaintext.byteLength
  }
  const placeFormatOneFile = async (modelId: string, tamper: (file: Buffer) => Buffer = (file) => file) => {
    const fixture = await fs.readFile(new URL("fixtures/format-v1-64kib.enc", import.meta.url))
    expect(fixture[4]).toBe(1) // format version 1
    await fs.mkdir(path.join(directory, "artifacts", modelId), { recursive: true })
    await fs.writeFile(fileOf(modelId, formatOneArtifact.sha256), tamper(fixture))
  }

  it("artifacts in format 1 (64 KiB chunks) stay readable", async () => {
    const modelId = makeUlid(Date.now())
    await placeFormatOneFile(modelId)
    expectBytes(
      await read({ current: keyA, decryptionKeys: [formatOneKey] }, modelId, formatOneArtifact),
      formatOnePlaintext
    )
  })

  it("a format 1 artifact with a flipped bit in its second chunk is an integrity error", async () => {
    const modelId = makeUlid(Date.now())
    await placeFormatOneFile(modelId, (file) => {
      file[ArtifactCipher.headerBytes + 65536 + 16 + 100]! ^= 1
      return file
    })
    const result = await read({ current: formatOneKey }, modelId, formatOneArtifact)
    expect(result.bytes).toBeUndefined()
    expect(result.error).toMatchObject({ _tag: "IntegrityError", expectedSha256: formatOneArtifact.sha256 })
  })

  it("new artifacts are format 2 with 1 MiB chunks, recorded in the header", async () => {
    const modelId = makeUlid(Date.now())
    const artifact = await write(keyring, modelId, new Uint8Array(randomBytes(chunk + 1)))
    const onDisk = await fs.readFile(fileOf(modelId, artifact.sha256))
    expect([onDisk[4], onDisk[5]]).toEqual([2, 20]) // version 2, chunk size 2^20
    expect(onDisk.byteLength).toBe(ArtifactCipher.headerBytes + 2 * 16 + chunk + 1)
  })

  it("a format 2 file with another chunk size (as its header says) is readable", async () => {
    const modelId = makeUlid(Date.now())
    const bytes = new Uint8Array(randomBytes(3 * 4096 + 9))
    const encryptor = new ArtifactCipher.ChunkEncryptor(keyA, 4096)
    const file = Buffer.concat([...encryptor.push(bytes), ...encryptor.finish()])
    expect(file.byteLength).toBe(ArtifactCipher.headerBytes + 4 * 16 + bytes.byteLength)
    const artifact = { sha256: createHash("sha256").update(bytes).digest("hex"), sizeBytes: bytes.byteLength }
    await fs.mkdir(path.join(directory, "artifacts", modelId), { recursive: true })
    await fs.writeFile(fileOf(modelId, artifact.sha256), file)
    expectBytes(await read(keyring, modelId, artifact), bytes)
  })

  it.each([
    ["changed to another valid size", 16],
    ["out of range", 40]
  ])("a header whose chunk size byte is %s is an integrity error", async (_, log2) => {
    const modelId = makeUlid(Date.now())
    const artifact = await write(keyring, modelId, new Uint8Array(randomBytes(2 * chunk + 5)))
    const file = fileOf(modelId, artifact.sha256)
    const stored = await fs.readFile(file)
    stored[5] = log2
    await fs.writeFile(file, stored)
    const result = await read(keyring, modelId, artifact)
    expect(result.bytes).toBeUndefined()
    expect(result.error).toMatchObject({ _tag: "IntegrityError", expectedSha256: artifact.sha256 })
  })

  it("refuses to encrypt with a chunk size that is not a power of two from 4 KiB to 16 MiB", () => {
    for (const size of [0, 1000, 2048, 3 * 4096, 32 * 1024 * 1024]) {
      expect(() => new ArtifactCipher.ChunkEncryptor(keyA, size)).toThrow(/chunk size/)
    }
  })

  it("decodeKey accepts exactly 32 bytes of base64", () => {
    expect(ArtifactCipher.decodeKey(randomBytes(32).toString("base64"))?.bytes.byteLength).toBe(32)
    expect(ArtifactCipher.decodeKey(randomBytes(31).toString("base64"))).toBeUndefined()
    expect(ArtifactCipher.decodeKey(randomBytes(33).toString("base64"))).toBeUndefined()
    expect(ArtifactCipher.decodeKey("not base64 at all!")).toBeUndefined()
    expect(ArtifactCipher.decodeKey("")).toBeUndefined()
  })
})
