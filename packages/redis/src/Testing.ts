/**
 * Test helpers (exported as @org/ml-adapter-redis/testing). The real Redis for integration
 * tests: ML_TEST_REDIS_URL (default 127.0.0.1:6379). A missing Redis fails the suite; it never
 * skips. Each run writes under a unique prefix and deletes only its own keys afterwards (never
 * FLUSHDB: the Redis may be shared).
 */
import { Redis } from "ioredis"
import { type ChildProcess, spawn } from "node:child_process"
import * as fsp from "node:fs/promises"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"

export const redisUrl = process.env.ML_TEST_REDIS_URL ?? "redis://127.0.0.1:6379"

export const uniquePrefix = (label: string) =>
  `mltest:${label}:${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}:`

export const connectOrFail = async (): Promise<Redis> => {
  const client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 3000 })
  client.on("error", () => undefined)
  try {
    await client.connect()
    await client.ping()
  } catch (cause) {
    client.disconnect()
    throw new Error(`Redis is required for these tests and did not answer at ${redisUrl}: ${String(cause)}`)
  }
  return client
}

export const deleteKeysWithPrefix = async (client: Redis, prefix: string): Promise<number> => {
  let cursor = "0"
  let deleted = 0
  do {
    const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000)
    cursor = next
    if (keys.length > 0) deleted += await client.del(...keys)
  } while (cursor !== "0")
  return deleted
}

/** Unique prefixes for one test file, handed out by `fresh`; `deleteAll` (in afterAll) removes their keys. */
export const prefixPool = (client: Redis) => {
  const prefixes: Array<string> = []
  return {
    fresh: (label: string) => {
      const prefix = uniquePrefix(label)
      prefixes.push(prefix)
      return prefix
    },
    deleteAll: async () => {
      for (const prefix of prefixes) await deleteKeysWithPrefix(client, prefix)
    }
  }
}

/** A local Redis Cluster started by a test: its seed nodes, a connected client, and `stop`. */
export interface LocalCluster {
  readonly nodes: ReadonlyArray<{ readonly host: string; readonly port: number }>
  /** `host:port,...` as ML_REDIS_CLUSTER_NODES takes it. */
  readonly nodesSetting: string
  /** Keys per master, to check that data spreads over the nodes. */
  readonly keysPerNode: () => Promise<ReadonlyArray<number>>
  /**
   * Takes the first node's first slot away from it (CLUSTER DELSLOTS) and waits until that node
   * reports cluster_state:fail: a cluster that is up but cannot serve every key.
   */
  readonly uncoverSlot: () => Promise<void>
  /** Kills one node's redis-server (SIGKILL), as a crashed master. */
  readonly killNode: (index: number) => Promise<void>
  /** Kills its own redis-server processes and removes their directories. */
  readonly stop: () => Promise<void>
}

/** A port that is free now, whose cluster bus port (+10000) is free too. */
const freeClusterPort = async (): Promise<number> => {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await listenOnce(0)
    if (port + 10000 <= 65535 && (await listenOnce(port + 10000).catch(() => undefined)) !== undefined) return port
  }
  throw new Error("no free port pair (port, port + 10000) for a cluster node")
}

const listenOnce = (port: number) =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(port, "127.0.0.1", () => {
      const { port: bound } = server.address() as net.AddressInfo
      server.close(() => resolve(bound))
    })
  })

const run = (command: string, args: ReadonlyArray<string>) =>
  new Promise<string>((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    child.stdout.on("data", (chunk) => (output += String(chunk)))
    child.stderr.on("data", (chunk) => (output += String(chunk)))
    child.once("error", reject)
    child.once("exit", (code) =>
      code === 0 ? resolve(output) : reject(new Error(`${command} ${args.join(" ")} exited ${code}: ${output}`)))
  })

const pause = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis))

/**
 * Starts three redis-server masters in cluster mode on free 127.0.0.1 ports (files in temp
 * directories, no persistence), joins them with `redis-cli --cluster create` and waits until
 * every node reports cluster_state:ok.
 */
export const startLocalCluster = async (masters = 3): Promise<LocalCluster> => {
  const processes: Array<{ child: ChildProcess; exited: Promise<void>; dir: string }> = []
  // If the test process ends without calling stop (a crash, a timed-out hook), its nodes end with it.
  const killAll = () => processes.forEach(({ child }) => child.kill("SIGKILL"))
  process.once("exit", killAll)
  const stop = async () => {
    process.off("exit", killAll)
    for (const { child, exited, dir } of processes) {
      child.kill("SIGKILL")
      await exited
      await fsp.rm(dir, { recursive: true, force: true })
    }
    processes.length = 0
  }
  try {
    const nodes: Array<{ host: string; port: number }> = []
    for (let i = 0; i < masters; i++) {
      const port = await freeClusterPort()
      const dir = await fsp.mkdtemp(path.join(os.tmpdir(), "ml-redis-cluster-"))
      const child = spawn("redis-server", [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        dir,
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        "nodes.conf",
        "--save",
        "",
        "--appendonly",
        "no"
      ], { stdio: "ignore" })
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
      processes.push({ child, exited, dir })
      nodes.push({ host: "127.0.0.1", port })
    }
    for (const { port } of nodes) {
      let answered = false
      for (let attempt = 0; attempt < 100 && !answered; attempt++) {
        answered = await run("redis-cli", ["-p", String(port), "PING"]).then((out) => out.includes("PONG"), () => false)
        if (!answered) await pause(50)
      }
      if (!answered) throw new Error(`redis-server in cluster mode did not start on port ${port}`)
    }
    await run("redis-cli", [
      "--cluster",
      "create",
      ...nodes.map(({ host, port }) => `${host}:${port}`),
      "--cluster-replicas",
      "0",
      "--cluster-yes"
    ])
    for (const { port } of nodes) {
      let ok = false
      for (let attempt = 0; attempt < 200 && !ok; attempt++) {
        ok = (await run("redis-cli", ["-p", String(port), "CLUSTER", "INFO"])).includes("cluster_state:ok")
        if (!ok) await pause(50)
      }
      if (!ok) throw new Error(`cluster node ${port} did not reach cluster_state:ok`)
    }
    return {
      nodes,
      nodesSetting: nodes.map(({ host, port }) => `${host}:${port}`).join(","),
      uncoverSlot: async () => {
        const port = String(nodes[0]!.port)
        const myself = (await run("redis-cli", ["-p", port, "CLUSTER", "NODES"])).split("\n")
          .find((line) => line.includes("myself"))
        const firstSlot = myself?.split(" ").slice(8).find((field) => /^\d/.test(field))?.split("-")[0]
        if (firstSlot === undefined) throw new Error(`cluster node ${port} owns no slot`)
        await run("redis-cli", ["-p", port, "CLUSTER", "DELSLOTS", firstSlot])
        for (let attempt = 0; attempt < 200; attempt++) {
          if ((await run("redis-cli", ["-p", port, "CLUSTER", "INFO"])).includes("cluster_state:fail")) return
          await pause(50)
        }
        throw new Error(`cluster node ${port} still reports cluster_state:ok without slot ${firstSlot}`)
      },
      killNode: async (index) => {
        const node = processes[index]
        if (node === undefined) throw new Error(`no cluster node ${index}`)
        node.child.kill("SIGKILL")
        await node.exited
      },
      keysPerNode: () =>
        Promise.all(nodes.map(async ({ port }) => Number(await run("redis-cli", ["-p", String(port), "DBSIZE"])))),
      stop
    }
  } catch (cause) {
    await stop()
    throw cause
  }
}
