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

/**
 * An audit event of key management: who created or revoked which key, when. It names the key by
 * id, name, role and confinement, never by its secret token nor the token's hash.
 */
export const KeyEvent = Schema.Struct({
  at: Schema.String,
  action: Schema.Literals(["created", "revoked"]),
  /** The acting principal's name (createdBy or revokedBy of the key). */
  actor: Schema.String,
  keyId: Schema.String,
  keyName: Schema.String,
  role: Role,
  modelNames: Schema.optionalKey(Schema.Array(Schema.String)),
  expiresAt: Schema.optionalKey(Schema.String)
})
export type KeyEvent = typeof KeyEvent.Type
export const KeyEventList = Schema.Struct({ items: Schema.Array(KeyEvent) })

/** Key events kept, newest first to stay: creating keys is rare, so this is years of history. */
export const MAX_KEY_EVENTS = 10_000

/** The event a stored key record stands for: its creation, or its revocation once revoked. */
export const keyEventOf = (key: ApiKey): KeyEvent => {
  const revoked = key.revokedAt !== undefined
  return {
    at: revoked ? key.revokedAt! : key.createdAt,
    action: revoked ? "revoked" : "created",
    actor: revoked ? (key.revokedBy ?? "unknown") : key.createdBy,
    keyId: key.id,
    keyName: key.name,
    role: key.role,
    ...(key.modelNames === undefined ? {} : { modelNames: key.modelNames }),
    ...(key.expiresAt === undefined ? {} : { expiresAt: key.expiresAt })
  }
}

export interface KeyStoreShape {
  readonly create: (key: ApiKey, tokenHash: string) => Effect.Effect<void, StorageError>
  /** The key whose token hashes to `tokenHash`, revoked or not (the caller decides). */
  readonly findByHash: (tokenHash: string) => Effect.Effect<ApiKey | undefined, StorageError>
  readonly list: () => Effect.Effect<ReadonlyArray<ApiKey>, StorageError>
  /** Marks the key revoked; answers the revoked key, or undefined when there is none. */
  readonly revoke: (id: string, revokedBy: string, at: string) => Effect.Effect<ApiKey | undefined, StorageError>
  /**
   * Creations and revocations, oldest first (the newest MAX_KEY_EVENTS). `create` and `revoke`
   * record theirs in the same write as the key, so no key changes without its event.
   */
  readonly events: () => Effect.Effect<ReadonlyArray<KeyEvent>, StorageError>
  /**
   * Every key with the hash of its token, for copying a deployment to another store
   * (`ml-server migrate`); never served over HTTP. Hashes, not tokens: the tokens keep working.
   */
  readonly exportRecords: () => Effect.Effect<ReadonlyArray<KeyRecord>, StorageError>
}

/** A stored key and the SHA-256 of its token, as `exportRecords` answers. */
export interface KeyRecord {
  readonly tokenHash: string
  readonly key: ApiKey
}

export class KeyStore extends Context.Service<KeyStore, KeyStoreShape>()("@org/ml-core/KeyStore") {}

/** The memory store, with its records by token hash for adapters that persist them (fs journal). */
export interface MemoryKeyStore extends KeyStoreShape {
  readonly entries: () => ReadonlyArray<readonly [tokenHash: string, key: ApiKey]>
  /** Stores the record as given, replacing any under the same hash (journal replay). */
  readonly put: (tokenHash: string, key: ApiKey) => void
  /** Appends an event as given (journal replay). */
  readonly putEvent: (event: KeyEvent) => void
  readonly eventList: () => ReadonlyArray<KeyEvent>
}

export const makeMemory = Effect.sync((): MemoryKeyStore => {
  const byHash = new Map<string, ApiKey>()
  let events: Array<KeyEvent> = []
  const putEvent = (event: KeyEvent) => {
    events.push(event)
    // Trimmed in steps, so appending stays amortised O(1).
    if (events.length > MAX_KEY_EVENTS + MAX_KEY_EVENTS / 10) events = events.slice(-MAX_KEY_EVENTS)
  }
  const eventList = () => events.slice(-MAX_KEY_EVENTS)
  return {
    create: (key, tokenHash) =>
      Effect.sync(() => {
        byHash.set(tokenHash, key)
        putEvent(keyEventOf(key))
      }),
    findByHash: (tokenHash) => Effect.sync(() => byHash.get(tokenHash)),
    list: () => Effect.sync(() => [...byHash.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt))),
    revoke: (id, revokedBy, at) =>
      Effect.sync(() => {
        for (const [hash, key] of byHash) {
          if (key.id !== id || key.revokedAt !== undefined) continue
          const revoked = { ...key, revokedAt: at, revokedBy }
          byHash.set(hash, revoked)
          putEvent(keyEventOf(revoked))
          return revoked
        }
        return undefined
      }),
    events: () => Effect.sync(eventList),
    exportRecords: () => Effect.sync(() => [...byHash].map(([tokenHash, key]) => ({ tokenHash, key }))),
    entries: () => [...byHash.entries()],
    put: (tokenHash, key) => void byHash.set(tokenHash, key),
    putEvent,
    eventList
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
