// Redis faults against a redis-server this suite starts itself (own port, own directory): a
// stalled Redis (SIGSTOP) answers 503 within the command timeout and recovers on SIGCONT; a
// killed Redis restarted from its AOF (appendfsync always) has every acknowledged write; a Redis
// restarted empty is detected and refused (503 naming the instance marker, one loud log line)
// until an operator confirms with `ml-server init-redis`. The server keeps running throughout.
import { redisServerArguments } from "@org/ml-adapter-redis/testing"
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs/promises"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { initRedis, loadConfig, type RunningServer, startServer } from "../src/index.js"
import { metadata } from "./helpers.js"

const commandTimeoutMs = 500
/** What a 503 may take beyond the command timeout on a loaded CI machine; a hang is 10 s or more. */
const margin = 2500

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })

interface RedisProcess {
  readonly process: ChildProcess
  readonly exited: Promise<void>
}

/** Starts redis-server on `port` with its files in `dir`; resolves once it answers PING. */
const startRedis = async (port: number, dir: string, aof: boolean): Promise<RedisProcess> => {
  const child = spawn("redis-server", redisServerArguments(port, dir, { appendOnly: aof }), { stdio: "ignore" })
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  for (let attempt = 0; attempt < 100; attempt++) {
    if (await answersPing(port)) return { process: child, exited }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  child.kill("SIGKILL")
  throw new Error(`redis-server did not start on port ${port}`)
}

const answersPing = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(port, "127.0.0.1")
    socket.setTimeout(500)
    socket.once("connect", () => socket.write("PING\r\n"))
    socket.once("data", (data) => {
      socket.destroy()
      resolve(data.toString().startsWith("+PONG"))
    })
    socket.once("error", () => resolve(false))
    socket.once("timeout", () => {
      socket.destroy()
      resolve(false)
    })
  })

const kill = async (redis: RedisProcess) => {
  redis.process.kill("SIGKILL")
  await redis.exited
}

/** fetch with a hard limit, so a hanging request fails the test instead of stalling it. */
const request = (url: string, init: RequestInit = {}) => fetch(url, { ...init, signal: AbortSignal.timeout(15_000) })
const post = (url: string, body: unknown) =>
  request(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })

const timed = async (f: () => Promise<Response>) => {
  const started = performance.now()
  const response = await f()
  return { response, millis: performance.now() - started }
}

let port: number
let root: string
let storageDir: string
let redis: RedisProcess | undefined
let server: RunningServer | undefined
const logs: Array<string> = []

const env = (extra: Record<string, string> = {}) => ({
  ML_MODEL_STORAGE_DIR: storageDir,
  ML_PORT: "0",
  ML_REDIS_URL: `redis://127.0.0.1:${port}`,
  ML_REDIS_PREFIX: "faults:",
  ML_REDIS_COMMAND_TIMEOUT_MS: String(commandTimeoutMs),
  ML_REDIS_CONNECT_TIMEOUT_MS: "1000",
  ML_REDIS_MARKER_CHECK_MS: "200",
  ML_AB_REWEIGHT_INTERVAL: "0",
  ...extra
})

beforeAll(async () => {
  port = await freePort()
  root = await fs.mkdtemp(path.join(os.tmpdir(), "ml-redis-faults-"))
  storageDir = path.join(root, "artifacts")
  await fs.mkdir(path.join(root, "aof"))
  redis = await startRedis(port, path.join(root, "aof"), true)
  server = await startServer(loadConfig(env()), (line) => logs.push(line))
})

afterAll(async () => {
  await server?.close()
  if (redis !== undefined) await kill(redis)
  await fs.rm(root, { recursive: true, force: true })
})

const until = async (check: () => Promise<boolean>, what: string) => {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (await check().catch(() => false)) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`timed out waiting for ${what}`)
}

describe("Redis faults", { timeout: 120_000 }, () => {
  const registered: Array<{ id: string; version: string }> = []
  const register = async (version: string) => {
    const response = await post(`${server!.url}/v1/models`, metadata({ name: "faults", version }))
    expect(response.status).toBe(201)
    const { id } = (await response.json()) as { id: string }
    registered.push({ id, version })
    return id
  }

  it("answers 503 within the command timeout while Redis is stopped, and recovers on SIGCONT", async () => {
    const id = await register("stall-1")
    redis!.process.kill("SIGSTOP")
    try {
      for (const f of [() => request(`${server!.url}/v1/models/${id}`), () => request(`${server!.url}/readyz`)]) {
        const { millis, response } = await timed(f)
        expect(response.status).toBe(503)
        expect(millis).toBeLessThan(commandTimeoutMs + margin)
      }
      const write = await timed(() => post(`${server!.url}/v1/models`, metadata({ name: "faults", version: "x" })))
      expect(write.response.status).toBe(503)
      expect(write.millis).toBeLessThan(commandTimeoutMs + margin)
    } finally {
      redis!.process.kill("SIGCONT")
    }
    await until(async () => (await request(`${server!.url}/readyz`)).status === 200, "/readyz after SIGCONT")
    expect((await request(`${server!.url}/v1/models/${id}`)).status).toBe(200)
    await register("stall-2")
  })

  it("keeps every acknowledged write when Redis is killed and restarted from its AOF", async () => {
    const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => register(`aof-${i}`)))
    for (const id of ids.slice(0, 3)) {
      const artifact = new TextEncoder().encode(`weights of ${id}`)
      expect((await request(`${server!.url}/v1/models/${id}/artifact`, { method: "PUT", body: artifact })).status)
        .toBe(200)
      expect((await post(`${server!.url}/v1/models/${id}/promote`, { status: "testing" })).status).toBe(200)
    }
    const experiment = (await (await post(`${server!.url}/v1/experiments`, {
      name: "aof",
      targetMetric: "ctr",
      variants: [{ modelId: ids[0], isControl: true, trafficPct: 50 }, {
        modelId: ids[1],
        isControl: false,
        trafficPct: 50
      }]
    })).json()) as { id: string }
    expect((await post(`${server!.url}/v1/experiments/${experiment.id}/start`, {})).status).toBe(200)
    let acknowledgedSum = 0
    let acknowledgedCount = 0
    for (let batch = 0; batch < 10; batch++) {
      const values = Array.from({ length: 10 }, (_, i) => batch * 10 + i)
      const response = await post(`${server!.url}/v1/experiments/${experiment.id}/metrics`, {
        observations: values.map((value) => ({ modelId: ids[0], metric: "ctr", value }))
      })
      expect(response.status).toBe(202)
      acknowledgedSum += values.reduce((a, b) => a + b, 0)
      acknowledgedCount += values.length
    }

    await kill(redis!)
    // While it is down: 503 at once (no offline queue), never a hang.
    const down = await timed(() => request(`${server!.url}/v1/models/${ids[0]}`))
    expect(down.response.status).toBe(503)
    expect(down.millis).toBeLessThan(commandTimeoutMs + margin)
    redis = await startRedis(port, path.join(root, "aof"), true)
    await until(async () => (await request(`${server!.url}/readyz`)).status === 200, "/readyz after the restart")

    for (const { id, version } of registered) {
      const response = await request(`${server!.url}/v1/models/${id}`)
      expect(response.status).toBe(200)
      expect(await response.json()).toMatchObject({ id, version })
    }
    for (const id of ids.slice(0, 3)) {
      expect(await (await request(`${server!.url}/v1/models/${id}`)).json()).toMatchObject({ status: "testing" })
    }
    const results = (await (await request(`${server!.url}/v1/experiments/${experiment.id}/results`)).json()) as {
      variants: Array<{ modelId: string; metrics: Record<string, { n: number; mean: number }> }>
    }
    const control = results.variants.find((v) => v.modelId === ids[0])!
    expect(control.metrics.ctr!.n).toBe(acknowledgedCount)
    expect(control.metrics.ctr!.mean * acknowledgedCount).toBeCloseTo(acknowledgedSum, 6)
    expect(logs.some((line) => /instance marker/i.test(line))).toBe(false)
  })

  it("refuses an emptied Redis (503 naming the instance marker, one loud log line) until init-redis", async () => {
    const { id, version } = registered[0]!
    await kill(redis!)
    const emptyDir = path.join(root, "empty")
    await fs.mkdir(emptyDir)
    redis = await startRedis(port, emptyDir, false)

    // Until the client has reconnected, the 503s say Redis is unreachable; then they name the marker.
    let problem: { code: string; detail: string; status: number } | undefined
    await until(async () => {
      const refused = await request(`${server!.url}/v1/models/${id}`)
      problem = (await refused.json()) as typeof problem
      return refused.status === 503 && /instance marker/i.test(problem!.detail)
    }, "the emptied Redis to be refused")
    expect(problem!.code).toBe("StorageError")
    expect(problem!.detail).toMatch(/instance marker .* is missing/i)
    expect(problem!.detail).toMatch(/init-redis/)
    // The same name and version cannot be registered again into the empty Redis.
    expect((await post(`${server!.url}/v1/models`, metadata({ name: "faults", version }))).status).toBe(503)
    expect((await request(`${server!.url}/readyz`)).status).toBe(503)
    expect(logs.filter((line) => /instance marker/i.test(line))).toHaveLength(1)

    // A new instance with this data directory refuses to start on the empty Redis.
    await expect(startServer(loadConfig(env()), () => undefined)).rejects.toThrow(/instance marker/i)

    await initRedis(loadConfig(env()), () => undefined)
    await until(async () => (await request(`${server!.url}/readyz`)).status === 200, "/readyz after init-redis")
    expect((await request(`${server!.url}/v1/models/${id}`)).status).toBe(404)
    await register("after-init")
    const second = await startServer(loadConfig(env()), () => undefined)
    await second.close()
  })

  it("lets ML_REDIS_ACCEPT_EMPTY=1 start on an emptied Redis without init-redis", async () => {
    await kill(redis!)
    const emptyDir = path.join(root, "empty-2")
    await fs.mkdir(emptyDir)
    redis = await startRedis(port, emptyDir, false)
    await expect(startServer(loadConfig(env()), () => undefined)).rejects.toThrow(/instance marker/i)
    const accepting = await startServer(loadConfig(env({ ML_REDIS_ACCEPT_EMPTY: "1" })), () => undefined)
    try {
      expect((await request(`${accepting.url}/readyz`)).status).toBe(200)
    } finally {
      await accepting.close()
    }
  })
})
