/**
 * The ioredis connection shared by the Redis adapters, acquired when the layer is built and
 * closed when it is released, together with the key prefix every adapter writes under and the
 * instance guard (RedisInstance.ts) every command waits for. Commands time out
 * (`commandTimeoutMillis`), so a stalled Redis (SIGSTOP, a full network buffer) answers 503 within
 * it instead of hanging every request; the adapters use no blocking commands, so no legitimate
 * command is cut short. The connection reconnects by itself, and no command is queued while it is
 * down (503 at once).
 *
 * With `clusterNodes` the connection is an ioredis Cluster client instead: the adapters then use
 * the cluster key layout (RedisKeys.ts: one hash tag per entity) and readiness reads CLUSTER INFO
 * on every node (RedisCluster.ts).
 */
import { StorageError } from "@org/ml-core"
import { Context, Effect, Layer } from "effect"
import { Cluster, Redis } from "ioredis"
import { type ClusterNode, describeNodes, type RedisConnection } from "./RedisCluster.js"
import { establish, type InstanceGuard, type InstanceOptions, unguarded } from "./RedisInstance.js"

export type { RedisConnection } from "./RedisCluster.js"

export interface RedisClientShape {
  readonly client: RedisConnection
  readonly prefix: string
  readonly guard: InstanceGuard
}

export class RedisClient
  extends Context.Service<RedisClient, RedisClientShape>()("@org/ml-adapter-redis/RedisClient")
{}

export interface RedisOptions extends Omit<InstanceOptions, "prefix"> {
  /** The single Redis (ignored when `clusterNodes` is given). */
  readonly url: string
  /** Seed nodes of a Redis Cluster: the client discovers the others and follows MOVED/ASK. */
  readonly clusterNodes?: ReadonlyArray<ClusterNode> | undefined
  readonly prefix?: string | undefined
  /** How long one command may take before it fails (default 2000 ms). */
  readonly commandTimeoutMillis?: number | undefined
  /** How long connecting may take (default 5000 ms). */
  readonly connectTimeoutMillis?: number | undefined
}

export const defaultCommandTimeoutMillis = 2000
export const defaultConnectTimeoutMillis = 5000

/** A connected client with the adapters' settings; rejects when Redis does not answer PING. */
export const connect = async (options: RedisOptions): Promise<RedisConnection> => {
  const commandTimeout = options.commandTimeoutMillis ?? defaultCommandTimeoutMillis
  const nodeOptions = {
    lazyConnect: true,
    // No offline queue: while Redis is unreachable, commands fail at once (503) instead of piling up.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: options.connectTimeoutMillis ?? defaultConnectTimeoutMillis,
    commandTimeout,
    // Reconnect forever, at most a second apart, so service resumes soon after Redis does.
    retryStrategy: (attempt: number) => Math.min(50 * attempt, 1000)
  }
  const nodes = options.clusterNodes
  const client: RedisConnection = nodes === undefined || nodes.length === 0
    ? new Redis(options.url, nodeOptions)
    : new Cluster(nodes.map((node) => ({ ...node })), {
      lazyConnect: true,
      // As above: while the cluster is unreachable or re-reading its slot map, commands fail at once.
      enableOfflineQueue: false,
      enableReadyCheck: true,
      clusterRetryStrategy: (attempt: number) => Math.min(50 * attempt, 1000),
      redisOptions: { connectTimeout: nodeOptions.connectTimeout, commandTimeout, maxRetriesPerRequest: 1 }
    })
  client.on("error", () => undefined) // surfaced per command as StorageError; avoid unhandled events
  try {
    await client.connect()
    await client.ping()
  } catch (cause) {
    client.disconnect()
    const where = nodes === undefined || nodes.length === 0
      ? `Redis at ${redactUrl(options.url)}`
      : `Redis Cluster at ${describeNodes(nodes)}`
    throw new StorageError({
      message: `Cannot reach ${where}: ${cause instanceof Error ? cause.message : String(cause)}`,
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
          const prefix = options.prefix ?? ""
          if (options.clusterNodes !== undefined && options.clusterNodes.length > 0 && /[{}]/.test(prefix)) {
            // A tag in the prefix would put every key in one slot, so one node would hold everything.
            throw new StorageError({
              message: `The Redis key prefix "${prefix}" holds a hash tag ({ or }): on Redis Cluster the adapters ` +
                "tag each entity themselves; use a prefix without braces"
            })
          }
          const client = await connect(options)
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
          // QUIT waits for every node; one that is down would hold the release forever.
          const patience = options.commandTimeoutMillis ?? defaultCommandTimeoutMillis
          return Promise.race([client.quit(), new Promise((resolve) => setTimeout(resolve, patience).unref())])
            .catch(() => undefined)
            .finally(() => client.disconnect())
        })
    )
  )

/**
 * Wraps a client the application already owns; it is not closed when the layer is released and
 * no instance marker is checked (the application owns that too).
 */
export const layerFromClient = (client: RedisConnection, prefix = ""): Layer.Layer<RedisClient> =>
  Layer.succeed(RedisClient, { client, prefix, guard: unguarded })

export const redactUrl = (url: string) => url.replace(/\/\/[^@/]*@/, "//***@")
