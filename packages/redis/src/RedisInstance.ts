/**
 * The instance marker: a key (`<prefix>ml:instance`) holding a random id and its creation time,
 * written when the prefix is first used. Every server reads it at start and keeps it; a Redis
 * that was emptied, restarted without persistence or swapped for another no longer holds it, and
 * serving from it would answer 404 for every acknowledged record, accept the same name and
 * version again and orphan artifacts. So before any command runs after a reconnect, and every
 * `checkIntervalMillis` otherwise (and on /readyz), the marker is read again; when it is missing
 * or different every storage call is refused with a StorageError saying so (503), logged loudly
 * once, until an operator confirms with `ml-server init-redis` (a new marker that names the one
 * it replaces, so every instance that knew the old one accepts it) or ML_REDIS_ACCEPT_EMPTY=1.
 *
 * Servers remember the marker in `<storage dir>/redis-instance.json` (artifacts stay on the
 * filesystem in Redis mode), so a server that starts on an empty Redis it knew before refuses
 * too. Data without a marker was written by a release before markers: it is adopted (its keys
 * migrated to the current encoding, see RedisMigration.ts) and the marker written. N instances
 * agree because the marker is written set-if-absent and every writer reads back the winner.
 */
import type { RememberedInstances } from "@org/ml-core"
import { randomUUID } from "node:crypto"
import { isCluster, type RedisConnection } from "./RedisCluster.js"
import { dataIndexKeys, instanceKey } from "./RedisKeys.js"
import { migrateLegacyKeys } from "./RedisMigration.js"

export interface InstanceMarker {
  readonly id: string
  readonly createdAt: string
  /** The marker this one replaced with the operator's confirmation (init-redis or the accept-empty flag). */
  readonly replaces?: string | undefined
}

export interface InstanceOptions {
  readonly prefix: string
  /** Where this server remembers the marker between starts (the server: `<storage dir>/redis-instance.json`). */
  readonly remembered?: RememberedInstances | undefined
  /** Accept an emptied Redis (write a new marker) instead of refusing it. */
  readonly acceptEmpty?: boolean | undefined
  /** How often the marker is read again while commands run (default 1000 ms). */
  readonly checkIntervalMillis?: number | undefined
  /** Where the loud line goes when the marker is lost (default stderr). */
  readonly log?: ((line: string) => void) | undefined
  /**
   * Asked when Redis has no marker and no data and the data directory remembers none: a reason to
   * believe Redis should hold data (PostgreSQL has records whose hot data lives here) refuses the
   * start like a remembered marker would; undefined lets this Redis be used as new.
   */
  readonly expectsData?: (() => Promise<string | undefined>) | undefined
}

/** Why storage calls are refused; its message is the problem's detail. */
export class InstanceRefused extends Error {
  constructor(message: string) {
    super(message)
    this.name = "InstanceRefused"
  }
}

/** What the stores ask before each command. */
export interface InstanceGuard {
  /** Undefined when commands may run now; otherwise a promise that settles once the marker was read. */
  readonly ready: () => Promise<void> | undefined
  /** Reads the marker now (a readiness probe): rejects when Redis is unreachable or the marker is wrong. */
  readonly check: () => Promise<void>
  /** The marker id write scripts compare with the stored one ("" when no marker is checked). */
  readonly markerId: () => string
  readonly close: () => void
}

/**
 * Lua that a write script runs first: `keyExpression` (the marker key) and `idExpression` (the
 * id this server knows; "" skips the check) are Lua expressions. Before any write it fails the
 * script when the stored marker differs, so a registration never lands in a Redis emptied since
 * the last check.
 */
export const markerCheckLua = (keyExpression: string, idExpression: string) => `
if ${idExpression} ~= '' then
  local marker = redis.call('GET', ${keyExpression})
  if not marker or cjson.decode(marker).id ~= ${idExpression} then
    return redis.error_reply('ML_INSTANCE_MARKER the instance marker is missing or changed')
  end
end
`

/** Whether a command failed because a script found the marker missing or changed. */
export const isMarkerMismatch = (error: unknown) =>
  error instanceof Error && error.message.includes("ML_INSTANCE_MARKER")

/** The guard of a client the application owns: no marker is read or written. */
export const unguarded: InstanceGuard = {
  ready: () => undefined,
  check: () => Promise.resolve(),
  markerId: () => "",
  close: () => undefined
}

const parseMarker = (raw: string | null): InstanceMarker | undefined => {
  if (raw === null) return undefined
  try {
    const parsed = JSON.parse(raw) as Partial<InstanceMarker>
    if (typeof parsed.id === "string" && typeof parsed.createdAt === "string") return parsed as InstanceMarker
  } catch {
    // A foreign value under the marker key is a changed marker, below.
  }
  return { id: `unreadable value ${JSON.stringify(raw.slice(0, 80))}`, createdAt: "unknown" }
}

const newMarker = (replaces: string | undefined): InstanceMarker => ({
  id: randomUUID(),
  createdAt: new Date().toISOString(),
  ...(replaces === undefined ? {} : { replaces })
})

const describe = (marker: InstanceMarker) => `${marker.id} (created ${marker.createdAt})`

const isMarker = (value: unknown): value is InstanceMarker =>
  typeof value === "object" && value !== null && typeof (value as InstanceMarker).id === "string" &&
  typeof (value as InstanceMarker).createdAt === "string"

/** The marker this server's data directory remembers for `prefix`. */
const readRemembered = async (
  remembered: RememberedInstances | undefined,
  prefix: string
): Promise<InstanceMarker | undefined> => {
  if (remembered === undefined) return undefined
  const value = await remembered.read(prefix)
  if (value === undefined || isMarker(value)) return value
  throw new InstanceRefused(
    `${remembered.location} remembers ${JSON.stringify(value).slice(0, 80)} for prefix "${prefix}", not a Redis ` +
      "instance marker. Restore it, or delete it to forget which Redis this directory used."
  )
}

const remember = async (
  remembered: RememberedInstances | undefined,
  prefix: string,
  marker: InstanceMarker
): Promise<void> => {
  if (remembered === undefined || (await readRemembered(remembered, prefix))?.id === marker.id) return
  await remembered.write(prefix, marker)
}

/** Writes `marker` unless one exists, and answers the one that is stored (ours or another instance's). */
const writeIfAbsent = async (redis: RedisConnection, key: string, marker: InstanceMarker): Promise<InstanceMarker> => {
  await redis.set(key, JSON.stringify(marker), "NX")
  return parseMarker(await redis.get(key)) ?? marker
}

const hasData = async (redis: RedisConnection, prefix: string) => {
  const indexes = dataIndexKeys(prefix, isCluster(redis))
  // The indexes live in different slots of a cluster, and EXISTS of many keys needs one slot.
  const found = isCluster(redis)
    ? (await Promise.all(indexes.map((key) => redis.exists(key)))).reduce((a, b) => a + b, 0)
    : await redis.exists(...indexes)
  return found > 0
}

const confirmHint = (key: string) =>
  `Check the Redis (redis-cli GET ${key}; its persistence: appendonly, save) and restore its data if it was lost; ` +
  "if starting over with this Redis is intended, run `ml-server init-redis` " +
  "(or start with ML_REDIS_ACCEPT_EMPTY=1)."

/**
 * Reads (or writes) the marker at start-up and returns the guard that keeps checking it. Rejects
 * with InstanceRefused when this Redis is not the one this server (or its data directory) knew.
 */
export const establish = async (redis: RedisConnection, options: InstanceOptions): Promise<InstanceGuard> => {
  const { prefix } = options
  const key = instanceKey(prefix, isCluster(redis))
  const log = options.log ?? ((line: string) => console.error(line))
  const remembered = await readRemembered(options.remembered, prefix)
  let marker = parseMarker(await redis.get(key))
  if (marker !== undefined) {
    if (remembered !== undefined && marker.id !== remembered.id && marker.replaces !== remembered.id) {
      throw new InstanceRefused(
        `The Redis instance marker ${key} is ${describe(marker)}, not ${
          describe(remembered)
        } that ${options.remembered?.location} remembers: this is another Redis or another copy of it. ${
          confirmHint(key)
        }`
      )
    }
  } else if (await hasData(redis, prefix)) {
    // Written before markers existed: bring its keys to the current encoding, then claim it.
    await migrateLegacyKeys(redis, prefix)
    marker = await writeIfAbsent(redis, key, newMarker(remembered?.id))
    log(`Redis data under prefix "${prefix}" had no instance id yet; adopted as ${describe(marker)}`)
  } else if (remembered === undefined || options.acceptEmpty === true) {
    const reason = options.acceptEmpty === true ? undefined : await options.expectsData?.()
    if (reason !== undefined) {
      throw new InstanceRefused(
        `The Redis instance marker ${key} is missing and Redis holds no data under prefix "${prefix}", ` +
          `but ${reason}: Redis was emptied or restarted without persistence. ${confirmHint(key)}`
      )
    }
    marker = await writeIfAbsent(redis, key, newMarker(remembered?.id))
    if (remembered !== undefined) {
      log(`ML_REDIS_ACCEPT_EMPTY: starting over on an empty Redis as ${describe(marker)} (was ${describe(remembered)})`)
    }
  } else {
    throw new InstanceRefused(
      `The Redis instance marker ${key} is missing and Redis holds no data under prefix "${prefix}", ` +
        `but ${options.remembered?.location} remembers ${
          describe(remembered)
        }: Redis was emptied or restarted without persistence. ${confirmHint(key)}`
    )
  }
  await remember(options.remembered, prefix, marker)
  return watch(redis, options, marker, log)
}

type State =
  | { readonly kind: "verified" }
  | { readonly kind: "unverified" }
  | { readonly kind: "refused"; readonly error: InstanceRefused }

const watch = (
  redis: RedisConnection,
  options: InstanceOptions,
  initial: InstanceMarker,
  log: (line: string) => void
): InstanceGuard => {
  const { prefix } = options
  const key = instanceKey(prefix, isCluster(redis))
  let known = initial
  let state: State = { kind: "verified" }
  let inFlight: Promise<void> | undefined

  const refuse = (message: string) => {
    const error = new InstanceRefused(message)
    // Loud once per loss: every request keeps failing with the same message, the log says it once.
    if (state.kind !== "refused") log(`ERROR: ${message}`)
    state = { kind: "refused", error }
    throw error
  }

  const adopt = async (marker: InstanceMarker, why: string) => {
    log(`Redis instance is now ${describe(marker)} (was ${describe(known)}): ${why}`)
    known = marker
    state = { kind: "verified" }
    await remember(options.remembered, prefix, marker)
  }

  const verify = async (): Promise<void> => {
    const marker = parseMarker(await redis.get(key))
    if (marker === undefined) {
      if (options.acceptEmpty === true) {
        const written = await writeIfAbsent(redis, key, newMarker(known.id))
        if (written.id === known.id) state = { kind: "verified" }
        else if (written.replaces === known.id) await adopt(written, "ML_REDIS_ACCEPT_EMPTY accepted an emptied Redis")
        else return verify()
        return
      }
      return refuse(
        `The Redis instance marker ${key} is missing: Redis was emptied, restarted without persistence or replaced ` +
          `since this server saw ${describe(known)}. Storage calls are refused so nothing is served from or written ` +
          `into the wrong data. ${confirmHint(key)}`
      )
    }
    if (marker.id === known.id) {
      state = { kind: "verified" }
      return
    }
    if (marker.replaces === known.id) return adopt(marker, "confirmed by the operator")
    return refuse(
      `The Redis instance marker ${key} changed from ${describe(known)} to ${describe(marker)}: ` +
        `this is another Redis or another copy of it. Storage calls are refused. ${confirmHint(key)}`
    )
  }

  /** One marker read at a time; concurrent callers share it. */
  const verifyShared = () =>
    inFlight ??= verify().finally(() => {
      inFlight = undefined
    })

  // A reconnect may reach a restarted (possibly empty) Redis: nothing runs until the marker is read.
  const onClose = () => {
    if (state.kind === "verified") state = { kind: "unverified" }
  }
  const onReady = () => void verifyShared().catch(() => undefined)
  redis.on("close", onClose)
  redis.on("ready", onReady)
  // FLUSHALL or a swap behind a proxy keeps the connection: read the marker periodically too.
  const timer = setInterval(() => void verifyShared().catch(() => undefined), options.checkIntervalMillis ?? 1000)
  timer.unref()

  return {
    ready: () => state.kind === "verified" ? undefined : verifyShared(),
    check: verifyShared,
    markerId: () => known.id,
    close: () => {
      clearInterval(timer)
      redis.off("close", onClose)
      redis.off("ready", onReady)
    }
  }
}

/**
 * `ml-server init-redis`: the operator confirms that this Redis is the one to use from now on.
 * Writes a new marker naming the one the data directory remembered (so running servers that knew
 * it accept the new one) unless the current marker is already the remembered one.
 */
export const confirm = async (
  redis: RedisConnection,
  options: Pick<InstanceOptions, "prefix" | "remembered">
): Promise<{ readonly marker: InstanceMarker; readonly written: boolean }> => {
  const key = instanceKey(options.prefix, isCluster(redis))
  const remembered = await readRemembered(options.remembered, options.prefix)
  const current = parseMarker(await redis.get(key))
  if (
    current !== undefined &&
    (remembered === undefined || current.id === remembered.id || current.replaces === remembered.id)
  ) {
    await remember(options.remembered, options.prefix, current)
    return { marker: current, written: false }
  }
  if (current === undefined && await hasData(redis, options.prefix)) await migrateLegacyKeys(redis, options.prefix)
  const marker = newMarker(remembered?.id ?? current?.id)
  await redis.set(key, JSON.stringify(marker))
  await remember(options.remembered, options.prefix, marker)
  return { marker, written: true }
}
