/**
 * SDK connections are stored in every store, over real sockets: on files a client key survives a
 * restart; on Redis and on PostgreSQL a connection created through one instance serves its
 * payload (and its deletion stops it) through another; the change feed of each instance sees a
 * re-split made through the other within a second (the /sub stream). With authentication on, the
 * client key reads the payload without a token, and the admin routes and the experiment stream
 * still need one.
 */
import { freshDatabase } from "@org/ml-adapter-postgres/testing"
import { connectOrFail, deleteKeysWithPrefix, redisUrl, uniquePrefix } from "@org/ml-adapter-redis/testing"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { loadConfig, type RunningServer, startServer } from "../src/index.js"
import { metadata } from "./helpers.js"

const directories: Array<string> = []
const servers: Array<RunningServer> = []
const redis = await connectOrFail()
const prefix = uniquePrefix("sdk-connections")
const database = await freshDatabase("sdkconnections")

afterAll(async () => {
  for (const server of servers) await server.close().catch(() => undefined)
  await deleteKeysWithPrefix(redis, prefix)
  await redis.quit()
  await database.drop()
  for (const directory of directories) await fs.rm(directory, { recursive: true, force: true })
})

const start = async (env: Record<string, string>, directory?: string) => {
  const dir = directory ?? await fs.mkdtemp(path.join(os.tmpdir(), "ml-sdk-connections-"))
  if (directory === undefined) directories.push(dir)
  const server = await startServer(
    loadConfig({ ML_MODEL_STORAGE_DIR: dir, ML_PORT: "0", ML_HOST: "127.0.0.1", ...env }),
    () => undefined
  )
  servers.push(server)
  return { server, url: server.url, directory: dir }
}

const post = (url: string, body: unknown, token?: string) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body)
  })

/** A running 50/50 experiment over two fresh models, created through `url`. */
const runningExperiment = async (url: string, token?: string) => {
  const auth = token ? { authorization: `Bearer ${token}` } : {}
  const ids: Array<string> = []
  for (const version of ["1", "2"]) {
    const model = (await (await post(
      `${url}/v1/models`,
      metadata({ name: `sdkc-${Math.random().toString(36).slice(2, 8)}`, version }),
      token
    )).json()) as { id: string }
    await fetch(`${url}/v1/models/${model.id}/artifact`, { method: "PUT", body: new Uint8Array([1]), headers: auth })
    ids.push(model.id)
  }
  const experiment = (await (await post(`${url}/v1/experiments`, {
    name: "sdkc",
    targetMetric: "ctr",
    variants: ids.map((modelId, i) => ({ modelId, isControl: i === 0, trafficPct: 50 }))
  }, token)).json()) as { id: string }
  await fetch(`${url}/v1/experiments/${experiment.id}/start`, { method: "POST", headers: auth })
  return { id: experiment.id, ids }
}

type Payload = { features: Record<string, { rules: Array<{ weights?: Array<number> }> }> }

/** Reads `/sub/{clientKey}` until a `features` event satisfies `done`; answers when it arrived. */
const watchFeatures = async (url: string, clientKey: string, done: (payload: Payload) => boolean) => {
  const controller = new AbortController()
  const response = await fetch(`${url}/sub/${clientKey}`, { signal: controller.signal })
  expect(response.headers.get("content-type")).toContain("text/event-stream")
  const reader = response.body!.getReader()
  const decoder = new TextDecoder()
  let buffer = ""
  const next = (async () => {
    for (;;) {
      const { done: ended, value } = await reader.read()
      if (ended) throw new Error("stream ended")
      buffer += decoder.decode(value, { stream: true })
      let end: number
      while ((end = buffer.indexOf("\n\n")) !== -1) {
        const block = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        const data = block.split("\n").find((l) => l.startsWith("data: "))
        if (block.startsWith("event: features") && data && done(JSON.parse(data.slice(6)) as Payload)) {
          return performance.now()
        }
      }
    }
  })()
  return { next, close: () => controller.abort() }
}

const createConnection = async (url: string, token?: string) =>
  (await (await post(`${url}/v1/sdk-connections`, { name: "web" }, token)).json()) as {
    id: string
    clientKey: string
  }

describe("SDK connections in every store", () => {
  it("files: a client key survives a restart", async () => {
    const first = await start({})
    const experiment = await runningExperiment(first.url)
    const connection = await createConnection(first.url)
    await first.server.close()
    servers.splice(servers.indexOf(first.server), 1)
    const again = await start({}, first.directory)
    const response = await fetch(`${again.url}/api/features/${connection.clientKey}`)
    expect(response.status).toBe(200)
    expect(Object.keys(((await response.json()) as Payload).features)).toEqual([experiment.id])
    const events = (await (await fetch(`${again.url}/v1/sdk-connections/events`)).json()) as {
      items: Array<{ connectionId: string }>
    }
    expect(events.items.map((e) => e.connectionId)).toEqual([connection.id])
  })

  const shared: ReadonlyArray<[string, () => Record<string, string>]> = [
    ["Redis", () => ({ ML_REDIS_URL: redisUrl, ML_REDIS_PREFIX: prefix })],
    ["PostgreSQL", () => ({ ML_DATABASE_URL: database.url })]
  ]
  it.each(shared)("%s: one instance's connection and re-split reach another within a second", async (_name, env) => {
    const directory = await fs.mkdtemp(path.join(os.tmpdir(), "ml-sdk-connections-"))
    directories.push(directory)
    // Two instances sharing the store (and, as deployments do, the artifact directory).
    const a = await start(env(), directory)
    const b = await start(env(), directory)
    const experiment = await runningExperiment(a.url)
    const connection = await createConnection(a.url)
    expect((await fetch(`${b.url}/api/features/${connection.clientKey}`)).status).toBe(200)

    const watch = await watchFeatures(
      b.url,
      connection.clientKey,
      (payload) => payload.features[experiment.id]?.rules[0]?.weights?.[1] === 0.9
    )
    await new Promise((resolve) => setTimeout(resolve, 300))
    const changed = await fetch(`${a.url}/v1/experiments/${experiment.id}`, {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ trafficPct: [10, 90] })
    })
    expect(changed.status).toBe(200)
    const changedAt = performance.now()
    const arrivedAt = await watch.next
    watch.close()
    expect(arrivedAt - changedAt).toBeLessThan(1_000)

    expect((await fetch(`${a.url}/v1/sdk-connections/${connection.id}`, { method: "DELETE" })).status).toBe(204)
    expect((await fetch(`${b.url}/api/features/${connection.clientKey}`)).status).toBe(404)
  })

  it("with authentication on: the client key needs no token; admin routes and the experiment stream do", async () => {
    const token = "bootstrap-token-for-sdk-connections-test"
    const { url } = await start({ ML_API_TOKEN: token })
    await runningExperiment(url, token)
    expect((await post(`${url}/v1/sdk-connections`, { name: "web" })).status).toBe(401)
    expect((await fetch(`${url}/v1/experiment-stream`)).status).toBe(401)
    const connection = await createConnection(url, token)
    expect((await fetch(`${url}/api/features/${connection.clientKey}`)).status).toBe(200)
    expect((await fetch(`${url}/api/features/sdk-unknown`)).status).toBe(404)
    // A viewer key may read experiments (the stream) but not manage connections.
    const viewer = (await (await post(`${url}/v1/keys`, { name: "viewer", role: "viewer" }, token)).json()) as {
      token: string
    }
    expect((await fetch(`${url}/v1/sdk-connections`, { headers: { authorization: `Bearer ${viewer.token}` } })).status)
      .toBe(403)
    const controller = new AbortController()
    const stream = await fetch(`${url}/v1/experiment-stream`, {
      headers: { authorization: `Bearer ${viewer.token}` },
      signal: controller.signal
    })
    expect(stream.status).toBe(200)
    const first = new TextDecoder().decode((await stream.body!.getReader().read()).value)
    expect(first).toMatch(/^event: experiments\ndata: \{"items":\[/u)
    controller.abort()
  })
})
