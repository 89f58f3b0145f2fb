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
  /** Runs a redis-cli command on every node (e.g. ACL SETUSER: ACLs are per node). */
  readonly onEveryNode: (...args: ReadonlyArray<string>) => Promise<void>
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

/** A throwaway CA and a server certificate it signed, for 127.0.0.1 and localhost, as files. */
export interface TlsFiles {
  readonly caCert: string
  readonly serverCert: string
  readonly serverKey: string
  readonly remove: () => Promise<void>
}

/** Generates a CA and a server certificate with openssl in a temp directory (a few hundred ms). */
export const makeTlsFiles = async (): Promise<TlsFiles> => {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), "ml-redis-tls-"))
  const file = (name: string) => path.join(dir, name)
  try {
    await run("openssl", [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "2",
      "-subj",
      "/CN=ML Pipeline test CA",
      "-keyout",
      file("ca.key"),
      "-out",
      file("ca.crt")
    ])
    await run("openssl", [
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      "/CN=localhost",
      "-keyout",
      file("server.key"),
      "-out",
      file("server.csr")
    ])
    await fsp.writeFile(file("server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    await run("openssl", [
      "x509",
      "-req",
      "-in",
      file("server.csr"),
      "-CA",
      file("ca.crt"),
      "-CAkey",
      file("ca.key"),
      "-CAcreateserial",
      "-days",
      "2",
      "-extfile",
      file("server.ext"),
      "-out",
      file("server.crt")
    ])
  } catch (cause) {
    await fsp.rm(dir, { recursive: true, force: true })
    throw cause
  }
  return {
    caCert: file("ca.crt"),
    serverCert: file("server.crt"),
    serverKey: file("server.key"),
    remove: () => fsp.rm(dir, { recursive: true, force: true })
  }
}

export interface LocalRedisOptions {
  /** requirepass (and masterauth) of every node: clients must AUTH. */
  readonly password?: string | undefined
  /** Serve TLS only (tls-port; no plain port), with this certificate; the cluster bus uses TLS too. */
  readonly tls?: TlsFiles | undefined
}

/**
 * redis-server arguments for a node on 127.0.0.1:`port` with its files in `dir`: no snapshots, and
 * an append-only file fsynced on every write only when `appendOnly` (fault tests restart from it).
 */
export const redisServerArguments = (
  port: number,
  dir: string,
  options: LocalRedisOptions & { readonly appendOnly?: boolean } = {}
): Array<string> => [
  ...(options.tls === undefined ? ["--port", String(port)] : [
    "--port",
    "0",
    "--tls-port",
    String(port),
    "--tls-cert-file",
    options.tls.serverCert,
    "--tls-key-file",
    options.tls.serverKey,
    "--tls-ca-cert-file",
    options.tls.caCert,
    "--tls-auth-clients",
    "no",
    "--tls-cluster",
    "yes",
    "--tls-replication",
    "yes"
  ]),
  ...(options.password === undefined ? [] : ["--requirepass", options.password, "--masterauth", options.password]),
  ...["--bind", "127.0.0.1", "--dir", dir, "--save", ""],
  ...(options.appendOnly === true ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"])
]

/** redis-cli arguments to reach a node started with `options`. */
const cliArguments = (options: LocalRedisOptions): Array<string> => [
  ...(options.tls === undefined ? [] : ["--tls", "--cacert", options.tls.caCert]),
  ...(options.password === undefined ? [] : ["-a", options.password, "--no-auth-warning"])
]

/** A single redis-server started by a test, on a free port. */
export interface LocalRedis {
  readonly port: number
  readonly stop: () => Promise<void>
}

/** Starts one redis-server (files in a temp directory, no persistence); resolves once it answers PING. */
export const startLocalRedis = async (options: LocalRedisOptions = {}): Promise<LocalRedis> => {
  const port = await listenOnce(0)
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), "ml-redis-local-"))
  const child = spawn("redis-server", redisServerArguments(port, dir, options), { stdio: "ignore" })
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  const killOnExit = () => child.kill("SIGKILL")
  process.once("exit", killOnExit)
  const stop = async () => {
    process.off("exit", killOnExit)
    child.kill("SIGKILL")
    await exited
    await fsp.rm(dir, { recursive: true, force: true })
  }
  try {
    await waitForPing(port, options)
  } catch (cause) {
    await stop()
    throw cause
  }
  return { port, stop }
}

const waitForPing = async (port: number, options: LocalRedisOptions) => {
  for (let attempt = 0; attempt < 100; attempt++) {
    const answered = await run("redis-cli", [...cliArguments(options), "-p", String(port), "PING"])
      .then((out) => out.includes("PONG"), () => false)
    if (answered) return
    await pause(50)
  }
  throw new Error(`redis-server did not start on port ${port}`)
}

/**
 * Starts three redis-server masters in cluster mode on free 127.0.0.1 ports (files in temp
 * directories, no persistence), joins them with `redis-cli --cluster create` and waits until
 * every node reports cluster_state:ok. With `password` or `tls` every node requires them.
 */
export const startLocalCluster = async (
  options: LocalRedisOptions & { readonly masters?: number } = {}
): Promise<LocalCluster> => {
  const masters = options.masters ?? 3
  const cli = (port: number | string, ...args: ReadonlyArray<string>) =>
    run("redis-cli", [...cliArguments(options), "-p", String(port), ...args])
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
      const child = spawn(
        "redis-server",
        [
          ...redisServerArguments(port, dir, options),
          "--cluster-enabled",
          "yes",
          "--cluster-config-file",
          "nodes.conf"
        ],
        { stdio: "ignore" }
      )
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
      processes.push({ child, exited, dir })
      nodes.push({ host: "127.0.0.1", port })
    }
    for (const { port } of nodes) await waitForPing(port, options)
    await run("redis-cli", [
      ...cliArguments(options),
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
        ok = (await cli(port, "CLUSTER", "INFO")).includes("cluster_state:ok")
        if (!ok) await pause(50)
      }
      if (!ok) throw new Error(`cluster node ${port} did not reach cluster_state:ok`)
    }
    return {
      nodes,
      nodesSetting: nodes.map(({ host, port }) => `${host}:${port}`).join(","),
      uncoverSlot: async () => {
        const port = String(nodes[0]!.port)
        const myself = (await cli(port, "CLUSTER", "NODES")).split("\n")
          .find((line) => line.includes("myself"))
        const firstSlot = myself?.split(" ").slice(8).find((field) => /^\d/.test(field))?.split("-")[0]
        if (firstSlot === undefined) throw new Error(`cluster node ${port} owns no slot`)
        await cli(port, "CLUSTER", "DELSLOTS", firstSlot)
        for (let attempt = 0; attempt < 200; attempt++) {
          if ((await cli(port, "CLUSTER", "INFO")).includes("cluster_state:fail")) return
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
      onEveryNode: async (...args) => {
        for (const { port } of nodes) {
          const output = await cli(port, ...args)
          if (output.startsWith("(error)") || output.startsWith("ERR")) {
            throw new Error(`${args[0]} on ${port}: ${output}`)
          }
        }
      },
      keysPerNode: () => Promise.all(nodes.map(async ({ port }) => Number(await cli(port, "DBSIZE")))),
      stop
    }
  } catch (cause) {
    await stop()
    throw cause
  }
}
