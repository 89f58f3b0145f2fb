/**
 * Port: where API keys live. A key is stored only as the SHA-256 of its secret token (the
 * server hashes; lookups go by hash), so a leaked store does not leak usable credentials.
 * Revocation is a write every instance sees on its next lookup: adapters must not cache.
 */
import { Context, Effect, Layer, Schema } from "effect"
import { Instant, ModelName } from "../registry/Model.js"
import type { StorageError } from "../shared/Errors.js"
import { Role } from "./Principal.js"

/** Key names become audit actors, so they are identifiers: no spaces, control or bidi characters. */
export const KeyName = ModelName

/** A model-name glob: the characters of a model name plus `*` and `?`. */
export const ModelNamePattern = Schema.String.check(
  Schema.isMinLength(1, { message: "must not be empty" }),
  Schema.isMaxLength(128, { message: "must be at most 128 characters" }),
  Schema.isPattern(/^[A-Za-z0-9._*?-]+$/u, {
    message: "must contain only letters, digits, '.', '_', '-' and the wildcards '*' and '?'"
  })
)

export const MAX_MODEL_NAME_PATTERNS = 64

export const CreateKeyInput = Schema.Struct({
  name: KeyName,
  role: Role,
  modelNames: Schema.optionalKey(
    Schema.Array(ModelNamePattern).check(
      Schema.isMaxLength(MAX_MODEL_NAME_PATTERNS, { message: `must have at most ${MAX_MODEL_NAME_PATTERNS} patterns` })
    )
  ),
  expiresAt: Schema.optionalKey(Instant)
})
export type CreateKeyInput = typeof CreateKeyInput.Type

/** A key as listed: never its secret token nor the token's hash. */
export const ApiKey = Schema.Struct({
  id: Schema.String,
  name: KeyName,
  role: Role,
  modelNames: Schema.optionalKey(Schema.Array(ModelNamePattern)),
  expiresAt: Schema.optionalKey(Schema.String),
  createdAt: Schema.String,
  /** The acting principal's name: key creation and revocation are audited here. */
  createdBy: Schema.String,
  revokedAt: Schema.optionalKey(Schema.String),
  revokedBy: Schema.optionalKey(Schema.String)
})
export type ApiKey = typeof ApiKey.Type

/** The answer to creating a key: the key and its secret token, shown this once. */
export const CreatedKey = Schema.Struct({ key: ApiKey, token: Schema.String })
export const ApiKeyList = Schema.Struct({ items: Schema.Array(ApiKey) })

export interface KeyStoreShape {
  readonly create: (key: ApiKey, tokenHash: string) => Effect.Effect<void, StorageError>
  /** The key whose token hashes to `tokenHash`, revoked or not (the caller decides). */
  readonly findByHash: (tokenHash: string) => Effect.Effect<ApiKey | undefined, StorageError>
  readonly list: () => Effect.Effect<ReadonlyArray<ApiKey>, StorageError>
  /** Marks the key revoked; answers the revoked key, or undefined when there is none. */
  readonly revoke: (id: string, revokedBy: string, at: string) => Effect.Effect<ApiKey | undefined, StorageError>
}

export class KeyStore extends Context.Service<KeyStore, KeyStoreShape>()("@org/ml-core/KeyStore") {}

/** The memory store, with its records by token hash for adapters that persist them (fs journal). */
export interface MemoryKeyStore extends KeyStoreShape {
  readonly entries: () => ReadonlyArray<readonly [tokenHash: string, key: ApiKey]>
  /** Stores the record as given, replacing any under the same hash (journal replay). */
  readonly put: (tokenHash: string, key: ApiKey) => void
}

export const makeMemory = Effect.sync((): MemoryKeyStore => {
  const byHash = new Map<string, ApiKey>()
  return {
    create: (key, tokenHash) => Effect.sync(() => void byHash.set(tokenHash, key)),
    findByHash: (tokenHash) => Effect.sync(() => byHash.get(tokenHash)),
    list: () => Effect.sync(() => [...byHash.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt))),
    revoke: (id, revokedBy, at) =>
      Effect.sync(() => {
        for (const [hash, key] of byHash) {
          if (key.id !== id || key.revokedAt !== undefined) continue
          const revoked = { ...key, revokedAt: at, revokedBy }
          byHash.set(hash, revoked)
          return revoked
        }
        return undefined
      }),
    entries: () => [...byHash.entries()],
    put: (tokenHash, key) => void byHash.set(tokenHash, key)
  }
})

export const layerMemory: Layer.Layer<KeyStore> = Layer.effect(KeyStore, makeMemory)

/** Whether a key may be used at `now`: not revoked, not expired. */
export const isActive = (key: ApiKey, now: Date): boolean =>
  key.revokedAt === undefined && (key.expiresAt === undefined || Date.parse(key.expiresAt) > now.getTime())

/** A glob over model names: `*` any run of characters, `?` one character, everything else literal. */
export const globMatcher = (patterns: ReadonlyArray<string>): (name: string) => boolean => {
  const expressions = patterns.map((pattern) =>
    new RegExp(
      `^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`,
      "s"
    )
  )
  return (name) => expressions.some((expression) => expression.test(name))
}
