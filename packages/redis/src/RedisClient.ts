/**
 * The ioredis connection shared by the Redis adapters, acquired when the layer is built and
 * closed when it is released, together with the key prefix every adapter writes under and the
 * instance guard (RedisInstance.ts) every command waits for. Commands time out
 * (`commandTimeoutMillis`), so a stalled Redis (SIGSTOP, a full network buffer) answers 503 within
 * it instead of hanging every request; the adapters use no blocking commands, so no legitimate
 * command is cut short. The connection reconnects by itself, and no command is queued while it is
 * down (503 at once).
 */
import { StorageError } from "@org/ml-core"
import { Context, Effect, Layer } from "effect"
import { Redis } from "ioredis"
import { establish, type InstanceGuard, type InstanceOptions, unguarded } from "./RedisInstance.js"

export interface RedisClientShape {
  readonly client: Redis
  readonly prefix: string
  readonly guard: InstanceGuard
}

export class RedisClient
  extends Context.Service<RedisClient, RedisClientShape>()("@org/ml-adapter-redis/RedisClient")
{}

export interface RedisOptions extends Omit<InstanceOptions, "prefix"> {
  readonly url: string
  readonly prefix?: string | undefined
  /** How long one command may take before it fails (default 2000 ms). */
  readonly commandTimeoutMillis?: number | undefined
  /** How long connecting may take (default 5000 ms). */
  readonly connectTimeoutMillis?: number | undefined
}

export const defaultCommandTimeoutMillis = 2000
export const defaultConnectTimeoutMillis = 5000

/** A connected client with the adapters' settings; rejects when Redis does not answer PING. */
export const connect = async (options: RedisOptions): Promise<Redis> => {
  const commandTimeout = options.commandTimeoutMillis ?? defaultCommandTimeoutMillis
  const client = new Redis(options.url, {
    lazyConnect: true,
    // No offline queue: while Redis is unreachable, commands fail at once (503) instead of piling up.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: options.connectTimeoutMillis ?? defaultConnectTimeoutMillis,
    commandTimeout,
    // Reconnect forever, at most a second apart, so service resumes soon after Redis does.
    retryStrategy: (attempt) => Math.min(50 * attempt, 1000)
  })
  client.on("error", () => undefined) // surfaced per command as StorageError; avoid unhandled events
  try {
    await client.connect()
    await client.ping()
  } catch (cause) {
    client.disconnect()
    throw new StorageError({
      message: `Cannot reach Redis at ${redactUrl(options.url)}: ${
        cause instanceof Error ? cause.message : String(cause)
      }`,
      cause
    })
  }
  return client
}

const storageError = (cause: unknown) =>
  cause instanceof StorageError
    ? cause
    : new StorageError({ message: cause instanceof Error ? cause.message : String(cause), cause })

/**
 * Connects, waits for the first PONG (a wrong URL fails start-up with a clear error) and reads or
 * writes the instance marker (a Redis this server's data directory does not recognise fails
 * start-up, naming the marker).
 */
export const layer = (options: RedisOptions): Layer.Layer<RedisClient, StorageError> =>
  Layer.effect(
    RedisClient,
    Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => {
          const client = await connect(options)
          const prefix = options.prefix ?? ""
          try {
            return { client, prefix, guard: await establish(client, { ...options, prefix }) }
          } catch (cause) {
            client.disconnect()
            throw cause
          }
        },
        catch: storageError
      }),
      ({ client, guard }) =>
        Effect.promise(() => {
          guard.close()
          return client.quit().catch(() => client.disconnect())
        })
    )
  )

/**
 * Wraps a client the application already owns; it is not closed when the layer is released and
 * no instance marker is checked (the application owns that too).
 */
export const layerFromClient = (client: Redis, prefix = ""): Layer.Layer<RedisClient> =>
  Layer.succeed(RedisClient, { client, prefix, guard: unguarded })

export const redactUrl = (url: string) => url.replace(/\/\/[^@/]*@/, "//***@")
