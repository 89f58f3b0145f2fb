/**
 * Artifact encryption at rest: AES-256-GCM in authenticated chunks, streamed both ways.
 *
 * File layout: a 24-byte header (magic "MLA\0", format version, the chunk size as a power of two,
 * 2 reserved bytes, the key id, an 8-byte random nonce prefix), then records of up to one chunk of
 * ciphertext + 16-byte GCM tag. New files use 1 MiB chunks (format 2); format 1 files (64 KiB
 * chunks, size byte 0) stay readable. A record's IV is the nonce prefix + its 4-byte index; its
 * AAD is the header (so the chunk size too) + the index + a final flag, so records cannot be
 * reordered, dropped, truncated or moved to another file. Every file, even an empty one, ends with
 * exactly one final record. The key id is the first 8 bytes of the key's SHA-256, so a reader
 * picks the right key after rotation without trying them all.
 */
import { StorageError } from "@org/ml-core"
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto"

export const keyBytes = 32
/**
 * Chunk size of new files. 1 MiB rather than format 1's 64 KiB: a Decipher per chunk, small
 * AES-GCM calls and joining 16 chunks per served MiB made an encrypted download cost about a third
 * more server CPU (measured 960 vs 640 ms per 256 MiB); larger chunks no longer pay.
 */
export const chunkPlaintextBytes = 1024 * 1024
const tagBytes = 16
/** Bytes of one full record of a new file. */
export const recordBytes = chunkPlaintextBytes + tagBytes
const magic = [0x4d, 0x4c, 0x41, 0x00] // "MLA\0"
const formatVersion = 2
/** Format 1 had no size byte: always 64 KiB chunks. */
const legacyFormatVersion = 1
const legacyChunkPlaintextBytes = 64 * 1024
const chunkSizeOffset = magic.length + 1
// Readable chunk sizes: 4 KiB to 16 MiB (a reader holds one record in memory).
const minChunkLog2 = 12
const maxChunkLog2 = 24
const keyIdBytes = 8
const noncePrefixBytes = 8
export const headerBytes = magic.length + 4 + keyIdBytes + noncePrefixBytes

export interface ArtifactKey {
  readonly id: string
  readonly bytes: Uint8Array
}

/**
 * The keys a store encrypts new artifacts with (`current`; without it new artifacts are stored in
 * plaintext) and reads encrypted ones with (all of them).
 */
export interface ArtifactKeyring {
  readonly current?: ArtifactKey | undefined
  readonly decryptionKeys?: ReadonlyArray<ArtifactKey> | undefined
}

/** Key id: the first 8 bytes of the key's SHA-256, in hex; safe to log, it does not reveal the key. */
export const keyId = (bytes: Uint8Array): string =>
  createHash("sha256").update(bytes).digest("hex").slice(0, keyIdBytes * 2)

const base64Key = /^[A-Za-z0-9+/]{43}=?$/

/** A 32-byte key from standard base64 (as `openssl rand -base64 32` prints), or undefined. */
export const decodeKey = (text: string): ArtifactKey | undefined => {
  const trimmed = text.trim()
  if (!base64Key.test(trimmed)) return undefined
  const bytes = new Uint8Array(Buffer.from(trimmed, "base64"))
  return bytes.byteLength === keyBytes ? { id: keyId(bytes), bytes } : undefined
}

const indexAad = (header: Uint8Array, index: number, final: boolean): Uint8Array => {
  const aad = new Uint8Array(headerBytes + 5)
  aad.set(header)
  new DataView(aad.buffer).setUint32(headerBytes, index)
  aad[headerBytes + 4] = final ? 1 : 0
  return aad
}

const recordIv = (header: Uint8Array, index: number): Uint8Array => {
  const iv = new Uint8Array(12)
  iv.set(header.subarray(headerBytes - noncePrefixBytes))
  new DataView(iv.buffer).setUint32(8, index)
  return iv
}

// The 4-byte index bounds a file at 2^32 records (256 TiB), far beyond any upload limit.
const maxRecords = 2 ** 32

/**
 * Encrypts a plaintext stream pushed in pieces of any size. A full chunk is held back until more
 * arrives or the stream ends, so the last record is known when it is sealed. Memory: one chunk.
 */
export class ChunkEncryptor {
  private readonly header: Uint8Array
  private readonly pending: Uint8Array
  private pendingBytes = 0
  private index = 0
  private headerWritten = false

  /** `chunkBytes`: a power of two from 4 KiB to 16 MiB; recorded in the header. */
  constructor(private readonly key: ArtifactKey, private readonly chunkBytes = chunkPlaintextBytes) {
    const log2 = Math.log2(chunkBytes)
    if (!Number.isInteger(log2) || log2 < minChunkLog2 || log2 > maxChunkLog2) {
      throw new StorageError({
        message: `Encryption chunk size ${chunkBytes} is not a power of two from 4 KiB to 16 MiB`
      })
    }
    this.pending = new Uint8Array(chunkBytes)
    this.header = new Uint8Array(headerBytes)
    this.header.set(magic)
    this.header[magic.length] = formatVersion
    this.header[chunkSizeOffset] = log2
    this.header.set(Buffer.from(key.id, "hex"), magic.length + 4)
    this.header.set(randomBytes(noncePrefixBytes), headerBytes - noncePrefixBytes)
  }

  /** Encrypted bytes ready to write for `plaintext` (possibly none yet). */
  push(plaintext: Uint8Array): Array<Uint8Array> {
    const out = this.start()
    let offset = 0
    while (offset < plaintext.byteLength) {
      if (this.pendingBytes === this.chunkBytes) out.push(...this.seal(false))
      const take = Math.min(this.chunkBytes - this.pendingBytes, plaintext.byteLength - offset)
      this.pending.set(plaintext.subarray(offset, offset + take), this.pendingBytes)
      this.pendingBytes += take
      offset += take
    }
    return out
  }

  /** The final record (and the header for an empty artifact). */
  finish(): Array<Uint8Array> {
    const out = this.start()
    out.push(...this.seal(true))
    return out
  }

  private start(): Array<Uint8Array> {
    if (this.headerWritten) return []
    this.headerWritten = true
    return [this.header]
  }

  private seal(final: boolean): Array<Uint8Array> {
    if (this.index >= maxRecords) throw new StorageError({ message: "Artifact too large to encrypt" })
    const cipher = createCipheriv("aes-256-gcm", this.key.bytes, recordIv(this.header, this.index))
    cipher.setAAD(indexAad(this.header, this.index, final))
    const body = cipher.update(this.pending.subarray(0, this.pendingBytes))
    const rest = cipher.final()
    const tag = cipher.getAuthTag()
    this.index += 1
    this.pendingBytes = 0
    // update() copies out of `pending`, so the buffer is reused for the next chunk.
    return rest.byteLength === 0 ? [body, tag] : [body, rest, tag]
  }
}

/** Thrown when a record fails authentication: the stored bytes were changed, cut or reordered. */
export class TamperedArtifact extends Error {
  constructor(readonly index: number) {
    super(`encrypted record ${index} failed authentication`)
    this.name = "TamperedArtifact"
  }
}

const startsWithMagic = (bytes: Uint8Array) => magic.every((byte, i) => bytes[i] === byte)

/** An encrypted file's header, the key that opens it and its chunk size. */
export interface OpenedFile {
  readonly header: Uint8Array
  readonly key: ArtifactKey
  readonly chunkBytes: number
  /** Bytes of one full record: a chunk and its tag. */
  readonly recordBytes: number
}

/** Chunk size a header records; a size no writer produces is tampering (the header is in every AAD anyway). */
const headerChunkBytes = (header: Uint8Array): number => {
  const version = header[magic.length]
  if (version === legacyFormatVersion) return legacyChunkPlaintextBytes
  if (version !== formatVersion) {
    throw new StorageError({ message: `Encrypted artifact has unsupported format version ${version}` })
  }
  const log2 = header[chunkSizeOffset]!
  if (log2 < minChunkLog2 || log2 > maxChunkLog2) throw new TamperedArtifact(-1)
  return 2 ** log2
}

/** The header of an encrypted file and the key that opens it; fails clearly for an unknown key or format. */
export const openHeader = (header: Uint8Array, keys: ReadonlyArray<ArtifactKey>): OpenedFile => {
  if (header.byteLength < headerBytes || !startsWithMagic(header)) throw new TamperedArtifact(-1)
  const chunkBytes = headerChunkBytes(header)
  const id = Buffer.from(header.subarray(magic.length + 4, magic.length + 4 + keyIdBytes)).toString("hex")
  const key = keys.find((candidate) => candidate.id === id)
  if (key === undefined) {
    throw new StorageError({
      message: `Artifact is encrypted with key ${id}, which is not configured: set it as ` +
        `ML_ARTIFACT_ENCRYPTION_KEY or list it in ML_ARTIFACT_DECRYPTION_KEYS`
    })
  }
  return { header: header.slice(0, headerBytes), key, chunkBytes, recordBytes: chunkBytes + tagBytes }
}

/** Number of records in an encrypted file of `fileBytes` (at least one: the final record). */
export const recordCount = (fileBytes: number, chunkBytes = chunkPlaintextBytes): number =>
  Math.max(1, Math.ceil((fileBytes - headerBytes) / (chunkBytes + tagBytes)))

/**
 * Plaintext size of an encrypted file of `fileBytes` in chunks of `chunkBytes`, or undefined when
 * no valid file has that size.
 */
export const plaintextSize = (fileBytes: number, chunkBytes = chunkPlaintextBytes): number | undefined => {
  const body = fileBytes - headerBytes
  const records = recordCount(fileBytes, chunkBytes)
  const size = body - records * tagBytes
  return body < tagBytes || size < 0 ? undefined : size
}

/** Decrypts record `index` (`bytes` = ciphertext + tag); throws TamperedArtifact when it does not authenticate. */
export const openRecord = (
  opened: OpenedFile,
  index: number,
  final: boolean,
  bytes: Uint8Array
): Uint8Array => {
  if (bytes.byteLength < tagBytes) throw new TamperedArtifact(index)
  const decipher = createDecipheriv("aes-256-gcm", opened.key.bytes, recordIv(opened.header, index))
  decipher.setAAD(indexAad(opened.header, index, final))
  decipher.setAuthTag(bytes.subarray(bytes.byteLength - tagBytes))
  const body = decipher.update(bytes.subarray(0, bytes.byteLength - tagBytes))
  try {
    const rest = decipher.final()
    return rest.byteLength === 0 ? body : Buffer.concat([body, rest])
  } catch {
    throw new TamperedArtifact(index)
  }
}

/** All keys a keyring can read with, the current one first. */
export const readingKeys = (keyring: ArtifactKeyring | undefined): ReadonlyArray<ArtifactKey> =>
  keyring === undefined
    ? []
    : [...(keyring.current === undefined ? [] : [keyring.current]), ...(keyring.decryptionKeys ?? [])]
