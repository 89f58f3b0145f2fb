/**
 * What Redis Cluster needs beyond a single Redis: the seed nodes as configured
 * (`host:port,host:port`, or in URL form `redis://user:password@host:port,host:port` with the
 * credentials of every node, `rediss://` for TLS to every node, as ML_REDIS_URL is written for a
 * single Redis), whether a connection is a cluster (the adapters pick the cluster key
 * layout and avoid cross-slot commands by it), and the cluster's health for readiness: every
 * node must answer CLUSTER INFO with `cluster_state:ok`, since a cluster with an uncovered slot
 * fails some keys and not others.
 */
import type { Cluster, Redis } from "ioredis"

/** A single Redis or a Redis Cluster; the adapters use only commands both answer. */
export type RedisConnection = Redis | Cluster

export interface ClusterNode {
  readonly host: string
  readonly port: number
}

/** A user name and password (ACL `AUTH user pass`; without a user name the `default` user). */
export interface Credentials {
  readonly username?: string | undefined
  readonly password?: string | undefined
}

/** ML_REDIS_CLUSTER_NODES parsed: the seed nodes, and what every node is connected with. */
export interface ClusterSetting {
  readonly nodes: ReadonlyArray<ClusterNode>
  readonly credentials: Credentials | undefined
  /** `rediss://`: TLS to every node. */
  readonly tls: boolean
}

const nodePattern = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/
const schemePattern = /^(rediss?):\/\//i

const decodeUserInfo = (userInfo: string): Credentials | string => {
  const colon = userInfo.indexOf(":")
  try {
    const username = decodeURIComponent(colon === -1 ? userInfo : userInfo.slice(0, colon))
    const password = colon === -1 ? undefined : decodeURIComponent(userInfo.slice(colon + 1))
    return { username: username === "" ? undefined : username, password }
  } catch {
    // The message never repeats the text: it is a secret.
    return "holds a user name or password that is not valid percent-encoding (write % as %25)"
  }
}

/**
 * Parses `host:port,...` or `redis[s]://[user[:password]@]host:port,...`; the error names the entry
 * that is not a node, and never repeats credentials.
 */
export const parseClusterSetting = (text: string): ClusterSetting | string => {
  const trimmed = text.trim()
  const scheme = schemePattern.exec(trimmed)
  let hosts = scheme === null ? trimmed : trimmed.slice(scheme[0].length)
  let credentials: Credentials | undefined
  if (scheme !== null) {
    // The last @: the hosts hold none, so an unencoded @ in the password still parses.
    const at = hosts.lastIndexOf("@")
    if (at !== -1) {
      const decoded = decodeUserInfo(hosts.slice(0, at))
      if (typeof decoded === "string") return decoded
      credentials = decoded
      hosts = hosts.slice(at + 1)
    }
  } else if (hosts.includes("@")) {
    return "holds credentials (user:password@): write them in URL form, redis://user:password@host:port,host:port " +
      "(rediss:// for TLS)"
  }
  const entries = hosts.split(",").map((entry) => entry.trim()).filter((entry) => entry.length > 0)
  if (entries.length === 0) return "must list at least one host:port"
  const nodes: Array<ClusterNode> = []
  for (const entry of entries) {
    const match = nodePattern.exec(entry)
    const port = match === null ? NaN : Number(match[2])
    if (match === null || !(port >= 1 && port <= 65535)) {
      return `must be host:port entries separated by commas (port 1-65535), got "${entry}"`
    }
    nodes.push({ host: match[1]!.replace(/^\[|\]$/g, ""), port })
  }
  return { nodes, credentials, tls: scheme?.[1]!.toLowerCase() === "rediss" }
}

/** The seed nodes of `host:port,...` (or the URL form); the error names the entry that is not one. */
export const parseClusterNodes = (text: string): ReadonlyArray<ClusterNode> | string => {
  const parsed = parseClusterSetting(text)
  return typeof parsed === "string" ? parsed : parsed.nodes
}

export const describeNodes = (nodes: ReadonlyArray<ClusterNode>) =>
  nodes.map(({ host, port }) => `${host.includes(":") ? `[${host}]` : host}:${port}`).join(",")

export const isCluster = (redis: RedisConnection): redis is Cluster => redis.isCluster

/**
 * Rejects unless every slot has a master this client is connected to and every node says
 * `cluster_state:ok`; the message names the node. The slot map matters because a master that just
 * died drops out of the client's node list while the others still report ok (until the cluster's
 * node timeout), yet a third of the keys fail.
 */
export const checkClusterState = async (cluster: Cluster): Promise<void> => {
  const nodes = cluster.nodes("all")
  if (nodes.length === 0) throw new Error("Redis Cluster: no node is connected")
  const connected = new Set(nodes.map((node) => `${node.options.host}:${node.options.port}`))
  const masters = new Set<string>()
  for (let slot = 0; slot < 16384; slot++) {
    const master = cluster.slots[slot]?.[0]
    if (master === undefined) throw new Error(`Redis Cluster: slot ${slot} has no master`)
    masters.add(master)
  }
  for (const master of masters) {
    if (!connected.has(master)) throw new Error(`Redis Cluster node ${master} (a master) is not connected`)
  }
  await Promise.all(nodes.map(async (node) => {
    const info = String(await node.cluster("INFO"))
    const state = /cluster_state:(\w+)/.exec(info)?.[1] ?? "unknown"
    if (state !== "ok") {
      throw new Error(`Redis Cluster node ${node.options.host}:${node.options.port} reports cluster_state:${state}`)
    }
  }))
}

/**
 * Runs `onBatch` for every key matching `pattern`, with the connection that holds it: SCAN walks
 * one server, so on a cluster every master is scanned (a command on the batch goes to that node).
 */
export const scanEach = async (
  redis: RedisConnection,
  pattern: string,
  onBatch: (node: Redis, keys: Array<string>) => Promise<unknown>
): Promise<void> => {
  for (const node of isCluster(redis) ? redis.nodes("master") : [redis]) {
    let cursor = "0"
    do {
      const [next, found] = await node.scan(cursor, "MATCH", pattern, "COUNT", 1000)
      cursor = next
      if (found.length > 0) await onBatch(node, found)
    } while (cursor !== "0")
  }
}

/**
 * One step of a SCAN over every master (a cluster) or the one server, resumable: `cursor` is the
 * previous step's `next` ("<node index>:<scan cursor>"), undefined to start; `next` is undefined
 * once every node is walked. Meant for a stopped
 * deployment (ml-server migrate): the masters are listed again at each step.
 */
export const scanStep = async (
  redis: RedisConnection,
  pattern: string,
  cursor: string | undefined,
  count: number
): Promise<{ readonly keys: Array<string>; readonly next: string | undefined }> => {
  const nodes = isCluster(redis) ? redis.nodes("master") : [redis]
  const [nodeText, scanCursor] = (cursor ?? "0:0").split(":")
  const index = Number(nodeText)
  const node = nodes[index]
  if (node === undefined) throw new Error(`SCAN cursor ${cursor} names no node (${nodes.length} masters)`)
  const [after, keys] = await node.scan(scanCursor ?? "0", "MATCH", pattern, "COUNT", count)
  const next = after !== "0" ? `${index}:${after}` : index + 1 < nodes.length ? `${index + 1}:0` : undefined
  return { keys, next }
}
