// The fast path (FastPath.ts) against the Hono path, over real sockets: two servers on copies of
// one data directory (same ids, keys and state), one answering the hot routes from Node's request
// and response, one sending everything through Hono (ML_FAST_PATH=0). Every request goes to both
// in the same order; status, headers (except date) and body bytes must be equal, and the fast
// path must have answered the hot requests itself (so an equal answer is not Hono's twice).
import { getRequestListener } from "@hono/node-server"
import { PrometheusMetrics } from "@org/ml-adapter-prometheus"
import { redisServerArguments } from "@org/ml-adapter-redis/testing"
import { makeLearner } from "@org/ml-core"
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs/promises"
import * as http from "node:http"
import * as net from "node:net"
import type { AddressInfo } from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { fastPathOf } from "../src/FastPath.js"
import { loadConfig, makeRuntime, makeServerApp } from "../src/index.js"
import { json, metadata } from "./helpers.js"

const bootstrapToken = "bootstrap-admin-token-0123456789"
const maxJsonBytes = 4096

type App = ReturnType<typeof makeServerApp>

interface Served {
  readonly url: string
  /** Requests the fast path answered itself. */
  readonly handled: () => number
  readonly logs: Array<string>
  readonly close: () => Promise<void>
}

/** One app on `directory`, served over a socket with its fast path (`fast`) or Hono only. */
const serve = async (directory: string, env: Record<string, string>, fast: boolean): Promise<Served> => {
  const config = loadConfig({ ML_MODEL_STORAGE_DIR: directory, ...env })
  const registry = PrometheusMetrics.makeRegistry()
  const runtime = makeRuntime(config, registry)
  const logs: Array<string> = []
  const app = makeServerApp(config, runtime, registry, (line) => logs.push(line))
  const honoListener = getRequestListener(app.fetch)
  const fastPath = fast ? fastPathOf(app) : undefined
  if (fast) expect(fastPath).toBeDefined()
  let handled = 0
  const server = http.createServer((incoming, outgoing) => {
    if (fastPath?.(incoming, outgoing)) handled++
    else void honoListener(incoming, outgoing)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    handled: () => handled,
    logs,
    close: async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      await runtime.dispose()
    }
  }
}

interface Fixture {
  readonly experimentId: string
  readonly modelIds: ReadonlyArray<string>
  readonly tokens: Readonly<Record<"viewer" | "ingest" | "confined", string>>
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

/** Models, a started sticky experiment, a monitor with a baseline, a pipeline and keys, made in process. */
const makeFixture = async (app: App): Promise<Fixture> => {
  const post = async (route: string, body: unknown, method = "POST") => {
    const response = await app.request(route, json(body, { method, headers: bearer(bootstrapToken) }))
    expect(response.status, `${route}: ${await response.clone().text()}`).toBeLessThan(300)
    return response.json() as Promise<{ id: string; token: string }>
  }
  const modelIds: Array<string> = []
  for (const version of ["1.0.0", "2.0.0"]) modelIds.push((await post("/v1/models", metadata({ version }))).id)
  const experiment = await post("/v1/experiments", {
    name: "fast-path",
    targetMetric: "conversion",
    stickyAssignment: true,
    variants: modelIds.map((modelId, i) => ({ modelId, isControl: i === 0, trafficPct: 50 }))
  })
  await post(`/v1/experiments/${experiment.id}/start`, {})
  await post("/v1/drift/monitors", {
    id: "payments",
    features: [{ name: "amount", kind: "feature", type: "numeric" }, {
      name: "country",
      kind: "feature",
      type: "categorical"
    }],
    settings: { windowSize: 1000, minWindow: 100 }
  })
  await post("/v1/drift/monitors/payments/baseline", {
    amount: Array.from({ length: 200 }, (_, i) => 100 + (i % 17)),
    country: Array.from({ length: 200 }, (_, i) => ["de", "fr", "it"][i % 3])
  }, "PUT")
  const learnerConfig = {
    kind: "logistic",
    optimizer: { type: "sgd", learningRate: 0.1 },
    features: { type: "schema", names: ["a", "b"] }
  } as const
  const base = await post(
    "/v1/models",
    metadata({ name: "online-base", algorithm: "logistic_regression", framework: "ml-pipeline" })
  )
  const uploaded = await app.request(`/v1/models/${base.id}/artifact`, {
    method: "PUT",
    body: JSON.stringify(makeLearner(learnerConfig).state()),
    headers: { "content-type": "application/octet-stream", ...bearer(bootstrapToken) }
  })
  expect(uploaded.status).toBe(200)
  // A batch larger than the test sends: no update (its record has times and ids of its own).
  await post("/v1/pipelines", {
    id: "online",
    name: "online",
    modelId: base.id,
    strategy: "mini-batch",
    batchSize: 500
  })
  const key = async (name: string, role: string, modelNames?: ReadonlyArray<string>) =>
    (await post("/v1/keys", { name, role, ...(modelNames ? { modelNames } : {}) })).token
  return {
    experimentId: experiment.id,
    modelIds,
    tokens: {
      viewer: await key("viewer", "viewer"),
      ingest: await key("ingest", "ingest"),
      confined: await key("confined", "editor", ["other-*"])
    }
  }
}

interface Sent {
  readonly method?: string
  readonly path: string
  readonly headers: Record<string, string>
  /** Written one after another; without a content-length header the body goes chunked. */
  readonly chunks: ReadonlyArray<string | Uint8Array>
}

interface Received {
  readonly status: number
  readonly headers: ReadonlyArray<[string, string]>
  readonly body: string
}

/** Sends a request over a fresh connection; the answer's headers lower-cased and sorted, without date. */
const send = (base: string, { chunks, headers, method = "POST", path: route }: Sent) =>
  new Promise<Received>((resolve, reject) => {
    const req = http.request(`${base}${route}`, { method, headers, agent: false }, (res) => {
      const parts: Array<Buffer> = []
      res.on("data", (c: Buffer) => parts.push(c))
      res.on("end", () => {
        const pairs: Array<[string, string]> = []
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          const name = res.rawHeaders[i]!.toLowerCase()
          if (name !== "date") pairs.push([name, res.rawHeaders[i + 1]!])
        }
        pairs.sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
        resolve({ status: res.statusCode!, headers: pairs, body: Buffer.concat(parts).toString("latin1") })
      })
    })
    req.on("error", reject)
    for (const chunk of chunks) req.write(chunk)
    req.end()
  })

const jsonType = { "content-type": "application/json" }
const admin = { ...jsonType, ...bearer(bootstrapToken) }

/** Every case: a name, the request, and whether the fast path answers it (or hands it to Hono). */
const cases = (f: Fixture): ReadonlyArray<readonly [string, Sent, boolean]> => {
  const assignments = `/v1/experiments/${f.experimentId}/assignments`
  const metrics = `/v1/experiments/${f.experimentId}/metrics`
  const exposures = `/v1/experiments/${f.experimentId}/exposures`
  const observations = "/v1/drift/monitors/payments/observations"
  const samples = "/v1/pipelines/online/samples"
  const predict = "/v1/pipelines/online/predict"
  const body = (route: string, value: unknown, headers: Record<string, string> = admin): Sent => ({
    path: route,
    headers,
    chunks: [typeof value === "string" ? value : JSON.stringify(value)]
  })
  const big = JSON.stringify({ userIds: Array.from({ length: 600 }, (_, i) => `user-${i}`) })
  return [
    ["an assignment", body(assignments, { userId: "u-1" }), true],
    ["the same user again (sticky)", body(assignments, { userId: "u-1" }), true],
    ["a batch of assignments", body(assignments, { userIds: ["u-2", "u-3", "u-1"] }), true],
    ["a body in many small chunks", {
      path: assignments,
      headers: admin,
      chunks: JSON.stringify({ userId: "u-4" }).match(/.{1,3}/gs)!
    }, true],
    ["invalid JSON", body(assignments, "{\"userId\":"), true],
    ["an invalid field", body(assignments, { userId: 5 }), true],
    ["no userId at all", body(assignments, { user: "x" }), true],
    ["too deep", body(assignments, "[".repeat(200) + "]".repeat(200)), true],
    ["a body over the limit", body(assignments, big), true],
    ["a chunked body over the limit", { path: assignments, headers: admin, chunks: big.match(/.{1,1000}/gs)! }, true],
    ["content-type text/plain", body(assignments, { userId: "u-5" }, { ...admin, "content-type": "text/plain" }), true],
    [
      "content-type with a charset",
      body(assignments, { userId: "u-6" }, {
        ...admin,
        "content-type": "application/json; charset=utf-8"
      }),
      true
    ],
    ["no content-type (Hono)", body(assignments, { userId: "u-7" }, bearer(bootstrapToken)), false],
    ["an unknown experiment", body("/v1/experiments/nope/assignments", { userId: "u-1" }), true],
    ["no credential", body(assignments, { userId: "u-8" }, jsonType), true],
    ["a wrong token", body(assignments, { userId: "u-8" }, { ...jsonType, ...bearer("not-a-token-at-all") }), true],
    ["two Authorization headers", {
      path: assignments,
      headers: { ...jsonType, authorization: [`Bearer ${bootstrapToken}`, `Bearer ${bootstrapToken}`] } as never,
      chunks: [JSON.stringify({ userId: "u-8" })]
    }, true],
    ["a viewer (forbidden)", body(assignments, { userId: "u-9" }, { ...jsonType, ...bearer(f.tokens.viewer) }), true],
    ["an ingest key", body(assignments, { userId: "u-10" }, { ...jsonType, ...bearer(f.tokens.ingest) }), true],
    [
      "a key confined to other models",
      body(assignments, { userId: "u-11" }, {
        ...jsonType,
        ...bearer(f.tokens.confined)
      }),
      true
    ],
    ["an x-actor header", body(assignments, { userId: "u-12" }, { ...admin, "x-actor": "service-a" }), true],
    ["an x-actor too long", body(assignments, { userId: "u-12" }, { ...admin, "x-actor": "a".repeat(1000) }), true],
    ["an empty x-actor", body(assignments, { userId: "u-12" }, { ...admin, "x-actor": "" }), true],
    ["a query string (Hono)", body(`${assignments}?x=1`, { userId: "u-13" }), false],
    ["a trailing slash (Hono)", body(`${assignments}/`, { userId: "u-13" }), false],
    ["a percent-encoded id (Hono)", body("/v1/experiments/n%6Fpe/assignments", { userId: "u-13" }), false],
    ["PUT (Hono)", { ...body(assignments, { userId: "u-13" }), method: "PUT" }, false],
    ["a metric", body(metrics, { modelId: f.modelIds[1], metric: "conversion", value: 1 }), true],
    [
      "a batch of metrics",
      body(metrics, {
        observations: [{ modelId: f.modelIds[0], metric: "conversion", value: 0 }, {
          modelId: f.modelIds[1],
          metric: "revenue",
          value: 12.5
        }]
      }),
      true
    ],
    ["a metric of a model outside the experiment", body(metrics, { modelId: "m-x", metric: "c", value: 1 }), true],
    ["a metric that is not a number", body(metrics, { modelId: f.modelIds[0], metric: "c", value: "1" }), true],
    ["exposures", body(exposures, { exposures: [{ userId: "u-1", modelId: f.modelIds[0] }] }), true],
    ["invalid exposures", body(exposures, { exposures: [{ userId: 1 }] }), true],
    [
      "drift rows",
      body(observations, { rows: [{ amount: 101, country: "de" }, { amount: 140, country: "br" }] }),
      true
    ],
    ["drift columns", body(observations, { values: { amount: [99, 120, 130] } }), true],
    ["drift values of an unknown feature", body(observations, { values: { colour: ["red"] } }), true],
    ["drift rows with a bad value", body(observations, { rows: [{ amount: "lots" }] }), true],
    [
      "drift observations of an unknown monitor",
      body("/v1/drift/monitors/nope/observations", {
        values: { amount: [1] }
      }),
      true
    ],
    ["samples", body(samples, { samples: [{ sampleId: "s1", features: { a: 1, b: 2 }, label: 1 }] }), true],
    [
      "duplicate and new samples",
      body(samples, {
        samples: [{ sampleId: "s1", features: { a: 1, b: 2 }, label: 1 }, {
          sampleId: "s2",
          features: { a: -1, b: 0.5 },
          label: 0
        }]
      }),
      true
    ],
    ["a sample with a bad label", body(samples, { samples: [{ sampleId: "s3", features: { a: 1 }, label: 7 }] }), true],
    ["samples of an unknown pipeline", body("/v1/pipelines/nope/samples", { samples: [] }), true],
    ["a prediction", body(predict, { features: { a: 0.5, b: -0.25 } }), true],
    ["predictions", body(predict, { rows: [{ a: 1, b: 1 }, { a: -1, b: 0 }] }), true],
    ["a prediction with a bad feature", body(predict, { features: { a: "x" } }), true]
  ]
}

let dataDirs: Array<string> = []
const freshDirectory = async () => {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), "ml-fast-path-"))
  dataDirs.push(directory)
  return directory
}

/** The fixture made once, then two servers on copies of its data directory: fast path on and off. */
const makePair = async (env: Record<string, string>) => {
  const original = await freshDirectory()
  // Made without a rate limit: the fixture's requests would empty the bucket the test is about.
  const config = loadConfig({ ML_MODEL_STORAGE_DIR: original, ...env, ML_RATE_LIMIT_PER_SECOND: "0" })
  const runtime = makeRuntime(config, PrometheusMetrics.makeRegistry())
  const fixture = await makeFixture(makeServerApp(config, runtime, PrometheusMetrics.makeRegistry(), () => {}))
  await runtime.dispose()
  const copy = await freshDirectory()
  await fs.cp(original, copy, { recursive: true })
  return { fixture, fast: await serve(original, env, true), hono: await serve(copy, env, false) }
}

afterAll(async () => {
  await Promise.all(dataDirs.map((d) => fs.rm(d, { recursive: true, force: true })))
  dataDirs = []
})

describe("the fast path answers as the Hono path does", () => {
  const env = { ML_API_TOKEN: bootstrapToken, ML_MAX_JSON_BYTES: String(maxJsonBytes) }
  let pair: Awaited<ReturnType<typeof makePair>>
  beforeAll(async () => {
    pair = await makePair(env)
  }, 60_000)
  afterAll(async () => {
    await pair?.fast.close()
    await pair?.hono.close()
  })

  it("same status, headers and bytes for every case, and the fast path answered the hot ones", async () => {
    let expectedHandled = 0
    const statuses = new Set<number>()
    for (const [name, sent, hot] of cases(pair.fixture)) {
      const before = pair.fast.handled()
      const fast = await send(pair.fast.url, sent)
      const hono = await send(pair.hono.url, sent)
      expect(fast, name).toEqual(hono)
      expect(pair.fast.handled() - before, `${name}: answered by the fast path`).toBe(hot ? 1 : 0)
      if (hot) expectedHandled++
      statuses.add(fast.status)
    }
    expect(pair.fast.handled()).toBe(expectedHandled)
    expect(pair.hono.handled()).toBe(0)
    // The cases reach every kind of answer the brief names.
    expect([...statuses].sort()).toEqual(expect.arrayContaining([200, 202, 400, 401, 403, 404, 413, 415]))
    expect(pair.fast.logs).toEqual(pair.hono.logs)
  }, 60_000)

  it("counts the same requests under the same route labels in /metrics", async () => {
    const httpCounts = async (base: string) =>
      (await (await fetch(`${base}/metrics`, { headers: bearer(bootstrapToken) })).text()).split("\n").filter((line) =>
        line.startsWith("http_requests_total{") || line.startsWith("http_request_duration_seconds_count{")
      ).filter((line) => !line.includes("route=\"/metrics\"")).sort()
    const fast = await httpCounts(pair.fast.url)
    expect(fast.some((line) => line.includes("route=\"/v1/experiments/:id/assignments\""))).toBe(true)
    expect(fast).toEqual(await httpCounts(pair.hono.url))
  })
})

describe("rate limited", () => {
  const env = { ML_API_TOKEN: bootstrapToken, ML_RATE_LIMIT_PER_SECOND: "0.01", ML_RATE_LIMIT_BURST: "3" }
  let pair: Awaited<ReturnType<typeof makePair>>
  beforeAll(async () => {
    pair = await makePair(env)
  }, 60_000)
  afterAll(async () => {
    await pair?.fast.close()
    await pair?.hono.close()
  })

  it("answers 429 with the same Retry-After once a key's bucket is empty", async () => {
    const sent = {
      path: `/v1/experiments/${pair.fixture.experimentId}/assignments`,
      headers: admin,
      chunks: [JSON.stringify({ userId: "u-1" })]
    }
    const statuses: Array<number> = []
    for (let i = 0; i < 5; i++) {
      const fast = await send(pair.fast.url, sent)
      expect(fast, `request ${i}`).toEqual(await send(pair.hono.url, sent))
      statuses.push(fast.status)
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429])
    expect(pair.fast.handled()).toBe(5)
  }, 30_000)
})

/** A free loopback port (for a redis-server of this suite's own). */
const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      server.close(() => resolve(port))
    })
  })

describe("a stalled Redis", () => {
  let redis: ChildProcess
  let fast: Served
  let hono: Served
  let experimentId: string

  beforeAll(async () => {
    // A redis-server of this suite's own, so stalling it (SIGSTOP) disturbs nobody else.
    const port = await freePort()
    const redisDir = await freshDirectory()
    redis = spawn("redis-server", redisServerArguments(port, redisDir, { appendOnly: false }), { stdio: "ignore" })
    const env = {
      ML_REDIS_URL: `redis://127.0.0.1:${port}`,
      ML_REDIS_PREFIX: "fast-path:",
      ML_REDIS_COMMAND_TIMEOUT_MS: "300",
      ML_REDIS_CONNECT_TIMEOUT_MS: "1000"
    }
    for (let attempt = 0;; attempt++) {
      try {
        fast = await serve(await freshDirectory(), env, true)
        break
      } catch (error) {
        if (attempt > 50) throw error
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
    // Both servers share the Redis: the experiment made through one is the other's too.
    hono = await serve(await freshDirectory(), { ...env, ML_REDIS_ACCEPT_EMPTY: "1" }, false)
    const post = async (route: string, body: unknown) => {
      const response = await fetch(`${fast.url}${route}`, json(body))
      expect(response.status, route).toBeLessThan(300)
      return response.json() as Promise<{ id: string }>
    }
    const models = [
      await post("/v1/models", metadata({ version: "1.0.0" })),
      await post("/v1/models", metadata({ version: "2.0.0" }))
    ]
    const experiment = await post("/v1/experiments", {
      name: "stalled",
      targetMetric: "conversion",
      variants: models.map((m, i) => ({ modelId: m.id, isControl: i === 0, trafficPct: 50 }))
    })
    await post(`/v1/experiments/${experiment.id}/start`, {})
    experimentId = experiment.id
  }, 60_000)

  afterAll(async () => {
    redis?.kill("SIGCONT")
    await fast?.close()
    await hono?.close()
    redis?.kill("SIGKILL")
  })

  it("answers the same 503 on both paths", async () => {
    const sent = {
      path: `/v1/experiments/${experimentId}/assignments`,
      headers: jsonType,
      chunks: [JSON.stringify({ userId: "u-1" })]
    }
    expect(await send(fast.url, sent)).toEqual(await send(hono.url, sent))
    redis.kill("SIGSTOP")
    try {
      for (const userId of ["u-2", "u-3"]) {
        const stalled = { ...sent, chunks: [JSON.stringify({ userId })] }
        const answer = await send(fast.url, stalled)
        expect(answer.status, answer.body).toBe(503)
        expect(answer).toEqual(await send(hono.url, stalled))
      }
    } finally {
      redis.kill("SIGCONT")
    }
    expect(fast.handled()).toBe(3)
  }, 30_000)
})

describe("ML_FAST_PATH", () => {
  it("is on by default, off with 0, and refuses other values naming the variable", () => {
    expect(loadConfig({}).fastPath).toBe(true)
    expect(loadConfig({ ML_FAST_PATH: "0" }).fastPath).toBe(false)
    expect(loadConfig({ ML_FAST_PATH: "false" }).fastPath).toBe(false)
    expect(() => loadConfig({ ML_FAST_PATH: "fast" })).toThrow(/ML_FAST_PATH/)
  })
})
