/**
 * The ioredis connection shared by the Redis adapters, acquired when the layer is built and
 * closed when it is released, together with the key prefix every adapter writes under.
 */
import { StorageError } from "@org/ml-core"
import { Context, Effect, Layer } from "effect"
import { Redis } from "ioredis"

export interface RedisClientShape {
  readonly client: Redis
  readonly prefix: string
}

export class RedisClient
  extends Context.Service<RedisClient, RedisClientShape>()("@org/ml-adapter-redis/RedisClient")
{}

export interface RedisOptions {
  readonly url: string
  readonly prefix?: string | undefined
}

/** Connects and waits for the first PONG, so a wrong URL fails start-up with a clear error. */
export const layer = (options: RedisOptions): Layer.Layer<RedisClient, StorageError> =>
  Layer.effect(
    RedisClient,
    Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => {
          // No offline queue: while Redis is unreachable, commands fail at once (503) instead of piling up.
          const client = new Redis(options.url, {
            lazyConnect: true,
            enableOfflineQueue: false,
            maxRetriesPerRequest: 1,
            connectTimeout: 5000
          })
          client.on("error", () => undefined) // surfaced per command as StorageError; avoid unhandled events
          try {
            await client.connect()
            await client.ping()
          } catch (cause) {
            client.disconnect()
            throw cause
          }
          return { client, prefix: options.prefix ?? "" }
        },
        catch: (cause) =>
          new StorageError({
            message: `Cannot reach Redis at ${redactUrl(options.url)}: ${
              cause instanceof Error ? cause.message : String(cause)
            }`,
            cause
          })
      }),
      ({ client }) => Effect.promise(() => client.quit().catch(() => client.disconnect()))
    )
  )

/** Wraps a client the application already owns; it is not closed when the layer is released. */
export const layerFromClient = (client: Redis, prefix = ""): Layer.Layer<RedisClient> =>
  Layer.succeed(RedisClient, { client, prefix })

const redactUrl = (url: string) => url.replace(/\/\/[^@/]*@/, "//***@")
