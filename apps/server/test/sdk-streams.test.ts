/**
 * The SDK event streams and the cached features payload, over real sockets: a deleted SDK
 * connection's open `/sub` stream ends (on the instance that deleted it and, through Redis, on
 * another) and new ones are refused like the payload; SIGTERM to a real server process with open
 * `/sub` and `/v1/experiment-stream` streams exits well within the grace period, the streams
 * ended; the payload is built once per change however many requests read it, a client reads its
 * own re-split at once, and a re-split made on instance A reaches instance B's payload within a
 * second (Redis shared).
 */
import { connectOrFail, deleteKeysWithPrefix, redisUrl, uniquePrefix } from "@org/ml-adapter-redis/testing"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { loadConfig, type RunningServer, startServer } from "../src/index.js"
import { payloadBuildsSoFar } from "../src/routes/sdk.js"
import { metadata } from "./helpers.js"
import { killHard, startServer as startServerProcess } from "./serverProcess.js"

const directories: Array<string> = []
const servers: Array<RunningServer> = []
const redis = await connectOrFail()
const prefix = uniquePrefix("sdk-streams")

afterAll(async () => {
  for (const server of servers) await server.close().catch(() => undefined)
  await deleteKeysWithPrefix(redis, prefix)
  await redis.quit()
  for (const directory of directories) await fs.rm(directory, { recursive: true, force: true })
})

const tempDirectory = async () => {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), "ml-sdk-streams-"))
  directories.push(directory)
  return directory
}

const start = async (env: Record<string, string> = {}, directory?: string) => {
  const server = await startServer(
    loadConfig({
      ML_MODEL_STORAGE_DIR: directory ?? await tempDirectory(),
      ML_PORT: "0",
      ML_HOST: "127.0.0.1",
      ...env
    }),
    () => undefined
  )
  servers.push(server)
  return server.url
}

const send = async (url: string, method: string, body?: unknown) => {
  const response = await fetch(url, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  if (response.status >= 300) throw new Error(`${method} ${url}: ${response.status} ${await response.text()}`)
  return response.status === 204 ? undefined : await response.json() as any
}

/** A running 50/50 experiment over two fresh models and an SDK connection, made through `url`. */
const setUp = async (url: string) => {
  const ids: Array<string> = []
  for (const version of ["1", "2"]) {
    const model = await send(`${url}/v1/models`, "POST", metadata({ name: `streams-${Math.random()}`, version }))
    await fetch(`${url}/v1/models/${model.id}/artifact`, { method: "PUT", body: new Uint8Array([1]) })
    ids.push(model.id)
  }
  const experiment = await send(`${url}/v1/experiments`, "POST", {
    name: "streams",
    targetMetric: "ctr",
    variants: ids.map((modelId, i) => ({ modelId, isControl: i === 0, trafficPct: 50 }))
  })
  await send(`${url}/v1/experiments/${experiment.id}/start`, "POST")
  const connection = await send(`${url}/v1/sdk-connections`, "POST", { name: "web" })
  return { experimentId: experiment.id as string, connection: connection as { id: string; clientKey: string } }
}

/** Opens an event stream; `ended` resolves (with the time) when the server ends it, `events` counts events. */
const openStream = async (url: string) => {
  const controller = new AbortController()
  const response = await fetch(url, { signal: controller.signal })
  expect(response.status).toBe(200)
  const reader = response.body!.getReader()
  const decoder = new TextDecoder()
  let text = ""
  const ended = (async () => {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return performance.now()
      text += decoder.decode(value, { stream: true })
    }
  })()
  // A stream the server never ends would fail the test by timeout; this keeps vitest from waiting on it.
  ended.catch(() => undefined)
  return {
    ended,
    events: () => text.split("\n\n").filter((b) => b.startsWith("event: ")).length,
    abort: () => controller.abort()
  }
}

const within = <A>(promise: Promise<A>, ms: number, what: string) =>
  Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms))
  ])

const weightOn = async (url: string, clientKey: string, experimentId: string) => {
  const payload = await send(`${url}/api/features/${clientKey}`, "GET")
  return payload.features[experimentId]?.rules[0]?.weights?.[1] as number | undefined
}

describe("SDK event streams", () => {
  it("a deleted connection's open /sub stream ends at once, and new ones are refused like its payload", async () => {
    const url = await start()
    const { connection } = await setUp(url)
    const stream = await openStream(`${url}/sub/${connection.clientKey}`)
    await within(
      (async () => {
        while (stream.events() === 0) await new Promise((resolve) => setTimeout(resolve, 20))
      })(),
      2_000,
      "the first features event"
    )
    const deletedAt = performance.now()
    await send(`${url}/v1/sdk-connections/${connection.id}`, "DELETE")
    const endedAt = await within(stream.ended, 2_000, "the stream's end after the deletion")
    expect(endedAt - deletedAt).toBeLessThan(1_000)
    expect((await fetch(`${url}/sub/${connection.clientKey}`)).status).toBe(404)
    expect((await fetch(`${url}/api/features/${connection.clientKey}`)).status).toBe(404)
  })

  it("Redis: a connection deleted through instance A ends its stream on instance B within a second", async () => {
    const directory = await tempDirectory()
    const env = { ML_REDIS_URL: redisUrl, ML_REDIS_PREFIX: prefix }
    const a = await start(env, directory)
    const b = await start(env, directory)
    const { connection } = await setUp(a)
    const stream = await openStream(`${b}/sub/${connection.clientKey}`)
    await new Promise((resolve) => setTimeout(resolve, 300))
    const deletedAt = performance.now()
    await send(`${a}/v1/sdk-connections/${connection.id}`, "DELETE")
    const endedAt = await within(stream.ended, 3_000, "the stream's end on the other instance")
    expect(endedAt - deletedAt).toBeLessThan(1_000)
    expect((await fetch(`${b}/sub/${connection.clientKey}`)).status).toBe(404)
  })

  it("SIGTERM with open /sub and /v1/experiment-stream streams ends them and exits at once", async () => {
    const directory = await tempDirectory()
    // A grace period far longer than the test's bound: waiting it out would fail the test.
    const server = await startServerProcess(directory, { ML_SHUTDOWN_TIMEOUT_MS: "60000" })
    try {
      const { connection } = await setUp(server.url)
      const streams = [
        await openStream(`${server.url}/sub/${connection.clientKey}`),
        await openStream(`${server.url}/v1/experiment-stream`)
      ]
      await new Promise((resolve) => setTimeout(resolve, 300))
      const exited = new Promise<number | null>((resolve) => server.child.once("exit", (code) => resolve(code)))
      const signalledAt = performance.now()
      server.child.kill("SIGTERM")
      expect(await within(exited, 10_000, "the process's exit")).toBe(0)
      expect(performance.now() - signalledAt).toBeLessThan(10_000)
      for (const stream of streams) await within(stream.ended, 1_000, "the stream's end")
    } finally {
      await killHard(server.child)
    }
  })
})

describe("the cached features payload", () => {
  it("is built once per change however many requests read it; a client reads its own re-split at once", async () => {
    const url = await start()
    const { connection, experimentId } = await setUp(url)
    const features = `${url}/api/features/${connection.clientKey}`
    const first = await fetch(features)
    const etag = first.headers.get("etag")!
    const before = payloadBuildsSoFar()
    for (let i = 0; i < 200; i++) {
      const again = await fetch(features)
      expect(again.headers.get("etag")).toBe(etag)
      await again.arrayBuffer()
    }
    expect(payloadBuildsSoFar() - before).toBeLessThanOrEqual(1)
    await send(`${url}/v1/experiments/${experimentId}`, "PATCH", { trafficPct: [30, 70] })
    expect(await weightOn(url, connection.clientKey, experimentId)).toBe(0.7)
    const changed = await fetch(features, { headers: { "if-none-match": etag } })
    expect(changed.status).toBe(200)
    expect(changed.headers.get("etag")).not.toBe(etag)
  })

  it("Redis: a re-split made on instance A reaches instance B's (warm) payload within a second", async () => {
    const directory = await tempDirectory()
    const env = { ML_REDIS_URL: redisUrl, ML_REDIS_PREFIX: prefix }
    const a = await start(env, directory)
    const b = await start(env, directory)
    const { connection, experimentId } = await setUp(a)
    // B serves from its kept payload now.
    expect(await weightOn(b, connection.clientKey, experimentId)).toBe(0.5)
    expect(await weightOn(b, connection.clientKey, experimentId)).toBe(0.5)
    await send(`${a}/v1/experiments/${experimentId}`, "PATCH", { trafficPct: [20, 80] })
    const changedAt = performance.now()
    while ((await weightOn(b, connection.clientKey, experimentId)) !== 0.8) {
      expect(performance.now() - changedAt).toBeLessThan(1_000)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  })
})
