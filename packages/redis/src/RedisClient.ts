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
 * on every node (RedisCluster.ts). Every node of a cluster is connected with `clusterCredentials`
 * and, with `clusterTls`, over TLS, as a single Redis is with the user, password and `rediss://` of
 * its URL; `tlsCaFile` names the CA certificates to trust in either mode (else the system's).
 */
import { redactUrl, StorageError } from "@org/ml-core"
import { Context, Effect, Layer } from "effect"
import { Cluster, Redis } from "ioredis"
import * as fs from "node:fs/promises"
import * as net from "node:net"
import * as tls from "node:tls"
import { type ClusterNode, type Credentials, describeNodes, type RedisConnection } from "./RedisCluster.js"
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
  /** The user name and password of every cluster node (a single Redis takes them from `url`). */
  readonly clusterCredentials?: Credentials | undefined
  /** TLS to every cluster node (a single Redis: `rediss://` in `url`). */
  readonly clusterTls?: boolean | undefined
  /** A PEM file of the CA certificates to trust for TLS (default: the system's). */
  readonly tlsCaFile?: string | undefined
  /**
   * The settings connection errors name, so the operator knows what to change (the server: its
   * variables); default "the Redis URL" and "the TLS CA file".
   */
  readonly settingNames?: { readonly connection: string; readonly tlsCa: string } | undefined
  readonly prefix?: string | undefined
  /** How long one command may take before it fails (default 2000 ms). */
  readonly commandTimeoutMillis?: number | undefined
  /** How long connecting may take (default 5000 ms). */
  readonly connectTimeoutMillis?: number | undefined
}

export const defaultCommandTimeoutMillis = 2000
export const defaultConnectTimeoutMillis = 5000

const authFailure = /WRONGPASS|NOAUTH|invalid password|invalid username-password/i
const untrustedCertificate =
  /certificate|self[- ]signed|UNABLE_TO_VERIFY|unable to get (local )?issuer|CERT_|DEPTH_ZERO|ERR_TLS_CERT/i
const plaintextToTls = /ECONNRESET|socket hang up|Connection is closed|wrong version number|packet length too long/i

/** The cause's message, with the node error a cluster client wraps ("Failed to refresh slots cache"). */
const describeCause = (cause: unknown): string => {
  if (!(cause instanceof Error)) return String(cause)
  const nodeError = (cause as { lastNodeError?: unknown }).lastNodeError
  return nodeError instanceof Error ? `${cause.message}: ${nodeError.message}` : cause.message
}

/** What the operator should change, when the failure says it. */
const hintFor = (detail: string, options: RedisOptions, tls: boolean): string => {
  const names = options.settingNames ?? { connection: "the Redis URL", tlsCa: "the TLS CA file" }
  if (authFailure.test(detail)) {
    return `: Redis refused the user name or password in ${names.connection}`
  }
  if (tls && untrustedCertificate.test(detail)) {
    return options.tlsCaFile === undefined
      ? `: the server's TLS certificate is not trusted; set ${names.tlsCa} to the CA certificate that signed it`
      : `: the server's TLS certificate is not signed by a CA in ${names.tlsCa} (${options.tlsCaFile})`
  }
  if (!tls && plaintextToTls.test(detail)) {
    return ` (if this Redis only accepts TLS, use rediss:// in ${names.connection})`
  }
  return ""
}

/**
 * Why a TLS handshake with `node` fails, or undefined when it succeeds: a cluster client reports a
 * node it could not reach over TLS only as "Connection is closed".
 */
const tlsHandshakeFailure = (node: ClusterNode, ca: string | undefined, timeoutMillis: number) =>
  new Promise<string | undefined>((resolve) => {
    const socket = tls.connect({
      host: node.host,
      port: node.port,
      ...(net.isIP(node.host) === 0 ? { servername: node.host } : {}),
      ...(ca === undefined ? {} : { ca })
    })
    const settle = (failure: string | undefined) => {
      socket.destroy()
      resolve(failure)
    }
    socket.setTimeout(timeoutMillis, () => settle(undefined))
    socket.once("secureConnect", () => settle(undefined))
    socket.once("error", (error) => settle(error.message))
  })

const readCa = async (options: RedisOptions): Promise<string | undefined> => {
  if (options.tlsCaFile === undefined) return undefined
  try {
    return await fs.readFile(options.tlsCaFile, "utf8")
  } catch (cause) {
    throw new StorageError({
      message: `Cannot read ${options.settingNames?.tlsCa ?? "the TLS CA file"} ${options.tlsCaFile}: ${
        cause instanceof Error ? cause.message : String(cause)
      }`,
      cause
    })
  }
}

/** A connected client with the adapters' settings; rejects when Redis does not answer PING. */
export const connect = async (options: RedisOptions): Promise<RedisConnection> => {
  const commandTimeout = options.commandTimeoutMillis ?? defaultCommandTimeoutMillis
  const ca = await readCa(options)
  const nodes = options.clusterNodes
  const clustered = nodes !== undefined && nodes.length > 0
  const tls = clustered ? options.clusterTls === true : /^rediss:/i.test(options.url)
  const tlsOptions = tls ? (ca === undefined ? {} : { ca }) : undefined
  const nodeOptions = {
    lazyConnect: true,
    // No offline queue: while Redis is unreachable, commands fail at once (503) instead of piling up.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // Commands issued in one event-loop turn (concurrent requests' scripts) go out in one socket
    // write: one write syscall per request was the largest single cost of a hot request.
    enableAutoPipelining: true,
    connectTimeout: options.connectTimeoutMillis ?? defaultConnectTimeoutMillis,
    commandTimeout,
    // Reconnect forever, at most a second apart, so service resumes soon after Redis does.
    retryStrategy: (attempt: number) => Math.min(50 * attempt, 1000),
    ...(tlsOptions === undefined ? {} : { tls: tlsOptions })
  }
  const client: RedisConnection = !clustered
    ? new Redis(options.url, nodeOptions)
    : new Cluster(nodes.map((node) => ({ ...node })), {
      lazyConnect: true,
      // As above: while the cluster is unreachable or re-reading its slot map, commands fail at once.
      enableOfflineQueue: false,
      enableReadyCheck: true,
      // Not on a cluster: ioredis groups auto-pipelined commands by their first argument's slot,
      // which for EVALSHA is the script's SHA, not a key, so concurrent scripts on keys of
      // different nodes fail with "All keys in the pipeline should belong to the same slots
      // allocation group" (redis/ioredis#2109).
      enableAutoPipelining: false,
      clusterRetryStrategy: (attempt: number) => Math.min(50 * attempt, 1000),
      // With TLS the certificates name the hosts as configured: connect to those names, not their addresses.
      ...(tls
        ? { dnsLookup: (address: string, callback: (error: null, address: string) => void) => callback(null, address) }
        : {}),
      redisOptions: {
        connectTimeout: nodeOptions.connectTimeout,
        commandTimeout,
        maxRetriesPerRequest: 1,
        ...(options.clusterCredentials?.username === undefined
          ? {}
          : { username: options.clusterCredentials.username }),
        ...(options.clusterCredentials?.password === undefined
          ? {}
          : { password: options.clusterCredentials.password }),
        ...(tlsOptions === undefined ? {} : { tls: tlsOptions })
      }
    })
  // Surfaced per command as StorageError; the distinct ones are kept for a failed start's message.
  const seen = new Set<string>()
  const keep = (error: unknown) => {
    if (seen.size < 4) seen.add(describeCause(error))
  }
  client.on("error", keep)
  // A cluster reports a node's TLS or AUTH failure only here; its own error just says it gave up.
  client.on("node error", keep)
  try {
    await client.connect()
    await client.ping()
  } catch (cause) {
    client.disconnect()
    const where = !clustered
      ? `Redis at ${redactUrl(options.url)}`
      : `Redis Cluster at ${describeNodes(nodes)}`
    // A cluster reports "Failed to refresh slots cache" or "None of startup nodes is available"; the node said why.
    if (clustered && tls) {
      const failure = await tlsHandshakeFailure(nodes[0]!, ca, nodeOptions.connectTimeout)
      if (failure !== undefined) seen.add(`TLS handshake with ${describeNodes(nodes.slice(0, 1))}: ${failure}`)
    }
    seen.delete(describeCause(cause))
    const detail = [describeCause(cause), ...seen].join("; ")
    throw new StorageError({
      message: `Cannot reach ${where}: ${detail}${hintFor(detail, options, tls)}`,
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
