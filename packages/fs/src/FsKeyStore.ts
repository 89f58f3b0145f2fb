/**
 * API keys on disk, in one journal (`<dir>/keys.jsonl`, see Journal.ts): each line is a key
 * record under its token's SHA-256 (creation and revocation both write the whole record, with
 * the audit event it stands for). The secret token itself is never written. One process owns
 * the directory, so its memory is the truth between writes and a revocation is seen by the next
 * request.
 */
import { KeyStore, type StorageError, storedRecord } from "@org/ml-core"
import { Effect, Layer, Schema } from "effect"
import * as path from "node:path"
import { makeJournal } from "./Journal.js"

/**
 * A key record, with the audit event its write stands for (one line, so a key never changes
 * without its event); snapshots keep events on their own lines, as the newest MAX_KEY_EVENTS.
 */
const JournalEntry = Schema.Union([
  Schema.Struct({
    op: Schema.Literal("put"),
    tokenHash: Schema.String,
    key: KeyStore.ApiKey,
    event: Schema.optionalKey(KeyStore.KeyEvent)
  }),
  Schema.Struct({ op: Schema.Literal("event"), event: KeyStore.KeyEvent })
])
type JournalEntry = typeof JournalEntry.Type

const replay = (memory: KeyStore.MemoryKeyStore, entry: JournalEntry) => {
  if (entry.op === "put") memory.put(entry.tokenHash, entry.key)
  if (entry.event !== undefined) memory.putEvent(entry.event)
}

export const make = (options: { readonly directory: string }) =>
  Effect.gen(function*() {
    const journal = yield* makeJournal<KeyStore.MemoryKeyStore, JournalEntry>({
      directory: path.resolve(options.directory),
      name: "keys",
      fresh: () => Effect.runSync(KeyStore.makeMemory),
      entry: storedRecord(JournalEntry),
      snapshot: (memory): ReadonlyArray<JournalEntry> => [
        ...memory.entries().map(([tokenHash, key]) => ({ op: "put" as const, tokenHash, key })),
        ...memory.eventList().map((event) => ({ op: "event" as const, event }))
      ],
      replay
    })
    const read = <A, E>(f: (s: KeyStore.KeyStoreShape) => Effect.Effect<A, E>) =>
      Effect.suspend(() => f(journal.state()))
    return KeyStore.KeyStore.of({
      create: (key, tokenHash) =>
        journal.mutate(
          (s) => s.create(key, tokenHash),
          () => ({ op: "put", tokenHash, key, event: KeyStore.keyEventOf(key) })
        ),
      findByHash: (tokenHash) => read((s) => s.findByHash(tokenHash)),
      list: () => read((s) => s.list()),
      revoke: (id, revokedBy, at) =>
        journal.mutate((s) => s.revoke(id, revokedBy, at), (revoked) => {
          if (revoked === undefined) return undefined
          const [tokenHash] = journal.state().entries().find(([, key]) => key.id === id)!
          return { op: "put", tokenHash, key: revoked, event: KeyStore.keyEventOf(revoked) }
        }),
      events: () => read((s) => s.events()),
      exportRecords: () => read((s) => s.exportRecords())
    })
  })

export const layer = (options: { readonly directory: string }): Layer.Layer<KeyStore.KeyStore, StorageError> =>
  Layer.effect(KeyStore.KeyStore, make(options))
